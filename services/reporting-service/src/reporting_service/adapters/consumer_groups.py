"""Where consumer groups stand, in the service's database and on the broker, for rebuilds.

A consumer group's positions and processed event ids live beside the rows they
produced (`consumer_offsets`, `processed_events`), so a rebuild compares, hands
over and forgets them in SQL, in the same transaction as the tables it swaps.
"""

from __future__ import annotations

from collections.abc import Mapping

import asyncpg
from aiokafka import TopicPartition

from receivables_platform.kafka.end_offsets import EndOffsets
from receivables_platform.kafka.topics import ensure_topics
from receivables_platform.settings import KafkaSettings

Positions = dict[TopicPartition, int]


async def positions(db: asyncpg.Pool | asyncpg.Connection, group: str) -> Positions:
    rows = await db.fetch(
        "SELECT topic, partition, next_offset FROM consumer_offsets WHERE consumer_group = $1",
        group,
    )
    return {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}


def at_or_past(built: Mapping[TopicPartition, int], live: Mapping[TopicPartition, int]) -> bool:
    return all(built.get(tp, 0) >= offset for tp, offset in live.items())


async def topic_ends(kafka: KafkaSettings, topic: str) -> Positions:
    """The end of each partition of `topic` now: what a rebuild must read up to."""
    await ensure_topics(kafka, [topic])
    client = EndOffsets(kafka, timeout=10.0)
    try:
        return await client.ends(await client.partitions([topic]))
    finally:
        await client.close()


async def lock_for_swap(conn: asyncpg.Connection, group: str, tables: list[str]) -> None:
    """In the caller's transaction: the live group's positions, then the live tables.

    Positions first, as a live consumer's batch takes them (its first statement moves
    them) before it writes the tables: the other order deadlocks with a batch caught
    between the two."""
    await conn.execute("SET LOCAL lock_timeout = '10s'")
    await conn.execute("SELECT 1 FROM consumer_offsets WHERE consumer_group = $1 FOR UPDATE", group)
    await conn.execute(
        f"LOCK TABLE {', '.join(f'public.{t}' for t in tables)} IN ACCESS EXCLUSIVE MODE"
    )


async def hand_over(conn: asyncpg.Connection, builder: str, group: str) -> None:
    """The live group takes the rebuild's positions and processed ids as its own."""
    await forget(conn, group)
    await conn.execute(
        "UPDATE consumer_offsets SET consumer_group = $1 WHERE consumer_group = $2", group, builder
    )
    await conn.execute(
        "UPDATE processed_events SET consumer_group = $1 WHERE consumer_group = $2", group, builder
    )


async def forget(conn: asyncpg.Connection, group: str) -> None:
    await conn.execute("DELETE FROM consumer_offsets WHERE consumer_group = $1", group)
    await conn.execute("DELETE FROM processed_events WHERE consumer_group = $1", group)


async def run_statements(
    conn: asyncpg.Connection, statements: tuple[str, ...], **names: str
) -> None:
    """A projection's own fixed statements (its reset, its after-swap steps)."""
    for statement in statements:
        await conn.execute(statement.format(**names) if names else statement)
