"""Self-healing after broker data loss, on Apache Kafka: what is not a loss stays quiet.

A consumer reads a partition again from the beginning when the record before
its stored offset is gone or different (`consumer.healing`). On a real cluster
three things change a partition's log without losing what the consumer
applied: retention deleting old segments, a leader change, and followers
truncating records no consumer could have seen (above the high watermark)
after an election. None of them may set off a re-read; a log that really was
lost still must. An unclean election is both: the out-of-sync replica that
takes over lacks records every consumer may already have applied, so a
position inside the kept part is no loss and a position in the truncated part
is a real one (the re-read then applies only what is new: processed_events).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from receivables_devkit.infra.apache_kafka import ApacheKafka, KafkaCluster
from receivables_platform.consumer.healing import LossDetector, Verdict
from receivables_platform.consumer.offsets import Position
from receivables_platform.kafka.topics import ensure_topics
from receivables_platform.settings import KafkaSettings

pytestmark = [pytest.mark.slow, pytest.mark.apache_kafka, pytest.mark.timeout(240)]


async def produce(bootstrap: str, topic: str, count: int, *, idempotent: bool = True) -> list[str]:
    """`count` records on partition 0, acked by every in-sync replica; their event ids."""
    ids = [str(uuid4()) for _ in range(count)]
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=idempotent
    )
    await producer.start()
    try:
        for event_id in ids:
            await producer.send_and_wait(
                topic, b"{}", key=b"account", partition=0, headers=[("ce_id", event_id.encode())]
            )
    finally:
        await producer.stop()
    return ids


async def settled_verdict(
    bootstrap: str, tp: TopicPartition, position: Position, within: float = 60.0
) -> Verdict:
    """Ask until the broker answers for the partition (an election takes a moment)."""
    detector = LossDetector(KafkaSettings(bootstrap_servers=bootstrap))
    await detector.start()
    try:
        deadline = time.monotonic() + within
        while True:
            verdict = await detector.examine({tp: position})
            if tp not in verdict.unverified or time.monotonic() > deadline:
                return verdict
            await asyncio.sleep(0.5)
    finally:
        await detector.stop()


def applied_up_to(ids: Sequence[str], count: int) -> Position:
    """The position a consumer stores after applying the first `count` records."""
    return Position(next_offset=count, last_event_id=ids[count - 1])


async def test_retention_deleting_the_applied_records_is_not_a_loss(
    apache_kafka: ApacheKafka,
) -> None:
    bootstrap, topic = apache_kafka.bootstrap_servers, f"retained.{uuid4().hex[:8]}.v1"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    topic,
                    1,
                    1,
                    topic_configs={
                        "retention.ms": "1000",
                        "segment.ms": "200",
                        "file.delete.delay.ms": "0",
                    },
                )
            ]
        )
    finally:
        await admin.close()
    ids = await produce(bootstrap, topic, 5)
    tp, position = TopicPartition(topic, 0), applied_up_to(ids, 5)
    detector = LossDetector(KafkaSettings(bootstrap_servers=bootstrap))
    await detector.start()
    try:
        deadline = time.monotonic() + 60
        # a segment rolls only when a record arrives after segment.ms: keep writing
        while (await detector.beginning_offsets([tp]))[tp] < position.next_offset:
            assert time.monotonic() < deadline, "retention never deleted the applied records"
            await produce(bootstrap, topic, 1)
            await asyncio.sleep(0.5)
    finally:
        await detector.stop()
    verdict = await settled_verdict(bootstrap, tp, position)
    assert verdict.lost == {} and verdict.unverified == set()


async def test_a_lost_log_is_still_caught_on_apache_kafka(apache_kafka: ApacheKafka) -> None:
    """The broker's disk gone and the relay already publishing again: same offsets, other
    records underneath (what `restart()` makes real here)."""
    bootstrap, topic = apache_kafka.bootstrap_servers, f"lost.{uuid4().hex[:8]}.v1"
    settings = KafkaSettings(bootstrap_servers=bootstrap, topic_partitions=1)
    await ensure_topics(settings, [topic], with_dead_letters=False)
    ids = await produce(bootstrap, topic, 4)
    await asyncio.to_thread(apache_kafka.restart)
    await ensure_topics(settings, [topic], with_dead_letters=False)
    await produce(bootstrap, topic, 6)
    tp = TopicPartition(topic, 0)
    verdict = await settled_verdict(bootstrap, tp, applied_up_to(ids, 4))
    assert tp in verdict.lost, verdict


async def leader_of(bootstrap: str, topic: str, partition: int = 0) -> tuple[int, list[int]]:
    """Leader and in-sync replicas; (-1, []) while the cluster cannot say (a node just died
    may still be the one the admin client asks)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        [described] = await admin.describe_topics([topic])
    except KafkaError:
        return -1, []
    finally:
        await admin.close()
    found = [p for p in described["partitions"] if p["partition"] == partition]
    if not found:  # a topic just created may not be in every node's metadata yet
        return -1, []
    return found[0]["leader"], sorted(found[0]["isr"])


