"""The relay's reads and writes on the outbox tables.

Rows are read in `(txid, id)` order and only once their writing transaction
is older than every running one (`txid < pg_snapshot_xmin`): a bigserial
cursor would skip a row whose transaction took its id early and committed
late, and publishing a later transaction first would break per-key order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields

import asyncpg

from receivables_platform.store import RecordedEvent

TopicPartition = tuple[str, int]

_EVENT_COLUMNS = tuple(f.name for f in fields(RecordedEvent))

# The first rows in publishing order, then their events: joining first made
# PostgreSQL read and sort every unpublished row on each pass (a bitmap scan of
# the whole backlog), so a pass behind a million-row import cost seconds.
# The event's columns follow the outbox's four, in `RecordedEvent`'s order: a row
# becomes an event positionally (the relay does it for every record it publishes).
_FETCH = f"""
SELECT o.id AS outbox_id, o.topic, o.message_key,
       o.txid < pg_snapshot_xmin(pg_current_snapshot()) AS ready,
       {", ".join(f"e.{column}" for column in _EVENT_COLUMNS)}
FROM (SELECT id, txid, topic, message_key, event_position FROM outbox
      WHERE published_at IS NULL ORDER BY txid, id LIMIT $1) o
JOIN events e ON e.position = o.event_position
ORDER BY o.txid, o.id
"""  # noqa: S608 - a constant column list

_MARK = """
UPDATE outbox o
SET published_at = now(), kafka_partition = a.partition, kafka_offset = a.kafka_offset
FROM unnest($1::bigint[], $2::int[], $3::bigint[]) AS a(id, partition, kafka_offset)
WHERE o.id = a.id
"""

_RAISE_ACKED = """
INSERT INTO relay_partitions (topic, partition, acked_offset)
SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[])
ON CONFLICT (topic, partition)
DO UPDATE SET acked_offset = greatest(relay_partitions.acked_offset, excluded.acked_offset)
"""

_RESET = """
UPDATE outbox o SET published_at = NULL, kafka_partition = NULL, kafka_offset = NULL
FROM unnest($1::text[], $2::int[]) AS lost(topic, partition)
WHERE o.topic = lost.topic AND o.kafka_partition = lost.partition
"""

_FORGET_ACKED = """
DELETE FROM relay_partitions r
USING unnest($1::text[], $2::int[]) AS lost(topic, partition)
WHERE r.topic = lost.topic AND r.partition = lost.partition
"""


@dataclass(frozen=True)
class OutboxRow:
    id: int
    topic: str
    key: str
    event: RecordedEvent


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
    records = await conn.fetch(_FETCH, limit)
    ready = [r for r in records if r["ready"]]
    rows = [OutboxRow(r[0], r[1], r[2], RecordedEvent(*tuple(r)[4:])) for r in ready]
    return Batch(rows, blocked=len(ready) < len(records))


async def record_acks(conn: asyncpg.Connection, acks: Sequence[Ack],
                      acked: Mapping[TopicPartition, int]) -> None:
    """Mark rows sent and raise each partition's high-water mark, in the caller's transaction."""
    if acks:
        await conn.execute(_MARK, [a.outbox_id for a in acks], [a.partition for a in acks],
                           [a.offset for a in acks])
    if acked:
        parts = list(acked)
        await conn.execute(_RAISE_ACKED, [t for t, _ in parts], [p for _, p in parts],
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
