"""The relay's reads and writes on the outbox tables.

Rows are read in `(txid, id)` order and only once their writing transaction
is older than every running one (`txid < pg_snapshot_xmin`): a bigserial
cursor would skip a row whose transaction took its id early and committed
late, and publishing a later transaction first would break per-key order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from receivables_platform.contracts.schemas import schema_id
from receivables_platform.envelope import SEQUENCE_DIGITS, SPEC_VERSION, kafka_headers, time_text

TopicPartition = tuple[str, int]

# The first rows in publishing order, then their events: joining first made
# PostgreSQL read and sort every unpublished row on each pass (a bitmap scan of
# the whole backlog), so a pass behind a million-row import cost seconds.
# Each event comes back as its Kafka record's parts: the stored JSON text as the
# value, passed through rather than decoded and encoded again, and the columns
# the envelope's headers are made of (see `_record`). A row not ready yet (its
# transaction is still open behind an older one) comes back without its event:
# it only says the pass is blocked, and the relay reads it again next pass.
_FETCH = """
SELECT o.id, o.topic, o.message_key, o.ready,
       convert_to(e.data::text, 'UTF8') AS value,
       e.event_id::text, e.source, e.type, e.recorded_at, e.subject, e.schema_version,
       e.schema_version::text, e.correlation_id, e.causation_id,
       lpad(e.version::text, $2, '0'),  -- ce_sequence, zero-padded
       e.partition_key, e.traceparent
FROM (SELECT id, txid, topic, message_key, event_position,
             txid < pg_snapshot_xmin(pg_current_snapshot()) AS ready
      FROM outbox WHERE published_at IS NULL ORDER BY txid, id LIMIT $1) o
LEFT JOIN events e ON o.ready AND e.position = o.event_position
ORDER BY o.txid, o.id
"""

# Rows marked sent and each partition's high-water mark raised in one statement: atomic
# without a transaction of its own, one round trip a publish cycle instead of four.
_RECORD_ACKS = """
WITH marked AS (
    UPDATE outbox o
    SET published_at = now(), kafka_partition = a.partition, kafka_offset = a.kafka_offset
    FROM unnest($1::bigint[], $2::int[], $3::bigint[]) AS a(id, partition, kafka_offset)
    WHERE o.id = a.id
)
INSERT INTO relay_partitions (topic, partition, acked_offset)
SELECT * FROM unnest($4::text[], $5::int[], $6::bigint[])
ON CONFLICT (topic, partition)
DO UPDATE SET acked_offset = greatest(relay_partitions.acked_offset, excluded.acked_offset)
"""

_RESET = """
UPDATE outbox o SET published_at = NULL, kafka_partition = NULL, kafka_offset = NULL
FROM unnest($1::text[], $2::int[]) AS lost(topic, partition)
WHERE o.topic = lost.topic AND o.kafka_partition = lost.partition
  AND o.kafka_partition IS NOT NULL  -- what lets it use the partial outbox_partition_idx
"""

_FORGET_ACKED = """
DELETE FROM relay_partitions r
USING unnest($1::text[], $2::int[]) AS lost(topic, partition)
WHERE r.topic = lost.topic AND r.partition = lost.partition
"""


@dataclass(slots=True)
class OutboxRow:
    """One row to publish, as the Kafka record it becomes (key, value, headers)."""

    id: int
    topic: str
    key: str
    value: bytes
    headers: list[tuple[str, bytes]]
    recorded_at: datetime


@dataclass(frozen=True)
class Batch:
    rows: list[OutboxRow]
    # Unpublished rows exist whose transaction is still running or overtook a running one.
    blocked: bool


@dataclass(frozen=True)
class Ack:
    outbox_id: int
    topic: str
    partition: int
    offset: int


async def fetch_ready(conn: asyncpg.Connection, limit: int) -> Batch:
    records = await conn.fetch(_FETCH, limit, SEQUENCE_DIGITS)
    rows = [_record(r) for r in records if r[3]]
    return Batch(rows, blocked=len(rows) < len(records))


def _record(r: asyncpg.Record) -> OutboxRow:
    """The row's record, built from the columns as `RecordedEvent.cloud_event` and `to_kafka`
    would build it (`test_relay` checks they agree), without a model per row."""
    (outbox_id, topic, key, _, value, event_id, source, event_type, recorded_at, subject,
     schema_version, schema_version_text, correlation_id, causation_id, version_text,
     partition_key, traceparent) = r
    headers = kafka_headers((
        event_id, source, event_type, SPEC_VERSION, time_text(recorded_at), subject,
        schema_id(event_type, schema_version), schema_version_text, correlation_id,
        causation_id, version_text, partition_key, traceparent))
    return OutboxRow(outbox_id, topic, key, value, headers, recorded_at)


async def record_acks(conn: asyncpg.Connection, acks: Sequence[Ack],
                      acked: Mapping[TopicPartition, int]) -> None:
    """Mark rows sent and raise each partition's high-water mark, together or not at all."""
    if not acks and not acked:
        return
    parts = list(acked)
    await conn.execute(_RECORD_ACKS, [a.outbox_id for a in acks], [a.partition for a in acks],
                       [a.offset for a in acks], [t for t, _ in parts], [p for _, p in parts],
                       [acked[tp] for tp in parts])


async def reset_partitions(conn: asyncpg.Connection, lost: Iterable[TopicPartition]) -> int:
    """Everything once acked on a lost partition goes back to the queue, in its original order."""
    parts = sorted(set(lost))
    if not parts:
        return 0
    topics, partitions = [t for t, _ in parts], [p for _, p in parts]
    status = await conn.execute(_RESET, topics, partitions)
    await conn.execute(_FORGET_ACKED, topics, partitions)
    return int(status.split()[-1])


async def load_acked_offsets(conn: asyncpg.Connection) -> dict[TopicPartition, int]:
    rows = await conn.fetch("SELECT topic, partition, acked_offset FROM relay_partitions")
    return {(r["topic"], r["partition"]): r["acked_offset"] for r in rows}


async def backlog(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
