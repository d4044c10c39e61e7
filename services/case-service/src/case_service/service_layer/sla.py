"""The SLA sweep: every running clock that has run out gets its `case.sla_breached`, once.

The `cases` table says which clocks run and when they are due (partial index),
the aggregate decides (it knows pauses and whether the breach was recorded),
so running the sweep twice, or in two processes, records each breach once.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from case_service.adapters import case_rows
from case_service.domain.commands import CheckSla
from case_service.service_layer.cases import execute


async def check_breaches(conn: asyncpg.Connection, at: datetime, *, limit: int = 500,
                         correlation_id: str | None = None) -> list[UUID]:
    breached = []
    for case_id in await case_rows.running_sla_due(conn, at, limit):
        loaded = await execute(conn, CheckSla(case_id, at), correlation_id=correlation_id)
        if loaded.state.sla is not None and loaded.state.sla.breached:
            breached.append(case_id)
    return breached
