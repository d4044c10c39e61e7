"""Projects `cases.events.v1`: the case lifecycle, root causes, completeness, escalations.

A case's events share one key (its account, or the case itself), so they
arrive in order; writes are still upserts so a replay changes nothing. An
open case puts its invoices in dispute from the day it opened until the day
it closed, which aging shows beside the bucket (flagged, never dropped).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from receivables_platform.business_dates import business_dates
from receivables_platform.contracts.cases import (
    CaseAssigned,
    CaseClosed,
    CaseCorrectionApplied,
    CaseCorrectionRejected,
    CaseCorrectionRequested,
    CaseCustomerConfirmed,
    CaseCustomerUpdated,
    CaseEscalated,
    CaseEscalationAnswered,
    CaseLinked,
    CaseNoteAdded,
    CaseOpened,
    CaseReclassified,
    CaseReopened,
    CaseResolved,
    CaseRootCauseIdentified,
    CaseSlaBreached,
    CaseStatusChanged,
    CustomerChannel,
    EscalationCause,
    NoteSource,
)
from receivables_platform.envelope import CloudEvent
from reporting_service.consumers.dispatch import Projector, dispatcher
from reporting_service.consumers.timeline import Entry, record

SOURCE = "cases"
# what reached the customer, or came from them, is contact history: a case's emails and
# calls show as emails and calls of the account (with the case named), the rest as the case
_CHANNEL_KIND = {CustomerChannel.EMAIL: "email", CustomerChannel.PHONE: "call"}


def _day(instant: datetime) -> date:
    """The team's day of an instant (TEAM_TIMEZONE): a US team's afternoon is not tomorrow."""
    return business_dates().today(instant)


def _words(value: str) -> str:
    return value.replace("_", " ")


async def _step(
    conn: asyncpg.Connection,
    ev: CloudEvent,
    e: Any,
    at: datetime,
    title: str,
    detail: dict[str, Any],
    kind: str = "case",
) -> None:
    """One step of a case on its account's timeline, titled with the case's number.

    The case row gives the number (only the opening and closing events carry it) and
    the account when this event has none yet (the case was linked in the meantime): read
    by the insert itself, one statement a step rather than a read and a write (issue 23).
    """
    await conn.execute(
        _STEP,
        ev.id,
        SOURCE,
        e.account_id,
        e.case_id,
        at,
        kind,
        title,
        json.dumps({"case_id": e.case_id, **detail}, default=str, sort_keys=True),
    )


# An entry as `_entry` makes it, with the number and account from the case's row: the
# number ahead of the title ('Case' while there is none) and in the detail (null without
# a row), unless the detail names one itself.
_STEP = """
INSERT INTO account_timeline (entry_id, source, account_id, case_id, at, kind, title, detail,
                              event_id)
SELECT $1, $2, coalesce($3, c.account_id), $4, $5, $6,
       coalesce(nullif(c.case_number, ''), 'Case') || ': ' || $7,
       jsonb_build_object('case_number', c.case_number) || $8::text::jsonb, $1
