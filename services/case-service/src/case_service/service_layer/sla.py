"""The SLA sweep: every running clock that has run out gets its `case.sla_breached`, once.

The `cases` table says which clocks run and when they are due (partial index),
the aggregate decides (it knows pauses and whether the breach was recorded),
so running the sweep twice, or in two processes, records each breach once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import structlog

from case_service.adapters import case_rows
from case_service.domain.commands import CheckSla
from case_service.service_layer.cases import execute
from receivables_platform.db.locks import one_holder_at_a_time

log = structlog.get_logger("case_service.sla")


async def check_breaches(
    conn: asyncpg.Connection, at: datetime, *, limit: int = 500, correlation_id: str | None = None
) -> list[UUID]:
    breached = []
    for case_id in await case_rows.running_sla_due(conn, at, limit):
        loaded = await execute(conn, CheckSla(case_id, at), correlation_id=correlation_id)
        if loaded.state.sla is not None and loaded.state.sla.breached:
            breached.append(case_id)
    return breached


async def sweep_forever(pool: asyncpg.Pool, every: timedelta = timedelta(minutes=1)) -> None:
    """Background worker: check the clocks every minute, so a breach is recorded within one.

    An advisory lock keeps one sweeper busy at a time across replicas; the
    aggregate would refuse a second breach anyway, this only saves the work.
    """
    while True:
        try:
            async with (
                pool.acquire() as conn,
                one_holder_at_a_time(conn, "cases.sla_sweep") as ours,
            ):
                if ours and (breached := await check_breaches(conn, datetime.now(UTC))):
                    log.info("sla.breaches_recorded", cases=len(breached))
        except Exception as exc:  # a missed sweep must not end the loop; the next one catches up
            log.warning("sla.sweep_failed", error=repr(exc))
        await asyncio.sleep(every.total_seconds())
