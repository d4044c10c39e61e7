"""The relay's reads and writes on the outbox tables.

Rows are read in `(txid, id)` order and only once their writing transaction
is older than every running one (`txid < pg_snapshot_xmin`): a bigserial
cursor would skip a row whose transaction took its id early and committed
late, and publishing a later transaction first would break per-key order.

A key the broker refused a record of for good is blocked (`outbox_blocks`):
from its refused row on, its rows are not read until an operator resolves
the block, and every other key keeps flowing.
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
      FROM outbox WHERE published_at IS NULL
        AND NOT EXISTS (SELECT FROM outbox_blocks b
                        WHERE b.resolved_at IS NULL AND b.topic = outbox.topic
                          AND b.message_key = outbox.message_key
                          AND (outbox.txid, outbox.id) >= (b.txid, b.outbox_id))
      ORDER BY txid, id LIMIT $1) o
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


# The first refusal of a key wins: a key is blocked once, at its earliest refused row.
_BLOCK = """
INSERT INTO outbox_blocks (topic, message_key, outbox_id, txid, error)
SELECT o.topic, o.message_key, o.id, o.txid, r.error
FROM unnest($1::bigint[], $2::text[]) AS r(outbox_id, error)
JOIN outbox o ON o.id = r.outbox_id
ON CONFLICT (topic, message_key) WHERE resolved_at IS NULL DO NOTHING
"""

_BLOCKED = """
SELECT b.id, b.topic, b.message_key, b.outbox_id, e.event_id, e.type, e.stream_id, b.error,
       b.blocked_at,
       (SELECT count(*) FROM outbox w
        WHERE w.published_at IS NULL AND w.topic = b.topic AND w.message_key = b.message_key
          AND (w.txid, w.id) >= (b.txid, b.outbox_id)) AS waiting_rows
FROM outbox_blocks b
JOIN outbox o ON o.id = b.outbox_id
LEFT JOIN events e ON e.position = o.event_position
WHERE b.resolved_at IS NULL
ORDER BY b.id
"""

# Resolving wakes the relay (the store's channel) so the key flows again at once.
_RESOLVE = """
WITH resolved AS (
    UPDATE outbox_blocks SET resolution = $2, reason = $3, resolved_by = $4, resolved_at = now()
    WHERE id = $1 AND resolved_at IS NULL
    RETURNING outbox_id
), skipped AS (
    UPDATE outbox SET published_at = now()
    WHERE id = (SELECT outbox_id FROM resolved) AND $2 = 'skip' AND published_at IS NULL
), wake AS (
    SELECT pg_notify($5, '')
)
SELECT EXISTS (SELECT FROM outbox_blocks WHERE id = $1), EXISTS (SELECT FROM resolved)
FROM wake
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
    (
        outbox_id,
        topic,
        key,
        _,
        value,
        event_id,
        source,
        event_type,
        recorded_at,
        subject,
        schema_version,
        schema_version_text,
        correlation_id,
        causation_id,
        version_text,
        partition_key,
        traceparent,
    ) = r
    headers = kafka_headers(
        (
            event_id,
            source,
            event_type,
            SPEC_VERSION,
            time_text(recorded_at),
            subject,
            schema_id(event_type, schema_version),
            schema_version_text,
            correlation_id,
            causation_id,
            version_text,
            partition_key,
            traceparent,
        )
    )
    return OutboxRow(outbox_id, topic, key, value, headers, recorded_at)


async def record_acks(
    conn: asyncpg.Connection, acks: Sequence[Ack], acked: Mapping[TopicPartition, int]
) -> None:
    """Mark rows sent and raise each partition's high-water mark, together or not at all."""
    if not acks and not acked:
        return
    parts = list(acked)
    await conn.execute(
        _RECORD_ACKS,
        [a.outbox_id for a in acks],
        [a.partition for a in acks],
        [a.offset for a in acks],
        [t for t, _ in parts],
        [p for _, p in parts],
        [acked[tp] for tp in parts],
    )


async def reset_partitions(conn: asyncpg.Connection, lost: Iterable[TopicPartition]) -> int:
    """Everything once acked on a lost partition goes back to the queue, in its original order."""
    parts = sorted(set(lost))
    if not parts:
        return 0
    topics, partitions = [t for t, _ in parts], [p for _, p in parts]
    status = await conn.execute(_RESET, topics, partitions)
    await conn.execute(_FORGET_ACKED, topics, partitions)
    return int(status.split()[-1])


@dataclass(frozen=True)
class Refusal:
    """A row the broker refused for good, sent on its own: its key is blocked from it on."""

    outbox_id: int
    topic: str
    key: str
    error: str


@dataclass(frozen=True)
class BlockedKey:
    id: int
    topic: str
    message_key: str
    outbox_id: int
    event_id: str | None
    event_type: str | None
    stream_id: str | None
    error: str
    blocked_at: datetime
    waiting_rows: int


async def block_keys(conn: asyncpg.Connection, refusals: Sequence[Refusal]) -> None:
    if refusals:
        await conn.execute(_BLOCK, [r.outbox_id for r in refusals], [r.error for r in refusals])


async def blocked_keys(conn: asyncpg.Connection) -> list[BlockedKey]:
    """The keys blocked now, oldest first, with how many rows wait behind each."""
    return [
        BlockedKey(
            r["id"],
            r["topic"],
            r["message_key"],
            r["outbox_id"],
            None if r["event_id"] is None else str(r["event_id"]),
            r["type"],
            r["stream_id"],
            r["error"],
            r["blocked_at"],
            r["waiting_rows"],
        )
        for r in await conn.fetch(_BLOCKED)
    ]


async def blocked_count(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM outbox_blocks WHERE resolved_at IS NULL"))


async def resolve_block(
    conn: asyncpg.Connection,
    block_id: int,
    *,
    skip: bool,
    reason: str | None,
    by: str,
    channel: str,
) -> tuple[bool, bool]:
    """Retry the key, or skip its refused row (marked sent, never sent: the block keeps
    why and who). Returns whether the block exists and whether this call resolved it
    (not when it was resolved already, or by a concurrent call)."""
    found, resolved = await conn.fetchrow(
        _RESOLVE, block_id, "skip" if skip else "retry", reason, by, channel
    )
    return bool(found), bool(resolved)


async def load_acked_offsets(conn: asyncpg.Connection) -> dict[TopicPartition, int]:
    rows = await conn.fetch("SELECT topic, partition, acked_offset FROM relay_partitions")
    return {(r["topic"], r["partition"]): r["acked_offset"] for r in rows}


async def backlog(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
