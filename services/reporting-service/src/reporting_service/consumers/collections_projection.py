"""Projects `collections.events.v1`: who owns each account, and what the cadence did.

Same rules as the billing projection: every write is keyed by what the event
names and upserts what it knows, because a task's completion may be read
before its scheduling (a rebuild, a redelivered partition) and a hold may
name invoices billing has not told us about yet.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from receivables_platform.contracts.collections import (
    AccountAssigned,
    AccountEscalated,
    AccountNoteAdded,
    AccountProfileChanged,
    AutoPayConverted,
    AutoPayOfferAnswered,
    AutoPayOffered,
    CommitmentBroken,
    CommitmentCancelled,
    CommitmentKept,
    CommitmentMade,
    CommitmentPartiallyKept,
    ContactAttempted,
    ContactOutcome,
    EmailFailed,
    EmailSent,
    HoldPlaced,
    HoldReleased,
    TaskCancelled,
    TaskCompleted,
    TaskHandedOver,
    TaskMissed,
    TaskRescheduled,
    TaskScheduled,
)
from receivables_platform.envelope import CloudEvent
from reporting_service.consumers.dispatch import Projector, dispatcher
from reporting_service.consumers.timeline import Entry, on_day, record

SOURCE = "collections"
# a contact's channel is the timeline kind it shows as (the account's contact history)
_CONTACT_KIND = {"call": "call", "email": "email", "letter": "letter"}
# an email the service sent comes as the attempt and as `email.sent`/`email.failed`, which
# says more (recipient, template, error): the timeline shows that one only
_TOLD_BY_THE_MAILER = frozenset({ContactOutcome.EMAIL_SENT, ContactOutcome.EMAIL_FAILED})


def _words(value: str) -> str:
    return value.replace("_", " ")


async def _assigned(conn: asyncpg.Connection, e: AccountAssigned, _: CloudEvent) -> None:
    """The latest effective assignment wins, whatever order the events arrive in."""
    await conn.execute(
        """
        INSERT INTO col_assignments (account_id, collector_id, effective_on) VALUES ($1, $2, $3)
        ON CONFLICT (account_id) DO UPDATE SET collector_id = EXCLUDED.collector_id,
            effective_on = EXCLUDED.effective_on
        WHERE col_assignments.effective_on <= EXCLUDED.effective_on
        """,
        e.account_id,
        e.collector_id,
        e.effective_on,
    )


async def _task_row(
    conn: asyncpg.Connection,
    task_id: Any,
    account_id: Any,
    collector_id: str | None,
    kind: str,
    business_date: Any,
) -> None:
    await conn.execute(
        """
        INSERT INTO col_tasks (task_id, account_id, collector_id, kind, business_date)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (task_id) DO UPDATE SET account_id = EXCLUDED.account_id,
            collector_id = coalesce(EXCLUDED.collector_id, col_tasks.collector_id),
            kind = EXCLUDED.kind, business_date = EXCLUDED.business_date
        """,
        task_id,
        account_id,
        collector_id,
        kind,
        business_date,
    )
    await _due(conn, task_id, business_date)


async def _due(conn: asyncpg.Connection, task_id: Any, day: Any) -> None:
    await conn.execute(
        "INSERT INTO col_task_due_days (task_id, due_date) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        task_id,
        day,
    )


async def _task_scheduled(conn: asyncpg.Connection, e: TaskScheduled, _: CloudEvent) -> None:
    await _task_row(conn, e.task_id, e.account_id, e.collector_id, e.kind.value, e.business_date)
    await conn.execute(
        "UPDATE col_tasks SET escalates = $2 WHERE task_id = $1", e.task_id, e.escalates
    )


async def _task_completed(conn: asyncpg.Connection, e: TaskCompleted, _: CloudEvent) -> None:
    await _task_row(
        conn, e.task_id, e.account_id, e.assigned_collector_id, e.kind.value, e.business_date
    )
    await conn.execute(
        "UPDATE col_tasks SET completed_on = $2, completed_by = $3, outcome = $4, "
        "collector_id = coalesce(collector_id, $3) WHERE task_id = $1",
        e.task_id,
        e.completed_on,
        e.collector_id,
        e.outcome.value,
    )


async def _task_missed(conn: asyncpg.Connection, e: TaskMissed, _: CloudEvent) -> None:
    await _task_row(conn, e.task_id, e.account_id, e.collector_id, e.kind.value, e.business_date)
    await _due(conn, e.task_id, e.missed_on)
    await _due(conn, e.task_id, e.carried_over_to)
    await conn.execute(
        "UPDATE col_tasks SET times_missed = greatest(times_missed, $2) WHERE task_id = $1",
        e.task_id,
        e.times_missed,
    )


async def _task_cancelled(conn: asyncpg.Connection, e: TaskCancelled, _: CloudEvent) -> None:
    await _task_row(conn, e.task_id, e.account_id, e.collector_id, e.kind.value, e.business_date)
    await conn.execute(
        "UPDATE col_tasks SET cancelled_on = $2 WHERE task_id = $1", e.task_id, e.cancelled_on
    )


async def _task_rescheduled(conn: asyncpg.Connection, e: TaskRescheduled, _: CloudEvent) -> None:
    """Due on the new date instead: a due day that had not begun when it was moved is no
    longer one the task counts as due on."""
    await _task_row(conn, e.task_id, e.account_id, e.collector_id, e.kind.value, e.business_date)
    await conn.execute("UPDATE col_tasks SET due_on = $2 WHERE task_id = $1", e.task_id, e.due_on)
    if e.previous_due_on >= e.rescheduled_on:
        await conn.execute(
            "DELETE FROM col_task_due_days WHERE task_id = $1 AND due_date = $2",
            e.task_id,
            e.previous_due_on,
        )
    await _due(conn, e.task_id, e.due_on)


async def _task_handed_over(conn: asyncpg.Connection, e: TaskHandedOver, _: CloudEvent) -> None:
    await _task_row(conn, e.task_id, e.account_id, e.collector_id, e.kind.value, e.business_date)
    await conn.execute(
        "UPDATE col_tasks SET collector_id = $2 WHERE task_id = $1", e.task_id, e.collector_id
    )


async def _contact(conn: asyncpg.Connection, e: ContactAttempted, ev: CloudEvent) -> None:
    await conn.execute(
        """
        INSERT INTO col_contacts (contact_id, account_id, collector_id, channel, outcome,
                                  business_date, attempted_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (contact_id) DO NOTHING
        """,
        e.contact_id,
        e.account_id,
        e.collector_id,
        e.channel.value,
        e.outcome.value,
        e.business_date,
        e.attempted_at,
    )
    if e.outcome in _TOLD_BY_THE_MAILER:
        return
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                e.attempted_at,
                _CONTACT_KIND[e.channel.value],
                f"{e.channel.value.capitalize()} by {e.collector_id}: {_words(e.outcome.value)}",
                {
                    "contact_id": e.contact_id,
                    "collector_id": e.collector_id,
                    "channel": e.channel.value,
                    "outcome": e.outcome.value,
                    "notes": e.notes,
                    "task_id": e.task_id,
                    "invoice_ids": e.invoice_ids,
                    "amount_past_due_minor": e.amount_past_due_minor,
                    "currency": e.currency,
                },
            )
        ],
    )


async def _email_sent(conn: asyncpg.Connection, e: EmailSent, ev: CloudEvent) -> None:
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                e.sent_at,
                "email",
                f"Email {_words(e.template)} sent to {e.recipient}",
                {
                    "contact_id": e.contact_id,
                    "collector_id": e.collector_id,
                    "outcome": "sent",
                    "template": e.template,
                    "recipient": e.recipient,
                    "message_id": e.message_id,
                    "invoice_ids": e.invoice_ids,
                },
            )
        ],
    )


async def _email_failed(conn: asyncpg.Connection, e: EmailFailed, ev: CloudEvent) -> None:
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                e.failed_at,
                "email",
                f"Email {_words(e.template)} failed: {e.error}",
                {
                    "contact_id": e.contact_id,
                    "collector_id": e.collector_id,
                    "outcome": "failed",
                    "template": e.template,
                    "recipient": e.recipient,
                    "error": e.error,
                    "permanent": e.permanent,
                },
            )
        ],
    )


async def _commitment_made(conn: asyncpg.Connection, e: CommitmentMade, ev: CloudEvent) -> None:
    await conn.execute(
        """
        INSERT INTO col_commitments (commitment_id, account_id, collector_id, amount_minor,
                                     currency, promised_date, made_on)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (commitment_id) DO UPDATE SET account_id = EXCLUDED.account_id,
            collector_id = EXCLUDED.collector_id, amount_minor = EXCLUDED.amount_minor,
            currency = EXCLUDED.currency, promised_date = EXCLUDED.promised_date,
            made_on = EXCLUDED.made_on
        """,
        e.commitment_id,
        e.account_id,
        e.collector_id,
        e.amount_minor,
        e.currency,
        e.promised_date,
        e.made_on,
    )
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                e.made_at,
                "promise",
                f"Promise to pay by {e.promised_date}",
                {
                    "commitment_id": e.commitment_id,
                    "collector_id": e.collector_id,
                    "status": "open",
                    "amount_minor": e.amount_minor,
                    "currency": e.currency,
                    "promised_date": e.promised_date,
                    "invoice_ids": e.invoice_ids,
                },
            )
        ],
    )


async def _judged(
    conn: asyncpg.Connection, e: Any, ev: CloudEvent, status: str, paid: int, on: Any
) -> None:
    await conn.execute(
        """
        INSERT INTO col_commitments (commitment_id, account_id, collector_id, amount_minor,
                                     currency, promised_date, status, paid_minor, judged_on)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (commitment_id) DO UPDATE SET status = EXCLUDED.status,
            paid_minor = EXCLUDED.paid_minor, judged_on = EXCLUDED.judged_on
        """,
        e.commitment_id,
        e.account_id,
        e.collector_id,
        e.amount_minor,
        e.currency,
        e.promised_date,
        status,
        paid,
        on,
    )
    await _promise_fate(
        conn,
        e,
        ev,
        status,
        on,
        {"paid_minor": paid, "amount_minor": e.amount_minor, "currency": e.currency},
    )


async def _promise_fate(
    conn: asyncpg.Connection, e: Any, ev: CloudEvent, status: str, on: Any, detail: dict[str, Any]
) -> None:
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                on_day(on, ev),
                "promise",
                f"Promise to pay by {e.promised_date} {_words(status)}"
                if hasattr(e, "promised_date")
                else f"Promise to pay {_words(status)}",
                {
                    "commitment_id": e.commitment_id,
                    "collector_id": e.collector_id,
                    "status": status,
                    **detail,
                },
            )
        ],
    )


async def _kept(conn: asyncpg.Connection, e: CommitmentKept, ev: CloudEvent) -> None:
    await _judged(conn, e, ev, "kept", e.paid_minor, e.kept_on)


async def _partially_kept(
    conn: asyncpg.Connection, e: CommitmentPartiallyKept, ev: CloudEvent
) -> None:
    await _judged(conn, e, ev, "partially_kept", e.paid_minor, e.evaluated_on)


async def _broken(conn: asyncpg.Connection, e: CommitmentBroken, ev: CloudEvent) -> None:
    await _judged(conn, e, ev, "broken", e.paid_minor, e.broken_on)


async def _cancelled(conn: asyncpg.Connection, e: CommitmentCancelled, ev: CloudEvent) -> None:
    await conn.execute(
        """
        INSERT INTO col_commitments (commitment_id, account_id, collector_id, status, judged_on)
        VALUES ($1, $2, $3, 'cancelled', $4)
        ON CONFLICT (commitment_id) DO UPDATE SET status = 'cancelled', judged_on = $4
        """,
        e.commitment_id,
        e.account_id,
        e.collector_id,
        e.cancelled_on,
    )
    await _promise_fate(
        conn,
        e,
        ev,
        "cancelled",
        e.cancelled_on,
        {"cancelled_by": e.cancelled_by, "reason": e.reason},
    )


async def _offer(
    conn: asyncpg.Connection,
    ev: CloudEvent,
    offer_id: Any,
    account_id: Any,
    collector_id: str,
    column: str,
    value: Any,
    outcome: str | None = None,
) -> None:
    assert column in ("offered_on", "answered_on", "enrolled_on")
    await conn.execute(
        f"""
        INSERT INTO col_autopay_offers (offer_id, account_id, collector_id, {column}, outcome)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (offer_id) DO UPDATE SET {column} = EXCLUDED.{column},
            outcome = coalesce(EXCLUDED.outcome, col_autopay_offers.outcome)
        """,  # noqa: S608 - the column is one of three literals
        offer_id,
        account_id,
        collector_id,
        value,
        outcome,
    )
    title = {
        "offered_on": "Auto-pay offered",
        "answered_on": f"Auto-pay offer answered: {_words(outcome or '')}",
        "enrolled_on": "Auto-pay offer converted",
    }[column]
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                account_id,
                on_day(value, ev),
                "autopay",
                f"{title} by {collector_id}",
                {"offer_id": offer_id, "collector_id": collector_id, "outcome": outcome},
            )
        ],
    )


async def _offered(conn: asyncpg.Connection, e: AutoPayOffered, ev: CloudEvent) -> None:
    await _offer(conn, ev, e.offer_id, e.account_id, e.collector_id, "offered_on", e.offered_on)


async def _answered(conn: asyncpg.Connection, e: AutoPayOfferAnswered, ev: CloudEvent) -> None:
    await _offer(
        conn,
        ev,
        e.offer_id,
        e.account_id,
        e.collector_id,
        "answered_on",
        e.answered_on,
        e.outcome.value,
    )


async def _converted(conn: asyncpg.Connection, e: AutoPayConverted, ev: CloudEvent) -> None:
    await _offer(conn, ev, e.offer_id, e.account_id, e.collector_id, "enrolled_on", e.enrolled_on)
    await conn.execute(
        "UPDATE col_autopay_offers SET offered_on = coalesce(offered_on, $2) WHERE offer_id = $1",
        e.offer_id,
        e.offered_on,
    )


async def _hold_placed(conn: asyncpg.Connection, e: HoldPlaced, ev: CloudEvent) -> None:
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                on_day(e.placed_on, ev),
                "hold",
                f"Hold placed on {len(e.invoice_ids)} invoice(s): {e.reason}",
                {
                    "hold_id": e.hold_id,
                    "invoice_ids": e.invoice_ids,
                    "source": e.source.value,
                    "reason": e.reason,
                    "case_id": e.case_id,
                    "placed_by": e.placed_by,
                    "ends_on": e.ends_on,
                },
            )
        ],
    )
    for invoice_id in e.invoice_ids:
        await conn.execute(
            """
            INSERT INTO ar_invoice_flags (flag_id, invoice_id, account_id, flag, source,
                                          since_date, until_date)
            VALUES ($1, $2, $3, 'hold', $4, $5, $6)
            ON CONFLICT (flag_id) DO UPDATE SET since_date = EXCLUDED.since_date,
                until_date = coalesce(ar_invoice_flags.until_date, EXCLUDED.until_date)
            """,
            f"hold:{e.hold_id}:{invoice_id}",
            invoice_id,
            e.account_id,
            str(e.hold_id),
            e.placed_on,
            e.ends_on,
        )


async def _hold_released(conn: asyncpg.Connection, e: HoldReleased, ev: CloudEvent) -> None:
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                on_day(e.released_on, ev),
                "hold",
                f"Hold released ({_words(e.release.value)})",
                {
                    "hold_id": e.hold_id,
                    "invoice_ids": e.invoice_ids,
                    "release": e.release.value,
                    "case_id": e.case_id,
                    "released_by": e.released_by,
                },
            )
        ],
    )
    for invoice_id in e.invoice_ids:
        await conn.execute(
            """
            INSERT INTO ar_invoice_flags (flag_id, invoice_id, account_id, flag, source,
                                          until_date)
            VALUES ($1, $2, $3, 'hold', $4, $5)
            ON CONFLICT (flag_id) DO UPDATE SET until_date = EXCLUDED.until_date
            """,
            f"hold:{e.hold_id}:{invoice_id}",
            invoice_id,
            e.account_id,
            str(e.hold_id),
            e.released_on,
        )


async def _profile_changed(
    conn: asyncpg.Connection, e: AccountProfileChanged, ev: CloudEvent
) -> None:
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                ev.time,
                "profile",
                f"Customer profile changed: {', '.join(_words(c.field) for c in e.changes)} "
                f"(by {e.changed_by})",
                {
                    "changes": [c.model_dump() for c in e.changes],
                    "changed_by": e.changed_by,
                    "profile_version": e.profile_version,
                },
            )
        ],
    )


async def _note_added(conn: asyncpg.Connection, e: AccountNoteAdded, ev: CloudEvent) -> None:
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                ev.time,
                "note",
                f"Note by {e.author}",
                {"note_id": e.note_id, "body": e.body, "author": e.author},
            )
        ],
    )


async def _escalated(conn: asyncpg.Connection, e: AccountEscalated, ev: CloudEvent) -> None:
    await conn.execute(
        """
        INSERT INTO escalations (escalation_id, origin, account_id, collector_id, cause,
                                 escalated_on)
        VALUES ($1, 'collections', $2, $3, $4, $5) ON CONFLICT (escalation_id) DO NOTHING
        """,
        f"collections:{ev.id}",
        e.account_id,
        e.collector_id,
        e.reason,
        e.escalated_on,
    )


_PROJECTORS: dict[str, Projector] = {
    AccountAssigned.event_type: _assigned,
    TaskScheduled.event_type: _task_scheduled,
    TaskCompleted.event_type: _task_completed,
    TaskMissed.event_type: _task_missed,
    TaskCancelled.event_type: _task_cancelled,
    TaskRescheduled.event_type: _task_rescheduled,
    TaskHandedOver.event_type: _task_handed_over,
    ContactAttempted.event_type: _contact,
    EmailSent.event_type: _email_sent,
    EmailFailed.event_type: _email_failed,
    CommitmentMade.event_type: _commitment_made,
    CommitmentKept.event_type: _kept,
    CommitmentPartiallyKept.event_type: _partially_kept,
    CommitmentBroken.event_type: _broken,
    CommitmentCancelled.event_type: _cancelled,
    AutoPayOffered.event_type: _offered,
    AutoPayOfferAnswered.event_type: _answered,
    AutoPayConverted.event_type: _converted,
    HoldPlaced.event_type: _hold_placed,
    HoldReleased.event_type: _hold_released,
    AccountEscalated.event_type: _escalated,
    AccountProfileChanged.event_type: _profile_changed,
    AccountNoteAdded.event_type: _note_added,
}

project_collections_event = dispatcher(_PROJECTORS)
