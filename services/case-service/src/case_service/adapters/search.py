"""Case search over the `cases` table: filters, SLA state, keyset (cursor) pagination.

Newest first by (opened_at, case_id); the cursor is that pair of the last row,
opaque to clients. "Open longer than two weeks" is `open=true` with
`older_than_days=14`: a query, not a script.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from receivables_platform.web.pages import decode_cursor, page_of

SLA_STATE = """CASE WHEN sla_breached OR (NOT sla_paused AND sla_due_at < $1) THEN 'breached'
                    WHEN status IN ('resolved', 'closed') THEN 'met'
                    WHEN sla_paused THEN 'paused' ELSE 'on_track' END"""
SLA_STATES = ("on_track", "paused", "breached", "met")


@dataclass(frozen=True)
class CaseFilter:
    statuses: tuple[str, ...] = ()
    open: bool | None = None
    owner_id: str | None = None
    account_id: UUID | None = None
    type: str | None = None
    root_cause: str | None = None
    older_than_days: int | None = None
    sla_state: str | None = None
    unassigned: bool | None = None
    origin: str | None = None


class Where:
    """A WHERE clause built from optional filters: each `?` becomes the next `$n`."""

    def __init__(self, *params: Any) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = list(params)

    def add(self, sql: str, *values: Any) -> None:
        for value in values:
            self.params.append(value)
            sql = sql.replace("?", f"${len(self.params)}", 1)
        self.clauses.append(sql)


def _where(f: CaseFilter, at: datetime, cursor: str | None) -> tuple[list[str], list[Any]]:
    where = Where(at)
    clauses, add = where.clauses, where.add

    if f.statuses:
        add("status = ANY(?::text[])", list(f.statuses))
    if f.open is not None:
        clauses.append("status <> 'closed'" if f.open else "status = 'closed'")
    if f.unassigned is not None:
        clauses.append("owner_id IS NULL" if f.unassigned else "owner_id IS NOT NULL")
    for column, value in (
        ("owner_id", f.owner_id),
        ("account_id", f.account_id),
        ("type", f.type),
        ("root_cause_code", f.root_cause),
        ("origin", f.origin),
    ):
        if value is not None:
            add(f"{column} = ?", value)
    if f.older_than_days is not None:
        add("opened_at < ?", at - timedelta(days=f.older_than_days))
    if f.sla_state is not None:
        add(f"({SLA_STATE}) = ?", f.sla_state)
    if cursor is not None:
        add("(opened_at, case_id) < (?, ?)", *decode_cursor(cursor, datetime.fromisoformat, UUID))
    return clauses, where.params


async def search(
    conn: asyncpg.Connection, f: CaseFilter, at: datetime, limit: int, cursor: str | None
) -> tuple[list[asyncpg.Record], str | None]:
    clauses, params = _where(f, at, cursor)
    params.append(limit + 1)
    sql = (
        f"SELECT *, {SLA_STATE} AS sla_state FROM cases "  # noqa: S608 (built from constants)
        f"WHERE {' AND '.join(clauses) or 'true'} "
        f"ORDER BY opened_at DESC, case_id DESC LIMIT ${len(params)}"
    )
    rows = await conn.fetch(sql, *params)
    return page_of(rows, limit, lambda row: (row["opened_at"].isoformat(), row["case_id"]))


async def overdue_escalations(conn: asyncpg.Connection, today: Any) -> list[asyncpg.Record]:
    escalations: list[asyncpg.Record] = await conn.fetch(
        "SELECT e.*, c.case_number, ($1::date - e.due_date) AS days_overdue "
        "FROM case_escalations e JOIN cases c USING (case_id) "
        "WHERE e.answered_at IS NULL AND e.due_date < $1 ORDER BY e.due_date, e.escalated_at",
        today,
    )
    return escalations
