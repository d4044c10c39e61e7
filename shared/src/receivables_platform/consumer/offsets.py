"""The consumer's state in the service database: positions per partition and processed events.

Both are written in the transaction that changes the read model, so the
database, not Kafka, says how far a consumer group got: a crash after the
commit cannot replay an event, a crash before it cannot skip one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import asyncpg
from aiokafka import TopicPartition

from receivables_platform.consumer.records import EventKey


@dataclass(frozen=True)
class Position:
    """Next offset to read, and the identity of the record just before it (None: nothing read)."""

    next_offset: int
    last_event_id: str | None = None


async def load_positions(conn: asyncpg.Connection, group: str,
                         tps: Iterable[TopicPartition]) -> dict[TopicPartition, Position]:
    wanted = list(tps)
    rows = await conn.fetch(
        """
        SELECT o.topic, o.partition, o.next_offset, o.last_event_id
        FROM consumer_offsets o
        JOIN unnest($2::text[], $3::int[]) AS w(topic, partition) USING (topic, partition)
        WHERE o.consumer_group = $1
        """,
        group, [tp.topic for tp in wanted], [tp.partition for tp in wanted])
    return {TopicPartition(r["topic"], r["partition"]):
            Position(r["next_offset"], r["last_event_id"]) for r in rows}


async def save_positions(conn: asyncpg.Connection, group: str,
                         positions: Mapping[TopicPartition, Position],
                         expected: Mapping[TopicPartition, int | None]) -> set[TopicPartition]:
    """Move each partition's stored position from where this runner left it; returns the
    partitions whose stored position was elsewhere (none saved for those).

    `expected` is the next offset the row holds as far as the runner knows, None for no
    row. A row elsewhere means the database is not the one the runner last committed to:
    a failover to a replica that missed the latest commits, or a server that lost them,
    took the events' claims and read-model changes with them, and another group member
    may have moved on meanwhile. Overwriting would skip those events for good; the
    caller rolls back and reads from the stored position again instead. Overwrite, not
    max(): a partition restarted after broker data loss must move back.
    """
    tps = list(positions)
    rows = await conn.fetch(
        """
        WITH wanted AS (
            SELECT * FROM unnest($2::text[], $3::int[], $4::bigint[], $5::text[], $6::bigint[])
                AS w(topic, partition, next_offset, last_event_id, expected)
        ), moved AS (
            UPDATE consumer_offsets o
            SET next_offset = w.next_offset, last_event_id = w.last_event_id, updated_at = now()
            FROM wanted w
            WHERE o.consumer_group = $1 AND o.topic = w.topic AND o.partition = w.partition
              AND o.next_offset = w.expected
            RETURNING o.topic, o.partition
        ), added AS (
            INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset,
                                          last_event_id)
            SELECT $1, w.topic, w.partition, w.next_offset, w.last_event_id
            FROM wanted w WHERE w.expected IS NULL
            ON CONFLICT DO NOTHING
            RETURNING topic, partition
        )
        SELECT topic, partition FROM moved UNION ALL SELECT topic, partition FROM added
        """,
        group, [tp.topic for tp in tps], [tp.partition for tp in tps],
        [positions[tp].next_offset for tp in tps], [positions[tp].last_event_id for tp in tps],
        [expected.get(tp) for tp in tps])
    if len(rows) == len(tps):
        return set()
    return set(tps) - {TopicPartition(r["topic"], r["partition"]) for r in rows}


async def forget_positions(conn: asyncpg.Connection, group: str,
                           tps: Iterable[TopicPartition]) -> None:
    """The broker no longer holds the log these positions point into."""
    wanted = list(tps)
    await conn.execute(
        """
        DELETE FROM consumer_offsets o
        USING unnest($2::text[], $3::int[]) AS w(topic, partition)
        WHERE o.consumer_group = $1 AND o.topic = w.topic AND o.partition = w.partition
        """,
        group, [tp.topic for tp in wanted], [tp.partition for tp in wanted])


async def claim_events(conn: asyncpg.Connection, group: str,
                       keys: Sequence[EventKey]) -> set[EventKey]:
    """Record events as processed; returns those that were not already.

    ON CONFLICT DO NOTHING is the point here, unlike in the event store: a
    conflict is a redelivery, and a redelivery must change nothing. Claiming
    before the handler runs also serialises two group members that briefly
    both hold a partition during a rebalance: the second one waits on the
    first one's row and then sees it as processed.
    """
    if not keys:
        return set()
    rows = await conn.fetch(
        """
        INSERT INTO processed_events (consumer_group, source, event_id)
        SELECT $1, * FROM unnest($2::text[], $3::text[])
        ON CONFLICT DO NOTHING
        RETURNING source, event_id
        """,
        group, [k[0] for k in keys], [k[1] for k in keys])
    if len(rows) == len(keys):  # all new, the usual case: no need to read them back
        return set(keys)
    return {(r["source"], r["event_id"]) for r in rows}
