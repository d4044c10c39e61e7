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


async def load_positions(
    conn: asyncpg.Connection, group: str, tps: Iterable[TopicPartition]
) -> dict[TopicPartition, Position]:
    wanted = list(tps)
    rows = await conn.fetch(
        """
        SELECT o.topic, o.partition, o.next_offset, o.last_event_id
        FROM consumer_offsets o
        JOIN unnest($2::text[], $3::int[]) AS w(topic, partition) USING (topic, partition)
        WHERE o.consumer_group = $1
        """,
        group,
        [tp.topic for tp in wanted],
        [tp.partition for tp in wanted],
    )
    return {
        TopicPartition(r["topic"], r["partition"]): Position(r["next_offset"], r["last_event_id"])
        for r in rows
    }


@dataclass(frozen=True)
class Advance:
    """What `advance` did: the partitions whose stored position was elsewhere (then no event
    was claimed, and the caller rolls back the other partitions' moves with its
    transaction), else the batch's events that were not processed before."""

    moved: set[TopicPartition]
    fresh: set[EventKey]


async def advance(
    conn: asyncpg.Connection,
    group: str,
    positions: Mapping[TopicPartition, Position],
    expected: Mapping[TopicPartition, int | None],
    keys: Sequence[EventKey],
) -> Advance:
    """Move each partition's stored position from where this runner left it, then claim
    the batch's events: one statement, first in the batch's transaction.

    `expected` is the next offset the row holds as far as the runner knows, None for no
    row. A row elsewhere means the database is not the one the runner last committed to:
    a failover to a replica that missed the latest commits, or a server that lost them,
    took the events' claims and read-model changes with them, and another group member
    may have moved on meanwhile. Overwriting would skip those events for good; the
    caller rolls back and reads from the stored position again instead. Overwrite, not
    max(): a partition restarted after broker data loss must move back.

    Claiming records events as processed: ON CONFLICT DO NOTHING is the point here,
    unlike in the event store, because a conflict is a redelivery and a redelivery must
    change nothing. The claim waits for the positions (its condition reads them), so two
    group members that briefly both hold a partition during a rebalance queue on the
    partition's row, and the second finds it moved and claims nothing. Anything else
    that locks a group's positions and its read model (a rebuild's swap) takes the
    positions first too.
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
        ), saved AS (
            SELECT topic, partition FROM moved UNION ALL SELECT topic, partition FROM added
        ), claimed AS (
            INSERT INTO processed_events (consumer_group, source, event_id)
            SELECT $1, k.source, k.event_id FROM unnest($7::text[], $8::text[])
                AS k(source, event_id)
            WHERE (SELECT count(*) FROM saved) = cardinality($2::text[])
            ON CONFLICT DO NOTHING
            RETURNING source, event_id
        )
        SELECT topic AS name, partition, NULL AS event_id FROM saved
        UNION ALL
        SELECT source, NULL, event_id FROM claimed
        """,
        group,
        [tp.topic for tp in tps],
        [tp.partition for tp in tps],
        [positions[tp].next_offset for tp in tps],
        [positions[tp].last_event_id for tp in tps],
        [expected.get(tp) for tp in tps],
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    saved = {TopicPartition(r["name"], r["partition"]) for r in rows if r["event_id"] is None}
    return Advance(
        moved=set(tps) - saved,
        fresh={(r["name"], r["event_id"]) for r in rows if r["event_id"] is not None},
    )


async def forget_positions(
    conn: asyncpg.Connection, group: str, tps: Iterable[TopicPartition]
) -> None:
    """The broker no longer holds the log these positions point into."""
    wanted = list(tps)
    await conn.execute(
        """
        DELETE FROM consumer_offsets o
        USING unnest($2::text[], $3::int[]) AS w(topic, partition)
        WHERE o.consumer_group = $1 AND o.topic = w.topic AND o.partition = w.partition
        """,
        group,
        [tp.topic for tp in wanted],
        [tp.partition for tp in wanted],
    )