FROM (SELECT) AS one LEFT JOIN cases c ON c.case_id = $4
ON CONFLICT (entry_id) DO NOTHING
"""


def _entry(
    ev: CloudEvent,
    case_id: UUID,
    account_id: UUID | None,
    case_number: str | None,
    at: datetime,
    kind: str,
    title: str,
    detail: dict[str, Any],
) -> Entry:
    return Entry(
        ev,
        account_id,
        at,
        kind,
        f"{case_number or 'Case'}: {title}",
        {"case_id": case_id, "case_number": case_number, **detail},
        case_id=case_id,
    )


async def _disputed(
    conn: asyncpg.Connection,
    ev: CloudEvent,
    case_id: UUID,
    account_id: UUID | None,
    invoice_ids: list[UUID],
    since: date,
) -> None:
    for invoice_id in invoice_ids:
        await conn.execute(
            """
            INSERT INTO ar_invoice_flags (flag_id, invoice_id, account_id, flag, source,
                                          since_date)
            VALUES ($1, $2, $3, 'dispute', $4, $5) ON CONFLICT (flag_id) DO NOTHING
            """,
            f"dispute:{ev.id}:{invoice_id}",
            invoice_id,
            account_id,
            str(case_id),
            since,
        )


async def _opened(conn: asyncpg.Connection, e: CaseOpened, ev: CloudEvent) -> None:
    """The case's row and its first timeline step in one statement: the event carries the
    number and the account that `_step` would read back from the row it just wrote."""
    await record(
        conn,
        SOURCE,
        [
            _entry(
                ev,
                e.case_id,
                e.account_id,
                e.case_number,
                e.opened_at,
                "case",
                f"opened ({_words(e.origin.value)}): {e.subject}",
                {
                    "type": e.type.value,
                    "origin": e.origin.value,
                    "priority": e.priority.value,
                    "subject": e.subject,
                    "owner_id": e.owner_id,
                    "opened_by": e.opened_by,
                    "invoice_ids": e.invoice_ids,
                    "sla_due_at": e.sla_due_at,
                },
            )
        ],
        along=_OPENED,
        along_args=(
            e.case_id,
            e.case_number,
            e.account_id,
            e.type.value,
            e.origin.value,
            e.priority.value,
            e.owner_id,
            e.invoice_ids,
            e.opened_at,
        ),
    )
    await _disputed(conn, ev, e.case_id, e.account_id, e.invoice_ids, _day(e.opened_at))


# `record`'s along clause: parameters from $10 (timeline.ALONG_FIRST_PARAMETER).
_OPENED = """
WITH opened AS (
    INSERT INTO cases (case_id, case_number, account_id, type, origin, priority, owner_id,
                       status, invoice_ids, opened_at)
    VALUES ($10, $11, $12, $13, $14, $15, $16, 'new', $17, $18)
    ON CONFLICT (case_id) DO UPDATE SET case_number = EXCLUDED.case_number,
        account_id = EXCLUDED.account_id, type = EXCLUDED.type, origin = EXCLUDED.origin,
        priority = EXCLUDED.priority, invoice_ids = EXCLUDED.invoice_ids,
        opened_at = EXCLUDED.opened_at,
        owner_id = coalesce(cases.owner_id, EXCLUDED.owner_id)
)
"""


async def _set(conn: asyncpg.Connection, case_id: UUID, assignments: str, *args: Any) -> None:
    """Update a case that may not have been projected yet (a rebuild reading mid-topic)."""
    await conn.execute("INSERT INTO cases (case_id) VALUES ($1) ON CONFLICT DO NOTHING", case_id)
    await conn.execute(
        f"UPDATE cases SET {assignments} WHERE case_id = $1",  # noqa: S608
        case_id,
        *args,
    )


async def _assigned(conn: asyncpg.Connection, e: CaseAssigned, ev: CloudEvent) -> None:
    await _set(conn, e.case_id, "owner_id = $2", e.owner_id)
    await _step(
        conn,
        ev,
        e,
        e.assigned_at,
        f"assigned to {e.owner_id}",
        {
            "owner_id": e.owner_id,
            "previous_owner_id": e.previous_owner_id,
            "assigned_by": e.assigned_by,
        },
    )


async def _linked(conn: asyncpg.Connection, e: CaseLinked, ev: CloudEvent) -> None:
    await _set(conn, e.case_id, "account_id = $2, invoice_ids = $3", e.account_id, e.invoice_ids)
    await _disputed(conn, ev, e.case_id, e.account_id, e.added_invoice_ids, _day(e.linked_at))
    # what happened on the case before it had an account belongs to the account now
    await conn.execute(
        "UPDATE account_timeline SET account_id = $2 WHERE case_id = $1 AND account_id IS NULL",
        e.case_id,
        e.account_id,
    )
    await _step(
        conn,
        ev,
        e,
        e.linked_at,
        f"linked to {len(e.invoice_ids)} invoice(s)",
        {
            "invoice_ids": e.invoice_ids,
            "added_invoice_ids": e.added_invoice_ids,
            "linked_by": e.linked_by,
        },
    )


async def _reclassified(conn: asyncpg.Connection, e: CaseReclassified, ev: CloudEvent) -> None:
    await _set(conn, e.case_id, "type = $2", e.type.value)
    await _step(
        conn,
        ev,
        e,
        e.reclassified_at,
        f"reclassified {_words(e.previous_type.value)} to {_words(e.type.value)}",
        {
            "type": e.type.value,
            "previous_type": e.previous_type.value,
            "reason": e.reason,
            "reclassified_by": e.reclassified_by,
        },
    )


async def _status(conn: asyncpg.Connection, e: CaseStatusChanged, ev: CloudEvent) -> None:
    await _set(conn, e.case_id, "status = $2", e.to_status.value)
    await _step(
        conn,
        ev,
        e,
        e.changed_at,
        f"{_words(e.from_status.value)} to {_words(e.to_status.value)}",
        {
            "from_status": e.from_status.value,
            "to_status": e.to_status.value,
            "reason": e.reason,
            "changed_by": e.changed_by,
        },
    )


async def _root_cause(conn: asyncpg.Connection, e: CaseRootCauseIdentified, ev: CloudEvent) -> None:
    await _set(
        conn,
        e.case_id,
        "root_cause_code = $2, root_cause_name = $3",
        e.root_cause.category_code,
        e.root_cause.category_name,
    )
    await _step(
        conn,
        ev,
        e,
        e.identified_at,
        f"root cause identified: {e.root_cause.category_name}",
        {"root_cause": e.root_cause.model_dump(), "identified_by": e.identified_by},
    )


async def _resolved(conn: asyncpg.Connection, e: CaseResolved, ev: CloudEvent) -> None:
    await _set(conn, e.case_id, "status = 'resolved', resolved_at = $2", e.resolved_at)
    await _step(
        conn,
        ev,
        e,
        e.resolved_at,
        "resolved",
        {"resolution_summary": e.resolution_summary, "resolved_by": e.resolved_by},
    )


async def _closed(conn: asyncpg.Connection, e: CaseClosed, ev: CloudEvent) -> None:
    cause = e.root_cause
    await _set(
        conn,
        e.case_id,
        "status = 'closed', closed_at = $2, sla_breached = sla_breached OR $3, "
        "documentation_complete = $4, checklist_satisfied = $5, checklist_required = $6, "
        "root_cause_code = coalesce($7, root_cause_code), "
        "root_cause_name = coalesce($8, root_cause_name), "
        "resolved_at = coalesce(resolved_at, $2), opened_at = coalesce(opened_at, $9), "
        "case_number = coalesce(case_number, $10), type = coalesce(type, $11), "
        "invoice_ids = $12, account_id = coalesce(account_id, $13)",
        e.closed_at,
        e.sla_breached,
        e.completeness.complete,
        e.completeness.satisfied_count,
        e.completeness.required_count,
        cause.category_code if cause else None,
        cause.category_name if cause else None,
        e.opened_at,
        e.case_number,
        e.type.value,
        e.invoice_ids,
        e.account_id,
    )
    await conn.execute(
        "UPDATE ar_invoice_flags SET until_date = $2 "
        "WHERE flag = 'dispute' AND source = $1 AND until_date IS NULL",
        str(e.case_id),
        _day(e.closed_at),
    )
    await _step(
        conn,
        ev,
        e,
        e.closed_at,
        "closed",
        {
            "resolution_summary": e.resolution_summary,
            "closed_by": e.closed_by,
            "sla_breached": e.sla_breached,
            "documentation_complete": e.completeness.complete,
            "root_cause": e.root_cause.model_dump() if e.root_cause else None,
        },
    )


async def _reopened(conn: asyncpg.Connection, e: CaseReopened, ev: CloudEvent) -> None:
    await _set(
        conn,
        e.case_id,
        "status = 'investigating', closed_at = NULL, resolved_at = NULL, "
        "documentation_complete = NULL, reopened_count = reopened_count + 1",
    )
    await _disputed(conn, ev, e.case_id, e.account_id, e.invoice_ids, _day(e.reopened_at))
    await _step(
        conn,
        ev,
        e,
        e.reopened_at,
        f"reopened: {e.reason}",
        {"reason": e.reason, "reopened_by": e.reopened_by},
    )


async def _sla_breached(conn: asyncpg.Connection, e: CaseSlaBreached, ev: CloudEvent) -> None:
    await _set(conn, e.case_id, "sla_breached = true")
    await _step(
        conn,
        ev,
        e,
        e.breached_at,
        "SLA breached",
        {"sla_due_at": e.sla_due_at, "sla_target_days": e.sla_target_days},
    )


async def _escalated(conn: asyncpg.Connection, e: CaseEscalated, ev: CloudEvent) -> None:
    await conn.execute(
        """
        INSERT INTO escalations (escalation_id, origin, account_id, case_id, cause, team,
                                 reason, escalated_on, due_date)
        VALUES ($1, 'case', $2, $3, $4, $4, $5, $6, $7)
        ON CONFLICT (escalation_id) DO UPDATE SET cause = EXCLUDED.cause, team = EXCLUDED.team,
            reason = EXCLUDED.reason, escalated_on = EXCLUDED.escalated_on,
            due_date = EXCLUDED.due_date
        """,
        str(e.escalation_id),
        e.account_id,
        e.case_id,
        e.team.value,
        (e.cause or EscalationCause.OTHER).value,
        _day(e.escalated_at),
        e.due_date,
    )
    await _step(
        conn,
        ev,
        e,
        e.escalated_at,
        f"escalated to {_words(e.team.value)}",
        {
            "escalation_id": e.escalation_id,
            "team": e.team.value,
            "question": e.question,
            "due_date": e.due_date,
            "escalated_by": e.escalated_by,
            "cause": e.cause.value if e.cause else None,
        },
    )


async def _escalation_answered(
    conn: asyncpg.Connection, e: CaseEscalationAnswered, ev: CloudEvent
) -> None:
    await conn.execute(
        """
        INSERT INTO escalations (escalation_id, origin, account_id, case_id, cause, team,
                                 escalated_on, answered_on, answered_by, overdue)
        VALUES ($1, 'case', $2, $3, $4, $4, $5, $5, $6, $7)
        ON CONFLICT (escalation_id) DO UPDATE SET answered_on = EXCLUDED.answered_on,
            answered_by = EXCLUDED.answered_by, overdue = EXCLUDED.overdue
        """,
        str(e.escalation_id),
        e.account_id,
        e.case_id,
        e.team.value,
        _day(e.answered_at),
        e.answered_by,
        e.overdue,
    )
    await _step(
        conn,
        ev,
        e,
        e.answered_at,
        f"{_words(e.team.value)} answered" + (" (overdue)" if e.overdue else ""),
        {
            "escalation_id": e.escalation_id,
            "team": e.team.value,
            "answer": e.answer,
            "answered_by": e.answered_by,
            "overdue": e.overdue,
        },
    )


def _attached(e: CaseNoteAdded) -> str:
    """What a note brought, named in its title: a file is what the reader looks for."""
    if not e.attachments:
        return ""
    return f" [attached: {', '.join(a.filename for a in e.attachments)}]"


async def _note(conn: asyncpg.Connection, e: CaseNoteAdded, ev: CloudEvent) -> None:
    attachments = [a.model_dump() for a in e.attachments]
    if e.source is NoteSource.INBOUND_EMAIL:
        await _step(
            conn,
            ev,
            e,
            e.added_at,
            f"email from {e.email_from or 'the customer'}"
            + (f": {e.email_subject}" if e.email_subject else "")
            + _attached(e),
            {
                "note_id": e.note_id,
                "direction": "inbound",
                "from": e.email_from,
                "subject": e.email_subject,
                "message_id": e.email_message_id,
                "body": e.body,
                "attachments": attachments,
            },
            kind="email",
        )
    else:
        await _step(
            conn,
            ev,
            e,
            e.added_at,
            f"note by {e.author}" + _attached(e),
            {"note_id": e.note_id, "author": e.author, "body": e.body, "attachments": attachments},
        )


async def _customer_updated(
    conn: asyncpg.Connection, e: CaseCustomerUpdated, ev: CloudEvent
) -> None:
    await _step(
        conn,
        ev,
        e,
        e.sent_at,
        f"customer updated by {_words(e.channel.value)}: {e.summary}",
        {
            "update_id": e.update_id,
            "direction": "outbound",
            "channel": e.channel.value,
            "summary": e.summary,
            "recipient": e.recipient,
            "message_id": e.email_message_id,
            "sent_by": e.sent_by,
        },
        kind=_CHANNEL_KIND.get(e.channel, "case"),
    )


async def _customer_confirmed(
    conn: asyncpg.Connection, e: CaseCustomerConfirmed, ev: CloudEvent
) -> None:
    await _set(
        conn,
        e.case_id,
        "confirmed_at = $2, satisfaction = $3, satisfaction_comment = $4",
        e.confirmed_at,
        e.satisfaction,
        e.satisfaction_comment,
    )
    await _step(
        conn,
        ev,
        e,
        e.confirmed_at,
        f"confirmed by {e.confirmed_by_name} ({_words(e.channel.value)})",
        {
            "confirmed_by_name": e.confirmed_by_name,
            "channel": e.channel.value,
            "note": e.note,
            "recorded_by": e.recorded_by,
            "satisfaction": e.satisfaction,
            "satisfaction_comment": e.satisfaction_comment,
        },
    )


async def _correction_requested(
    conn: asyncpg.Connection, e: CaseCorrectionRequested, ev: CloudEvent
) -> None:
    await _step(
        conn,
        ev,
        e,
        e.requested_at,
        f"{e.direction.value} requested of billing",
        {
            "correction_id": e.correction_id,
            "invoice_id": e.invoice_id,
            "amount_minor": e.amount_minor,
            "currency": e.currency,
            "direction": e.direction.value,
            "reason": e.reason,
            "reason_code": e.reason_code,
            "requested_by": e.requested_by,
        },
    )


async def _correction_applied(
    conn: asyncpg.Connection, e: CaseCorrectionApplied, ev: CloudEvent
) -> None:
    await conn.execute(
        """
        INSERT INTO case_corrections (correction_id, case_id, invoice_id, currency, direction,
                                      amount_minor, effective_date)
        VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (correction_id) DO NOTHING
        """,
        e.correction_id,
        e.case_id,
        e.invoice_id,
        e.currency,
        e.direction.value,
        e.amount_minor,
        e.effective_date,
    )
    await _step(
        conn,
        ev,
        e,
        e.recorded_at,
        f"{e.direction.value} applied by billing",
        {
            "correction_id": e.correction_id,
            "invoice_id": e.invoice_id,
            "adjustment_id": e.adjustment_id,
            "amount_minor": e.amount_minor,
            "currency": e.currency,
            "direction": e.direction.value,
        },
    )


async def _correction_rejected(
    conn: asyncpg.Connection, e: CaseCorrectionRejected, ev: CloudEvent
) -> None:
    await _step(
        conn,
        ev,
        e,
        e.recorded_at,
        f"correction rejected by billing: {e.detail}",
        {
            "correction_id": e.correction_id,
            "invoice_id": e.invoice_id,
            "reason_code": e.reason_code,
            "detail": e.detail,
        },
    )


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
    CaseNoteAdded.event_type: _note,
    CaseCustomerUpdated.event_type: _customer_updated,
    CaseCustomerConfirmed.event_type: _customer_confirmed,
    CaseCorrectionRequested.event_type: _correction_requested,
    CaseCorrectionApplied.event_type: _correction_applied,
    CaseCorrectionRejected.event_type: _correction_rejected,
}

project_cases_event = dispatcher(_PROJECTORS)