async def test_a_leader_change_is_not_a_loss(kafka_cluster: KafkaCluster) -> None:
    bootstrap, topic = kafka_cluster.bootstrap_servers, f"led.{uuid4().hex[:8]}.v1"
    settings = KafkaSettings(
        bootstrap_servers=bootstrap, topic_partitions=1, replication_factor=3, min_insync_replicas=2
    )
    await ensure_topics(settings, [topic], with_dead_letters=False)
    ids = await produce(bootstrap, topic, 20)
    leader, isr = await leader_of(bootstrap, topic)
    assert sorted(isr) == [1, 2, 3]

    await asyncio.to_thread(kafka_cluster.node(leader).kill)
    survivors = ",".join(n.bootstrap_servers for n in kafka_cluster.nodes if n.node_id != leader)
    deadline = time.monotonic() + 60
    while (new_leader := (await leader_of(survivors, topic))[0]) in (leader, -1):
        assert time.monotonic() < deadline, "no new leader was elected"
        await asyncio.sleep(0.5)
    more = await produce(survivors, topic, 5)  # the new leader's epoch has records too
    tp = TopicPartition(topic, 0)
    for applied in (applied_up_to(ids, 20), applied_up_to(ids + more, 25)):
        verdict = await settled_verdict(survivors, tp, applied)
        assert verdict.lost == {} and verdict.unverified == set(), (new_leader, verdict)

    # the old leader comes back as a follower and truncates to the new leader's log
    await asyncio.to_thread(kafka_cluster.node(leader).start)
    verdict = await settled_verdict(bootstrap, tp, applied_up_to(ids + more, 25))
    assert verdict.lost == {} and verdict.unverified == set()


async def isr_becomes(
    bootstrap: str, topic: str, wanted: tuple[int, list[int]], within: float = 60.0
) -> None:
    deadline = time.monotonic() + within
    while (found := await leader_of(bootstrap, topic)) != (wanted[0], sorted(wanted[1])):
        assert time.monotonic() < deadline, f"leader and ISR {found}, waited for {wanted}"
        await asyncio.sleep(0.5)


async def test_an_unclean_election_loses_only_what_the_new_leader_never_had(
    kafka_cluster: KafkaCluster,
) -> None:
    """Replicas on nodes 1 (leader) and 2; node 3 only keeps the controller quorum alive,
    which in this combined-mode cluster allows one node out at a time. Node 2 falls out of
    sync (frozen until fenced), node 1 takes writes alone, then node 1 freezes while node 2
    comes back: the topic allows an unclean election, node 2 leads without node 1's last
    records, and the producer writes new ones at their offsets."""
    bootstrap, topic = kafka_cluster.bootstrap_servers, f"unclean.{uuid4().hex[:8]}.v1"
    first, second, bystander = (kafka_cluster.node(n) for n in (1, 2, 3))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    topic,
                    -1,
                    -1,
                    replica_assignments={0: [1, 2]},
                    topic_configs={
                        "unclean.leader.election.enable": "true",
                        "min.insync.replicas": "1",
                    },
                )
            ]
        )
    finally:
        await admin.close()
    await isr_becomes(bootstrap, topic, (1, [1, 2]))
    both = await produce(bootstrap, topic, 5)  # offsets 0-4 on both replicas
    try:
        second.freeze()
        await isr_becomes(
            f"{first.bootstrap_servers},{bystander.bootstrap_servers}", topic, (1, [1])
        )
        only_first = await produce(first.bootstrap_servers, topic, 5)  # 5-9, node 1 alone
        first.freeze()
        second.thaw()
        survivors = f"{second.bootstrap_servers},{bystander.bootstrap_servers}"
        deadline = time.monotonic() + 90
        while (await leader_of(survivors, topic))[0] != 2:
            assert time.monotonic() < deadline, "node 2 was never elected (unclean)"
            await asyncio.sleep(0.5)
        # a new producer: the old one's sequence numbers belong to the log node 2 lacks
        rewritten = await produce(survivors, topic, 8, idempotent=False)  # 5-12 anew
        tp = TopicPartition(topic, 0)

        kept = await settled_verdict(survivors, tp, applied_up_to(both, 5))
        assert kept.lost == {} and kept.unverified == set(), kept
        truncated = await settled_verdict(survivors, tp, applied_up_to(both + only_first, 10))
        assert tp in truncated.lost, truncated
        after = await settled_verdict(survivors, tp, applied_up_to(both + rewritten, 13))
        assert after.lost == {} and after.unverified == set(), after
    finally:
        first.thaw()
        second.thaw()
    # node 1 rejoins as a follower and truncates its own records 5-9 to node 2's log
    await isr_becomes(bootstrap, topic, (2, [1, 2]), within=90)
    for applied in (applied_up_to(both, 5), applied_up_to(both + rewritten, 13)):
        verdict = await settled_verdict(bootstrap, tp, applied)
        assert verdict.lost == {} and verdict.unverified == set(), verdict
    verdict = await settled_verdict(bootstrap, tp, applied_up_to(both + only_first, 10))
    assert tp in verdict.lost, verdict
