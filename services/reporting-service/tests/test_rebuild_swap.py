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
    fresh_database,
) -> None:
    url = await fresh_database(SPEC.versions_dir)
    billing = PROJECTIONS["billing"]
    build = Build(billing, LIVE, "swaptest01")
    admin = await create_pool(url, min_size=1, max_size=2)
    batch = await asyncpg.connect(url)
    try:
        async with admin.acquire() as conn:
            await shadow_tables.prepare(
                conn, build.schema, billing.tables, [table for table, _ in billing.shared]
            )
            await conn.executemany(
                "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) "
                "VALUES ($1, $2, 0, $3)",
                [(LIVE, TOPIC, 5), (build.builder_group, TOPIC, 100)],
            )
        in_flight = batch.transaction()
        await in_flight.start()
        await batch.execute(
            "UPDATE consumer_offsets SET next_offset = 6 WHERE consumer_group = $1", LIVE
        )  # the batch's first statement
        swapping = asyncio.create_task(_swap(admin, build))
        await asyncio.sleep(0.5)
        assert not swapping.done()  # waits for the batch's positions
        # the batch's handler writes the live table (the deadlock, with tables locked first)
        await asyncio.wait_for(batch.execute(f"DELETE FROM {billing.tables[0]}"), 15)
        await in_flight.commit()
        assert await asyncio.wait_for(swapping, 15)
        async with admin.acquire() as conn:
            assert (
                await conn.fetchval(
                    "SELECT next_offset FROM consumer_offsets WHERE consumer_group = $1", LIVE
                )
                == 100
            )  # the rebuild's positions handed over to the live group
    finally:
        await batch.close()
        await admin.close()


async def test_a_swapped_in_collections_rebuild_regroups_aging_by_collector(fresh_database) -> None:
    """The rebuilt assignments are written in their own schema, where they re-derive no
    aging; the swap re-derives every step still summed under an account's old collector."""
    from datetime import date
    from uuid import uuid4

    from receivables_platform.contracts.billing import InvoiceIssued
    from receivables_platform.contracts.collections import AccountAssigned, AssignmentBasis
    from reporting_service.adapters.aging_query import AgingFilter, GroupBy, aging
    from reporting_service.domain.aging import buckets
    from reporting_service.testing import cloud

    url = await fresh_database(SPEC.versions_dir)
    collections = PROJECTIONS["collections"]
    build = Build(collections, "collections", "swaptest02")
    account = uuid4()

    def assigned(collector: str):
        return cloud(
            AccountAssigned(
                account_id=account,
                collector_id=collector,
                basis=AssignmentBasis.EXPLICIT,
                assigned_by="sup",
                effective_on=date(2026, 11, 1),
            )
        )

    admin = await create_pool(url, min_size=1, max_size=2)
    try:
        async with admin.acquire() as conn, conn.transaction():
            await PROJECTIONS["billing"].handler(
                conn,
                cloud(
                    InvoiceIssued(
                        invoice_id=uuid4(),
                        account_id=account,
                        external_id="I",
                        currency="USD",
                        total_minor=900,
                        issue_date=date(2026, 9, 1),
                        due_date=date(2026, 10, 1),
                    )
                ),
            )
            await collections.handler(conn, assigned("ann"))
        async with admin.acquire() as conn:
            await shadow_tables.prepare(
                conn, build.schema, collections.tables, [table for table, _ in collections.shared]
            )
        builder = await asyncpg.connect(
            url, server_settings={"search_path": f'"{build.schema}", public'}
        )
        try:
            async with builder.transaction():
                await collections.handler(builder, assigned("bob"))
        finally:
            await builder.close()

        async def by_collector() -> dict:
            async with admin.acquire() as conn:
                rows = await aging(
                    conn, AgingFilter(as_of=date(2026, 11, 20)), GroupBy.collector, buckets()
                )
            return {r["collector_id"]: r["total_minor"] for r in rows}

        assert await by_collector() == {"ann": 900}  # the build left the live sums alone
        assert await _swap(admin, build)
        assert await by_collector() == {"bob": 900}
    finally:
        await admin.close()
