"""Topics: one per bounded context, keyed by account id, retention unlimited, plus `<topic>.dlq`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from receivables_platform.settings import KafkaSettings

DLQ_SUFFIX = ".dlq"
UNLIMITED_RETENTION = {"retention.ms": "-1", "retention.bytes": "-1"}


def dead_letter_topic(topic: str) -> str:
    return topic + DLQ_SUFFIX


def topic_configs(kafka: KafkaSettings) -> dict[str, str]:
    """Kept forever (the topics are the platform's history), replicated as configured."""
    configs = dict(UNLIMITED_RETENTION)
    if kafka.min_insync_replicas is not None:
        configs["min.insync.replicas"] = str(kafka.min_insync_replicas)
    return configs


async def ensure_topics(
    kafka: KafkaSettings, topics: Iterable[str], *, with_dead_letters: bool = True
) -> None:
    """Create missing topics; existing ones are left as the platform team configured them."""
    wanted = set(topics)
    if with_dead_letters:
        wanted |= {dead_letter_topic(t) for t in wanted if not t.endswith(DLQ_SUFFIX)}
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        missing = wanted - set(await admin.list_topics())
        if not missing:
            return
        new = [
            NewTopic(
                name,
                kafka.topic_partitions,
                kafka.replication_factor,
                topic_configs=topic_configs(kafka),
            )
            for name in sorted(missing)
        ]
        # another service may create one between our list and create
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(new)
    finally:
        await admin.close()
