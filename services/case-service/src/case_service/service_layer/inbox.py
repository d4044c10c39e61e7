"""The internal teams' side of escalations: their inbox, claiming one, answering it.

An escalation lives in its case's stream, so claiming and answering are case
commands under the case's lock: two members claiming at once queue on the lock,
the second is refused by the aggregate (claimed by another), and If-Match on the
case's version tells a member whose inbox page was stale.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from case_service.adapters import inbox
from case_service.domain import commands as c
from case_service.domain.state import Case
from case_service.service_layer.cases import Check, execute
from receivables_platform.business_dates import business_dates
from receivables_platform.domain import NotFound, RefusalKind, Refused
from receivables_platform.repository import Loaded


async def case_of(conn: asyncpg.Connection, escalation_id: UUID) -> UUID:
    case_id = await inbox.case_of(conn, escalation_id)
    if case_id is None:
        raise NotFound(f"no escalation {escalation_id}", field="escalation_id")
    return case_id


async def read(
    conn: asyncpg.Connection, escalation_id: UUID, at: datetime, teams: frozenset[str] | None
) -> asyncpg.Record:
    """`teams` None: the caller sees every team's escalations (an agent or supervisor)."""
    row = await inbox.escalation(conn, escalation_id, business_dates().today(at))
    if row is None:
        raise NotFound(f"no escalation {escalation_id}", field="escalation_id")
    if teams is not None and row["team"] not in teams:
        raise Refused(
            f"escalation {escalation_id} is for the {row['team']} team",
            field="escalation_id",
            title="Not your team",
            kind=RefusalKind.NOT_PERMITTED,
        )
    return row


async def claim(
    conn: asyncpg.Connection,
    escalation_id: UUID,
    teams: frozenset[str],
    actor: str,
    at: datetime,
    *,
    check: Check | None,
    correlation_id: str | None = None,
) -> Loaded[Case]:
    case_id = await case_of(conn, escalation_id)
    return await execute(
        conn,
        c.ClaimEscalation(case_id, escalation_id, teams, actor, at),
        check=check,
        correlation_id=correlation_id,
    )


async def answer(
    conn: asyncpg.Connection,
    escalation_id: UUID,
    text: str,
    teams: frozenset[str] | None,
    actor: str,
    at: datetime,
    *,
    check: Check | None,
    correlation_id: str | None = None,
) -> Loaded[Case]:
    """A team member answers only their own teams' escalations (`teams` None: anyone may, as
    an agent recording the team's answer)."""
    async with conn.transaction():
        await read(conn, escalation_id, at, teams)
        case_id = await case_of(conn, escalation_id)
        return await execute(
            conn,
            c.AnswerEscalation(case_id, escalation_id, text, actor, at),
            check=check,
            correlation_id=correlation_id,
        )
