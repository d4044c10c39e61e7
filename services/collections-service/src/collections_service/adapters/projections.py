"""Tables kept beside the event streams, in the same transaction as the events they mirror.

The worklist, the commitments list and the holds are queried far more than
written, so each stream's events also land here; the stream stays the truth
(and the ETag is its version).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import (
    AccountAssigned,
    AccountEscalated,
    AccountMarkedAtRisk,
    AccountRiskCleared,
    AutoPayConverted,
    AutoPayOfferAnswered,
    AutoPayOffered,
    CommitmentBroken,
    CommitmentCancelled,
    CommitmentInstalmentJudged,
    CommitmentKept,
    CommitmentMade,
    CommitmentPartiallyKept,
    HoldPlaced,
    HoldReleased,
    TaskCancelled,
    TaskCompleted,
    TaskHandedOver,
    TaskMissed,
    TaskRescheduled,
    TaskScheduled,
)
from receivables_platform.store import RecordedEvent


async def project(conn: asyncpg.Connection, recorded: Sequence[RecordedEvent]) -> None:
    for item in recorded:
        await _project(conn, item.contract(), item.version)


async def _project(conn: asyncpg.Connection, event: EventContract, version: int) -> None:
    match event:
        case TaskScheduled():
            await conn.execute(
                "INSERT INTO tasks (task_id, account_id, collector_id, kind, business_date, "
                "due_on, channel, template, escalates, steps, invoice_ids, amount_past_due_minor, "
                "currency, days_past_due, priority_score, commitment_id, version, due_at, note, "
                "created_by) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
                "$14, $15, $16, $17, $18, $19)",
                event.task_id,
                event.account_id,
                event.collector_id,
                event.kind.value,
                event.business_date,
                event.channel.value,
                event.template,
                event.escalates,
                [s.model_dump(mode="json") for s in event.steps],
                event.invoice_ids,
                event.amount_past_due_minor,
                event.currency,
                event.days_past_due,
                event.priority_score,
                event.commitment_id,
                version,
                event.due_at,
                event.note,
                event.created_by,
            )
        case TaskMissed():
            await conn.execute(
                "UPDATE tasks SET due_on = $2, times_missed = $3, version = $4, "
                "due_at = NULL WHERE task_id = $1",
                event.task_id,
                event.carried_over_to,
                event.times_missed,
                version,
            )
        case TaskRescheduled():
            await conn.execute(
                "UPDATE tasks SET due_on = $2, due_at = $3, version = $4 WHERE task_id = $1",
                event.task_id,
                event.due_on,
                event.due_at,
                version,
            )
        case TaskHandedOver():
            await conn.execute(
                "UPDATE tasks SET collector_id = $2, version = $3 WHERE task_id = $1",
                event.task_id,
                event.collector_id,
                version,
            )
        case TaskCompleted():
            await conn.execute(
                "UPDATE tasks SET status = 'completed', outcome = $2, closed_by = $3, "
                "closed_on = $4, version = $5 WHERE task_id = $1",
                event.task_id,
                event.outcome.value,
                event.collector_id,
                event.completed_on,
                version,
            )
        case TaskCancelled():
            await conn.execute(
                "UPDATE tasks SET status = 'cancelled', outcome = $2, closed_on = $3, "
                "version = $4 WHERE task_id = $1",
                event.task_id,
                event.reason.value,
                event.cancelled_on,
                version,
            )
        case CommitmentKept() | CommitmentPartiallyKept() | CommitmentBroken():
            status = {
                CommitmentKept: "kept",
                CommitmentPartiallyKept: "partially_kept",
                CommitmentBroken: "broken",
            }[type(event)]
            judged_on = (
                event.kept_on
                if isinstance(event, CommitmentKept)
                else event.evaluated_on
                if isinstance(event, CommitmentPartiallyKept)
                else event.broken_on
            )
            await conn.execute(
                "UPDATE commitments SET status = $2, paid_minor = $3, judged_on = $4, "
                "version = $5 WHERE commitment_id = $1",
                event.commitment_id,
                status,
                event.paid_minor,
                judged_on,
                version,
            )
        case CommitmentInstalmentJudged():
            await conn.execute(
                "UPDATE commitments SET instalments_judged = greatest(instalments_judged, $2), "
                "paid_minor = $3, version = $4 WHERE commitment_id = $1",
                event.commitment_id,
                event.number,
                event.paid_minor,
                version,
            )
        case CommitmentCancelled():
            await conn.execute(
                "UPDATE commitments SET status = 'cancelled', judged_on = $2, version = $3 "
                "WHERE commitment_id = $1",
                event.commitment_id,
                event.cancelled_on,
                version,
            )
        case AccountAssigned():
            await conn.execute(
                "UPDATE accounts SET collector_id = $2, assigned_by_rule = $3, version = $4 "
                "WHERE account_id = $1",
                event.account_id,
                event.collector_id,
                event.rule_id,
                version,
            )
            await conn.execute(
                "UPDATE tasks SET collector_id = $2 WHERE account_id = $1 "
                "AND status = 'open' AND kind <> 'escalation'",
                event.account_id,
                event.collector_id,
            )
        case AccountMarkedAtRisk():
            await conn.execute(
                "UPDATE accounts SET at_risk_since = coalesce(at_risk_since, $2), "
                "version = $3 WHERE account_id = $1",
                event.account_id,
                event.marked_on,
                version,
            )
        case AccountEscalated():
            await conn.execute(
                "UPDATE accounts SET version = $2 WHERE account_id = $1", event.account_id, version
            )
        case AccountRiskCleared():
            await conn.execute(
                "UPDATE accounts SET at_risk_since = NULL, version = $2 WHERE account_id = $1",
                event.account_id,
                version,
            )
        case HoldPlaced():
            await conn.execute(
                "INSERT INTO holds (hold_id, account_id, invoice_ids, source, case_id, reason, "
                "placed_on, ends_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                event.hold_id,
                event.account_id,
                event.invoice_ids,
                event.source.value,
                event.case_id,
                event.reason,
                event.placed_on,
                event.ends_on,
            )
            await conn.execute(
                "UPDATE accounts SET version = $2 WHERE account_id = $1", event.account_id, version
            )
        case HoldReleased():
            await conn.execute(
                "UPDATE holds SET released_on = $2, release = $3 WHERE hold_id = $1",
                event.hold_id,
                event.released_on,
                event.release.value,
            )
            await conn.execute(
                "UPDATE accounts SET version = $2 WHERE account_id = $1", event.account_id, version
            )
        case AutoPayOffered():
            await conn.execute(
                "INSERT INTO autopay_offers (offer_id, account_id, collector_id, channel, "
                "offered_on, version) VALUES ($1, $2, $3, $4, $5, $6)",
                event.offer_id,
                event.account_id,
                event.collector_id,
                event.channel.value,
                event.offered_on,
                version,
            )
        case AutoPayOfferAnswered():
            await conn.execute(
                "UPDATE autopay_offers SET outcome = $2, version = $3 WHERE offer_id = $1",
                event.offer_id,
                event.outcome.value,
                version,
            )
        case AutoPayConverted():
            await conn.execute(
                "UPDATE autopay_offers SET converted_on = $2, version = $3 WHERE offer_id = $1",
                event.offer_id,
                event.enrolled_on,
                version,
            )


async def project_commitment_made(
    conn: asyncpg.Connection, recorded: Sequence[RecordedEvent], deadline: date
) -> None:
    """The promise's row; its deadline (promised date plus grace in business days) is the
    calendar's, which the projection does not have, so the use case hands it over."""
    for item in recorded:
        event = item.contract()
        if isinstance(event, CommitmentMade):
            await conn.execute(
                "INSERT INTO commitments (commitment_id, account_id, collector_id, "
                "amount_minor, currency, promised_date, grace_days, deadline, invoice_ids, "
                "channel, made_on, version, instalments) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                "$8, $9, $10, $11, $12, $13)",
                event.commitment_id,
                event.account_id,
                event.collector_id,
                event.amount_minor,
                event.currency,
                event.promised_date,
                event.grace_days,
                deadline,
                event.invoice_ids,
                event.channel.value,
                event.made_on,
                item.version,
                [i.model_dump(mode="json") for i in event.instalments],
            )


async def record_contact(
    conn: asyncpg.Connection,
    contact_id: UUID,
    account_id: UUID,
    row: Mapping[str, Any],
    *,
    task_id: UUID | None,
    by: str,
    at: datetime,
    today: date,
) -> None:
    """The attempt's row: what the contact's events say, plus what they keep short or leave
    out (the server's whole answer, the language asked for even when it was written in it)."""
    await conn.execute(
        "INSERT INTO contacts (contact_id, account_id, collector_id, channel, outcome, task_id, "
        "attempted_at, business_date, notes, email_to, email_message_id, email_error, "
        "email_cc, language, language_requested) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        contact_id,
        account_id,
        by,
        row["channel"],
        row["outcome"],
        task_id,
        at,
        today,
        row.get("notes"),
        row.get("email_to"),
        row.get("email_message_id"),
        row.get("email_error"),
        list(row.get("email_cc", ())),
        row.get("language"),
        row.get("language_requested"),
    )
