"""Topic settings for a real cluster come from the environment (KAFKA_*), checked at start."""

from uuid import uuid4

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from pydantic import ValidationError

from receivables_devkit.infra.apache_kafka import ApacheKafka
from receivables_platform.kafka.topics import ensure_topics
from receivables_platform.settings import KafkaSettings


def test_min_insync_replicas_above_the_replication_factor_is_refused(monkeypatch) -> None:
    """Every acks=all write to such a topic would fail: refuse the setting, not the writes."""
    monkeypatch.setenv("KAFKA_REPLICATION_FACTOR", "2")
    monkeypatch.setenv("KAFKA_MIN_INSYNC_REPLICAS", "3")
    with pytest.raises(ValidationError, match="KAFKA_MIN_INSYNC_REPLICAS=3"):
        KafkaSettings()


def test_topic_settings_are_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("KAFKA_TOPIC_PARTITIONS", "6")
    monkeypatch.setenv("KAFKA_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("KAFKA_MIN_INSYNC_REPLICAS", "2")
    settings = KafkaSettings()
    assert (
        settings.topic_partitions,
        settings.replication_factor,
        settings.min_insync_replicas,
    ) == (6, 3, 2)


@pytest.mark.apache_kafka
async def test_created_topics_carry_min_insync_replicas(apache_kafka: ApacheKafka) -> None:
    bootstrap, topic = apache_kafka.bootstrap_servers, f"isr.{uuid4().hex[:8]}.v1"
    await ensure_topics(
        KafkaSettings(bootstrap_servers=bootstrap, topic_partitions=2, min_insync_replicas=1),
        [topic],
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)]
        )
        [[*_, entries]] = [r[:5] for r in described.resources]
        configs = {entry[0]: entry[1] for entry in entries}
        [info] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    assert configs["min.insync.replicas"] == "1" and configs["retention.ms"] == "-1"
    assert len(info["partitions"]) == 2
