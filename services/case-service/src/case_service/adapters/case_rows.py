"""The `cases`, `case_escalations` and `case_message_ids` rows: a case's state, flattened.

Written from the folded state after every append, in the same transaction, so
a row is never ahead of or behind its stream.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from case_service.domain.checklist import completeness
from case_service.domain.state import Case


async def next_case_number(conn: asyncpg.Connection) -> str:
    number = await conn.fetchval("SELECT nextval('case_number_seq')")
    return f"CASE-{number:06d}"


async def save(conn: asyncpg.Connection, case: Case, at: datetime) -> None:
    assert case.case_id is not None and case.status is not None and case.sla is not None
    await conn.execute(
        """INSERT INTO cases (case_id, case_number, account_id, type, origin, priority, status,
               owner_id, subject, root_cause_code, opened_at, updated_at, closed_at, sla_due_at,
               sla_paused, sla_breached, complete, version, next_action_on, next_action)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)
           ON CONFLICT (case_id) DO UPDATE SET account_id = $3, type = $4, priority = $6,
               status = $7,
               owner_id = $8, root_cause_code = $10, updated_at = $12, closed_at = $13,
               sla_due_at = $14, sla_paused = $15, sla_breached = $16, complete = $17,
               version = $18, next_action_on = $19, next_action = $20""",
        case.case_id,
        case.case_number,
        case.account_id,
        case.type,
        case.origin,
        case.priority,
        case.status,
        case.owner_id,
        case.subject,
        case.root_cause.category_code if case.root_cause else None,
        case.opened_at,
        at,
        case.closed_at,
        case.sla.due_at,
        case.sla.paused_since is not None,
        case.sla.breached,
        completeness(case).complete,
        case.version,
        case.next_action_on,
        case.next_action,
    )
    for e in case.escalations.values():
        await conn.execute(
            """INSERT INTO case_escalations (escalation_id, case_id, team, question, due_date,
                   escalated_by, escalated_at, answered_at, answered_by, claimed_by, claimed_at)
               VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)
               ON CONFLICT (escalation_id) DO UPDATE SET answered_at = $8, answered_by = $9,
                   claimed_by = $10, claimed_at = $11""",
            e.escalation_id,
            case.case_id,
            e.team,
            e.question,
            e.due_date,
            e.escalated_by,
            e.escalated_at,
            e.answered_at,
            e.answered_by,
            e.claimed_by,
            e.claimed_at,
        )
    await remember_message_ids(conn, case.case_id, case.message_ids)


async def remember_message_ids(
    conn: asyncpg.Connection, case_id: UUID, message_ids: tuple[str, ...]
) -> None:
    if not message_ids:
        return  # a case no email touched: an empty batch would still be a round trip
    await conn.executemany(
        "INSERT INTO case_message_ids (message_id, case_id) VALUES ($1, $2) "
        "ON CONFLICT (message_id) DO NOTHING",
        [(m, case_id) for m in message_ids],
    )


async def case_by_number(conn: asyncpg.Connection, case_number: str) -> UUID | None:
    value = await conn.fetchval("SELECT case_id FROM cases WHERE case_number = $1", case_number)
    return None if value is None else UUID(str(value))


async def case_by_message_ids(conn: asyncpg.Connection, message_ids: list[str]) -> UUID | None:
    value = await conn.fetchval(
        "SELECT case_id FROM case_message_ids WHERE message_id = ANY($1::text[]) LIMIT 1",
        message_ids,
    )
    return None if value is None else UUID(str(value))


async def running_sla_due(conn: asyncpg.Connection, at: datetime, limit: int) -> list[UUID]:
    """Cases whose SLA clock is running and has run out, oldest due first."""
    rows = await conn.fetch(
        "SELECT case_id FROM cases WHERE NOT sla_paused AND NOT sla_breached "
        "AND sla_due_at < $1 ORDER BY sla_due_at LIMIT $2",
        at,
        limit,
    )
    return [UUID(str(r["case_id"])) for r in rows]


async def waiting_inbound(conn: asyncpg.Connection, limit: int) -> list[UUID]:
    """Open inbound-email cases nobody owns, the longest waiting first."""
    rows = await conn.fetch(
        "SELECT case_id FROM cases WHERE owner_id IS NULL AND origin = 'inbound_email' "
        "AND status <> 'closed' ORDER BY opened_at, case_id LIMIT $1",
        limit,
    )
    return [UUID(str(r["case_id"])) for r in rows]
