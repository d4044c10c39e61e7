"""A rebuild's swap and a live consumer's batch caught between its two kinds of lock.

A live batch moves its partition positions first (its first statement) and
writes the read-model tables after. A swap that took the tables first and the
positions second would hold what the batch needs next while waiting for what
the batch holds: PostgreSQL would abort one of them as a deadlock.
"""

from __future__ import annotations

import asyncio

import asyncpg

from receivables_platform.db.pool import create_pool
from reporting_service.adapters import shadow_tables
from reporting_service.consumers.projections import PROJECTIONS
from reporting_service.service_layer.rebuild import Build, _swap
from reporting_service.spec import SPEC

LIVE = "reporting-service"
TOPIC = "billing.v1"


async def test_a_swap_waits_for_the_batch_holding_the_positions_and_neither_deadlocks(
        fresh_database) -> None:
    url = await fresh_database(SPEC.versions_dir)
    billing = PROJECTIONS["billing"]
    build = Build(billing, LIVE, "swaptest01")
    admin = await create_pool(url, min_size=1, max_size=2)
    batch = await asyncpg.connect(url)
    try:
        async with admin.acquire() as conn:
            await shadow_tables.prepare(conn, build.schema, billing.tables,
                                        [table for table, _ in billing.shared])
            await conn.executemany(
                "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) "
                "VALUES ($1, $2, 0, $3)", [(LIVE, TOPIC, 5), (build.builder_group, TOPIC, 100)])
        in_flight = batch.transaction()
        await in_flight.start()
        await batch.execute("UPDATE consumer_offsets SET next_offset = 6 "
                            "WHERE consumer_group = $1", LIVE)  # the batch's first statement
        swapping = asyncio.create_task(_swap(admin, build))
        await asyncio.sleep(0.5)
        assert not swapping.done()  # waits for the batch's positions
        # the batch's handler writes the live table (the deadlock, with tables locked first)
        await asyncio.wait_for(batch.execute(f"DELETE FROM {billing.tables[0]}"), 15)
        await in_flight.commit()
        assert await asyncio.wait_for(swapping, 15)
        async with admin.acquire() as conn:
            assert await conn.fetchval(
                "SELECT next_offset FROM consumer_offsets WHERE consumer_group = $1",
                LIVE) == 100  # the rebuild's positions handed over to the live group
    finally:
        await batch.close()
        await admin.close()
