"""`advance`: a batch's positions and event claims, fenced, in one statement."""

from __future__ import annotations

import asyncio

import asyncpg
from aiokafka import TopicPartition

from receivables_platform.consumer.offsets import Position, advance, load_positions

GROUP = "reporting.billing"
P0, P1 = TopicPartition("billing.events", 0), TopicPartition("billing.events", 1)
KEYS = [("billing-adapter", "evt-1"), ("billing-adapter", "evt-2")]
EXTRA = ("billing-adapter", "evt-3")


async def claimed(conn: asyncpg.Connection) -> set[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT source, event_id FROM processed_events WHERE consumer_group = $1", GROUP
    )
    return {(r["source"], r["event_id"]) for r in rows}


async def test_a_first_batch_stores_its_positions_and_claims_its_events(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        done = await advance(
            conn,
            GROUP,
            {P0: Position(5, "evt-2"), P1: Position(1, "evt-9")},
            {P0: None, P1: None},
            KEYS,
        )
        assert done.moved == set()
        assert done.fresh == set(KEYS)
        assert await load_positions(conn, GROUP, [P0, P1]) == {
            P0: Position(5, "evt-2"),
            P1: Position(1, "evt-9"),
        }
        assert await claimed(conn) == set(KEYS)


async def test_a_redelivered_event_is_not_fresh_and_the_position_still_moves(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        await advance(conn, GROUP, {P0: Position(5, "evt-2")}, {P0: None}, KEYS[:1])
        done = await advance(conn, GROUP, {P0: Position(7, "evt-2")}, {P0: 5}, KEYS)
        assert done.moved == set()
        assert done.fresh == {KEYS[1]}
        assert await load_positions(conn, GROUP, [P0]) == {P0: Position(7, "evt-2")}


async def test_a_position_stored_elsewhere_claims_no_event_of_the_batch(pool: asyncpg.Pool) -> None:
    """A database that lost the runner's last commits: no partition of the batch moves and
    no event of it is marked processed, so reading again from the stored position applies
    them; a claim left behind would make them duplicates and skip them for good."""
    async with pool.acquire() as conn:
        await advance(conn, GROUP, {P0: Position(3), P1: Position(3)}, {P0: None, P1: None}, [])
        done = await advance(conn, GROUP, {P0: Position(9), P1: Position(9)}, {P0: 3, P1: 6}, KEYS)
        assert done.moved == {P1}
        assert done.fresh == set()
        assert await claimed(conn) == set()
        # P0 was where expected and moved: the runner's rollback of the batch undoes that
        assert (await load_positions(conn, GROUP, [P1]))[P1] == Position(3)


async def test_a_row_another_member_added_first_counts_as_moved(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await advance(conn, GROUP, {P0: Position(4)}, {P0: None}, [])
        done = await advance(conn, GROUP, {P0: Position(8)}, {P0: None}, KEYS)
        assert done.moved == {P0}
        assert await claimed(conn) == set()


async def test_two_members_holding_a_partition_at_once_queue_and_the_second_finds_it_moved(
    pool: asyncpg.Pool,
) -> None:
    """During a rebalance two members may both hold a partition for a moment: the second
    waits on the first's row, then rolls back instead of applying the batch again."""
    async with pool.acquire() as conn:
        await advance(conn, GROUP, {P0: Position(3)}, {P0: None}, [])
    async with pool.acquire() as first, pool.acquire() as second:
        first_tx, second_tx = first.transaction(), second.transaction()
        await first_tx.start()
        await second_tx.start()
        done_first = await advance(first, GROUP, {P0: Position(9)}, {P0: 3}, KEYS)
        # one event only the second has: nothing but the moved position keeps it unclaimed
        racing = asyncio.create_task(
            advance(second, GROUP, {P0: Position(9)}, {P0: 3}, [*KEYS, EXTRA])
        )
        await asyncio.sleep(0.3)
        assert not racing.done()  # queued on the first one's position row
        await first_tx.commit()
        done_second = await asyncio.wait_for(racing, 10)
        claimed_by_second = await claimed(second)
        await second_tx.rollback()
    assert done_first.fresh == set(KEYS)
    assert done_second.moved == {P0}
    assert done_second.fresh == set()
    assert EXTRA not in claimed_by_second
