"""Projects `cases.events.v1`: the case lifecycle, root causes, completeness, escalations.

A case's events share one key (its account, or the case itself), so they
arrive in order; writes are still upserts so a replay changes nothing. An
open case puts its invoices in dispute from the day it opened until the day
it closed, which aging shows beside the bucket (flagged, never dropped).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from receivables_platform.contracts.cases import (
    CaseAssigned,
    CaseClosed,
    CaseEscalated,
    CaseEscalationAnswered,
    CaseLinked,
    CaseOpened,
    CaseReclassified,
    CaseReopened,
    CaseResolved,
    CaseRootCauseIdentified,
    CaseSlaBreached,
    CaseStatusChanged,
)
from receivables_platform.envelope import CloudEvent
from reporting_service.consumers.dispatch import Projector, dispatcher


async def _disputed(conn: asyncpg.Connection, ev: CloudEvent, case_id: UUID,
                    account_id: UUID | None, invoice_ids: list[UUID], since: date) -> None:
    for invoice_id in invoice_ids:
        await conn.execute(
            """
            INSERT INTO ar_invoice_flags (flag_id, invoice_id, account_id, flag, source,
                                          since_date)
            VALUES ($1, $2, $3, 'dispute', $4, $5) ON CONFLICT (flag_id) DO NOTHING
            """,
            f"dispute:{ev.id}:{invoice_id}", invoice_id, account_id, str(case_id), since)


async def _opened(conn: asyncpg.Connection, e: CaseOpened, ev: CloudEvent) -> None:
    await conn.execute(
        """
        INSERT INTO cases (case_id, case_number, account_id, type, origin, priority, owner_id,
                           status, invoice_ids, opened_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, 'new', $8, $9)
        ON CONFLICT (case_id) DO UPDATE SET case_number = EXCLUDED.case_number,
            account_id = EXCLUDED.account_id, type = EXCLUDED.type, origin = EXCLUDED.origin,
            priority = EXCLUDED.priority, invoice_ids = EXCLUDED.invoice_ids,
            opened_at = EXCLUDED.opened_at,
            owner_id = coalesce(cases.owner_id, EXCLUDED.owner_id)
        """,
        e.case_id, e.case_number, e.account_id, e.type.value, e.origin.value, e.priority.value,
        e.owner_id, e.invoice_ids, e.opened_at)
    await _disputed(conn, ev, e.case_id, e.account_id, e.invoice_ids, e.opened_at.date())


async def _set(conn: asyncpg.Connection, case_id: UUID, assignments: str, *args: Any) -> None:
    """Update a case that may not have been projected yet (a rebuild reading mid-topic)."""
    await conn.execute("INSERT INTO cases (case_id) VALUES ($1) ON CONFLICT DO NOTHING", case_id)
    await conn.execute(f"UPDATE cases SET {assignments} WHERE case_id = $1",  # noqa: S608
                       case_id, *args)


async def _assigned(conn: asyncpg.Connection, e: CaseAssigned, _: CloudEvent) -> None:
    await _set(conn, e.case_id, "owner_id = $2", e.owner_id)


async def _linked(conn: asyncpg.Connection, e: CaseLinked, ev: CloudEvent) -> None:
    await _set(conn, e.case_id, "account_id = $2, invoice_ids = $3", e.account_id, e.invoice_ids)
    await _disputed(conn, ev, e.case_id, e.account_id, e.added_invoice_ids, e.linked_at.date())


async def _reclassified(conn: asyncpg.Connection, e: CaseReclassified, _: CloudEvent) -> None:
    await _set(conn, e.case_id, "type = $2", e.type.value)


async def _status(conn: asyncpg.Connection, e: CaseStatusChanged, _: CloudEvent) -> None:
    await _set(conn, e.case_id, "status = $2", e.to_status.value)


async def _root_cause(conn: asyncpg.Connection, e: CaseRootCauseIdentified, _: CloudEvent) -> None:
    await _set(conn, e.case_id, "root_cause_code = $2, root_cause_name = $3",
               e.root_cause.category_code, e.root_cause.category_name)


async def _resolved(conn: asyncpg.Connection, e: CaseResolved, _: CloudEvent) -> None:
    await _set(conn, e.case_id, "status = 'resolved', resolved_at = $2", e.resolved_at)


async def _closed(conn: asyncpg.Connection, e: CaseClosed, _: CloudEvent) -> None:
    cause = e.root_cause
    await _set(conn, e.case_id,
               "status = 'closed', closed_at = $2, sla_breached = sla_breached OR $3, "
               "documentation_complete = $4, checklist_satisfied = $5, checklist_required = $6, "
               "root_cause_code = coalesce($7, root_cause_code), "
               "root_cause_name = coalesce($8, root_cause_name), "
               "resolved_at = coalesce(resolved_at, $2), opened_at = coalesce(opened_at, $9), "
               "case_number = coalesce(case_number, $10), type = coalesce(type, $11), "
               "invoice_ids = $12, account_id = coalesce(account_id, $13)",
               e.closed_at, e.sla_breached, e.completeness.complete,
               e.completeness.satisfied_count, e.completeness.required_count,
               cause.category_code if cause else None, cause.category_name if cause else None,
               e.opened_at, e.case_number, e.type.value, e.invoice_ids, e.account_id)
    await conn.execute(
        "UPDATE ar_invoice_flags SET until_date = $2 "
        "WHERE flag = 'dispute' AND source = $1 AND until_date IS NULL",
        str(e.case_id), e.closed_at.date())


async def _reopened(conn: asyncpg.Connection, e: CaseReopened, ev: CloudEvent) -> None:
    await _set(conn, e.case_id, "status = 'investigating', closed_at = NULL, resolved_at = NULL, "
               "documentation_complete = NULL, reopened_count = reopened_count + 1")
    await _disputed(conn, ev, e.case_id, e.account_id, e.invoice_ids, e.reopened_at.date())


async def _sla_breached(conn: asyncpg.Connection, e: CaseSlaBreached, _: CloudEvent) -> None:
    await _set(conn, e.case_id, "sla_breached = true")


async def _escalated(conn: asyncpg.Connection, e: CaseEscalated, _: CloudEvent) -> None:
    await conn.execute(
        """
        INSERT INTO escalations (escalation_id, origin, account_id, case_id, cause, escalated_on,
                                 due_date)
        VALUES ($1, 'case', $2, $3, $4, $5, $6)
        ON CONFLICT (escalation_id) DO UPDATE SET cause = EXCLUDED.cause,
            escalated_on = EXCLUDED.escalated_on, due_date = EXCLUDED.due_date
        """,
        str(e.escalation_id), e.account_id, e.case_id, e.team.value, e.escalated_at.date(),
        e.due_date)


async def _escalation_answered(conn: asyncpg.Connection, e: CaseEscalationAnswered,
                               _: CloudEvent) -> None:
    await conn.execute(
        """
        INSERT INTO escalations (escalation_id, origin, account_id, case_id, cause, escalated_on,
                                 answered_on, overdue)
        VALUES ($1, 'case', $2, $3, $4, $5, $5, $6)
        ON CONFLICT (escalation_id) DO UPDATE SET answered_on = EXCLUDED.answered_on,
            overdue = EXCLUDED.overdue
        """,
        str(e.escalation_id), e.account_id, e.case_id, e.team.value, e.answered_at.date(),
        e.overdue)


_PROJECTORS: dict[str, Projector] = {
    CaseOpened.event_type: _opened,
    CaseAssigned.event_type: _assigned,
    CaseLinked.event_type: _linked,
    CaseReclassified.event_type: _reclassified,
    CaseStatusChanged.event_type: _status,
    CaseRootCauseIdentified.event_type: _root_cause,
    CaseResolved.event_type: _resolved,
    CaseClosed.event_type: _closed,
    CaseReopened.event_type: _reopened,
    CaseSlaBreached.event_type: _sla_breached,
    CaseEscalated.event_type: _escalated,
    CaseEscalationAnswered.event_type: _escalation_answered,
}

project_cases_event = dispatcher(_PROJECTORS)
