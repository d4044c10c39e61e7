"""The team inboxes over `case_escalations`: the soonest due first, keyset pages.

The rows are written with the case's events (`case_rows.save`), so an inbox
never shows a claim or an answer its case does not have; `case_version` comes
from the same join, so the ETag a member claims with is the one they read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg

from case_service.adapters.search import Where
from receivables_platform.web.pages import decode_cursor, page_of

STATE = """CASE WHEN e.answered_at IS NOT NULL THEN 'answered'
                WHEN e.claimed_by IS NOT NULL THEN 'claimed' ELSE 'open' END"""
SELECT = f"""SELECT e.*, c.case_number, c.version AS case_version, c.account_id,
                    ({STATE}) AS state,
                    (e.answered_at IS NULL AND e.due_date < $1) AS overdue
             FROM case_escalations e JOIN cases c USING (case_id)"""  # noqa: S608 (constants)


@dataclass(frozen=True)
class InboxFilter:
    teams: Sequence[str]
    """The teams whose escalations to list (never empty: the API narrows to the caller's)."""
    states: Sequence[str] = ()
    overdue: bool | None = None
    claimed_by: str | None = None


async def escalations(
    conn: asyncpg.Connection, f: InboxFilter, today: date, limit: int, cursor: str | None
) -> tuple[list[asyncpg.Record], str | None]:
    where = Where(today)
    add, clauses, params = where.add, where.clauses, where.params
    add("e.team = ANY(?::text[])", list(f.teams))
    if f.states:
        add(f"({STATE}) = ANY(?::text[])", list(f.states))
    if f.overdue is not None:
        clauses.append(
            ("" if f.overdue else "NOT ") + "(e.answered_at IS NULL AND e.due_date < $1)"
        )
    if f.claimed_by is not None:
        add("e.claimed_by = ?", f.claimed_by)
    if cursor is not None:
        add(
            "(e.due_date, e.escalation_id) > (?, ?)",
            *decode_cursor(cursor, date.fromisoformat, UUID),
        )
    params.append(limit + 1)
    sql = (
        f"{SELECT} WHERE {' AND '.join(clauses)} "
        f"ORDER BY e.due_date, e.escalation_id LIMIT ${len(params)}"
    )
    rows = await conn.fetch(sql, *params)
    return page_of(rows, limit, lambda row: (row["due_date"].isoformat(), row["escalation_id"]))


async def escalation(
    conn: asyncpg.Connection, escalation_id: UUID, today: date
) -> asyncpg.Record | None:
    return await conn.fetchrow(f"{SELECT} WHERE e.escalation_id = $2", today, escalation_id)


async def case_of(conn: asyncpg.Connection, escalation_id: UUID) -> UUID | None:
    value = await conn.fetchval(
        "SELECT case_id FROM case_escalations WHERE escalation_id = $1", escalation_id
    )
    return None if value is None else UUID(str(value))
