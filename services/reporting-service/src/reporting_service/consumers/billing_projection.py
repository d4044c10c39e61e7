"""Projects `billing.events.v1` into the AR read model.

Runs inside the consumer runner's transaction. The runner dedupes by
CloudEvents id, and every write here is keyed by what the event names as
well, so replaying an event (a rebuild, a test) changes nothing. Events may
arrive out of order across streams, so every write is an upsert that fills
what it knows: a payment applied before its invoice is projected is a dated
balance change waiting for the invoice row to join it.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from receivables_platform.contracts.billing import (
    AccountRegistered,
    AccountUpdated,
    AdjustmentKind,
    ApprovalGranted,
    ApprovalRejected,
    ApprovalRequested,
    AutoPayCancelled,
    AutoPayEnrolled,
    Contact,
    InvoiceAdjusted,
    InvoiceIssued,
    InvoiceVoided,
    InvoiceWrittenOff,
    PaymentApplied,
    PaymentReceived,
    PaymentReversed,
)
from receivables_platform.envelope import CloudEvent
from reporting_service.consumers.dispatch import BulkDispatcher, BulkProjector, Projector
from reporting_service.consumers.timeline import Entry, on_day, record
from reporting_service.domain.search import phone_digits

SOURCE = "billing"


class _Change(NamedTuple):
    """One dated change to one invoice's open balance, keyed by (event, invoice)."""

    event_id: str
    invoice_id: UUID
    account_id: UUID
    kind: str
    amount_minor: int
    effective: date
    reference_id: UUID | None = None
    reason: str | None = None


async def _balance_changes(conn: asyncpg.Connection, changes: list[_Change]) -> None:
    await conn.execute(
        """
        INSERT INTO ar_balance_changes (event_id, invoice_id, account_id, kind, amount_minor,
                                        effective_date, reference_id, reason)
        SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::bigint[],
                             $6::date[], $7::uuid[], $8::text[])
        ON CONFLICT (event_id, invoice_id) DO NOTHING
        """,
        *(list(column) for column in zip(*changes, strict=True)),
    )


async def _invoices_issued(
    conn: asyncpg.Connection, items: list[tuple[InvoiceIssued, CloudEvent]]
) -> None:
    """The invoices, their accounts as seen and their timeline entries in one statement."""
    latest = {e.invoice_id: e for e, _ in items}  # one upsert may not touch a row twice
    issued = sorted(latest.values(), key=lambda e: e.invoice_id)
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                on_day(e.issue_date, ev),
                "invoice",
                f"Invoice {e.external_id} issued",
                {
                    "invoice_id": e.invoice_id,
                    "external_id": e.external_id,
                    "total_minor": e.total_minor,
                    "currency": e.currency,
                    "issue_date": e.issue_date,
                    "due_date": e.due_date,
                    "actor": e.actor,
                },
            )
            for e, ev in items
        ],
        along=_ISSUED,
        along_args=(
            [e.invoice_id for e in issued],
            [e.account_id for e in issued],
            [e.external_id for e in issued],
            [e.currency for e in issued],
            [e.total_minor for e in issued],
            [e.issue_date for e in issued],
            [e.due_date for e in issued],
            [_plan(e) for e in issued],
        ),
    )


# `record`'s along clauses: parameters from $10 (timeline.ALONG_FIRST_PARAMETER). The
# account row is `_accounts_seen`'s, for the accounts of the invoices.
_ISSUED = """
WITH issued AS (
    INSERT INTO ar_invoices (invoice_id, account_id, external_id, currency, total_minor,
                             issue_date, due_date, instalments)
    SELECT u.invoice_id, u.account_id, u.external_id, u.currency, u.total_minor,
           u.issue_date, u.due_date, u.plan::jsonb
    FROM unnest($10::uuid[], $11::uuid[], $12::text[], $13::text[], $14::bigint[],
                $15::date[], $16::date[], $17::text[])
         u (invoice_id, account_id, external_id, currency, total_minor, issue_date,
            due_date, plan)
    ON CONFLICT (invoice_id) DO UPDATE SET
        account_id = EXCLUDED.account_id, external_id = EXCLUDED.external_id,
        currency = EXCLUDED.currency, total_minor = EXCLUDED.total_minor,
        issue_date = EXCLUDED.issue_date, due_date = EXCLUDED.due_date,
        instalments = EXCLUDED.instalments, updated_at = now()
), seen AS (
    INSERT INTO ar_accounts (account_id) SELECT DISTINCT a FROM unnest($11::uuid[]) a
    ORDER BY a ON CONFLICT DO NOTHING
)
"""


def _plan(issued: InvoiceIssued) -> str | None:
    """The instalments as aging reads them (ar_open_instalments); one instalment on the due
    date, the common case, is kept as none: the same aging without a JSON value per row."""
    plan = issued.instalments
    if len(plan) == 1 and plan[0].due_date == issued.due_date:
        return None
    return json.dumps(
        [{"due_date": i.due_date.isoformat(), "amount_minor": i.amount_minor} for i in plan]
    )


async def _invoice_numbers(conn: asyncpg.Connection, invoice_ids: list[UUID]) -> dict[UUID, str]:
    """Titles name invoices as people know them; an invoice not projected yet has none."""
    rows = await conn.fetch(
        "SELECT invoice_id, external_id FROM ar_invoices "
        "WHERE invoice_id = ANY($1::uuid[]) AND external_id IS NOT NULL",
        invoice_ids,
    )
    return {r["invoice_id"]: r["external_id"] for r in rows}


def _invoice(numbers: dict[UUID, str], invoice_id: UUID) -> str:
    return f"invoice {numbers[invoice_id]}" if invoice_id in numbers else "an invoice"


async def _invoices_adjusted(
    conn: asyncpg.Connection, items: list[tuple[InvoiceAdjusted, CloudEvent]]
) -> None:
    await _balance_changes(
        conn,
        [
            _Change(
                ev.id,
                e.invoice_id,
                e.account_id,
                f"adjustment_{e.kind.value}",
                (-1 if e.kind is AdjustmentKind.CREDIT else 1) * e.amount_minor,
                e.effective_date,
                e.adjustment_id,
                e.reason_code,
            )
            for e, ev in items
        ],
    )
    numbers = await _invoice_numbers(conn, [e.invoice_id for e, _ in items])
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                on_day(e.effective_date, ev),
                "adjustment",
                f"{e.kind.value.capitalize()} on {_invoice(numbers, e.invoice_id)} "
                f"({e.reason_code})",
                {
                    "invoice_id": e.invoice_id,
                    "adjustment_id": e.adjustment_id,
                    "kind": e.kind.value,
                    "amount_minor": e.amount_minor,
                    "currency": e.currency,
                    "reason_code": e.reason_code,
                    "case_id": e.case_id,
                    "memo": e.memo,
                    "effective_date": e.effective_date,
                    "actor": e.actor,
                    "approved_by": e.approved_by,
                },
            )
            for e, ev in items
        ],
    )


async def _invoice_voided(conn: asyncpg.Connection, e: InvoiceVoided, ev: CloudEvent) -> None:
    if e.voided_amount_minor:
        await _balance_changes(
            conn,
            [
                _Change(
                    ev.id,
                    e.invoice_id,
                    e.account_id,
                    "void",
                    -e.voided_amount_minor,
                    e.voided_on,
                    reason=e.reason,
                )
            ],
        )
    await _invoice_marked(conn, e.invoice_id, e.account_id, "voided_on", e.voided_on)
    numbers = await _invoice_numbers(conn, [e.invoice_id])
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                on_day(e.voided_on, ev),
                "invoice",
                f"{_invoice(numbers, e.invoice_id).capitalize()} voided",
                {
                    "invoice_id": e.invoice_id,
                    "voided_amount_minor": e.voided_amount_minor,
                    "currency": e.currency,
                    "reason": e.reason,
                    "actor": e.actor,
                },
            )
        ],
    )


async def _invoice_written_off(
    conn: asyncpg.Connection, e: InvoiceWrittenOff, ev: CloudEvent
) -> None:
    await _balance_changes(
        conn,
        [
            _Change(
                ev.id,
                e.invoice_id,
                e.account_id,
                "write_off",
                -e.amount_minor,
                e.written_off_on,
                reason=e.reason_code,
            )
        ],
    )
    await _invoice_marked(conn, e.invoice_id, e.account_id, "written_off_on", e.written_off_on)
    numbers = await _invoice_numbers(conn, [e.invoice_id])
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                on_day(e.written_off_on, ev),
                "invoice",
                f"{_invoice(numbers, e.invoice_id).capitalize()} written off ({e.reason_code})",
                {
                    "invoice_id": e.invoice_id,
                    "amount_minor": e.amount_minor,
                    "currency": e.currency,
                    "reason_code": e.reason_code,
                    "actor": e.actor,
                    "approved_by": e.approved_by,
                },
            )
        ],
    )


async def _invoice_marked(
    conn: asyncpg.Connection, invoice_id: UUID, account_id: UUID, column: str, day: date
) -> None:
    """The invoice row may not exist yet: create its key, the issue event fills the rest."""
    assert column in ("voided_on", "written_off_on")
    await conn.execute(
        f"""
        INSERT INTO ar_invoices (invoice_id, account_id, {column}) VALUES ($1, $2, $3)
        ON CONFLICT (invoice_id) DO UPDATE SET {column} = EXCLUDED.{column}, updated_at = now()
        """,  # noqa: S608 - the column is one of two literals
        invoice_id,
        account_id,
        day,
    )


async def _payments_received(
    conn: asyncpg.Connection, items: list[tuple[PaymentReceived, CloudEvent]]
) -> None:
    latest = {e.payment_id: e for e, _ in items}  # one upsert may not touch a row twice
    received = sorted(latest.values(), key=lambda e: e.payment_id)
    await conn.execute(
        """
        INSERT INTO ar_payments (payment_id, account_id, external_id, amount_minor, currency,
                                 method, received_on)
        SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bigint[], $5::text[],
                             $6::text[], $7::date[])
        ON CONFLICT (payment_id) DO UPDATE SET
            account_id = EXCLUDED.account_id, external_id = EXCLUDED.external_id,
            amount_minor = EXCLUDED.amount_minor, currency = EXCLUDED.currency,
            method = EXCLUDED.method, received_on = EXCLUDED.received_on, updated_at = now()
        """,
        [e.payment_id for e in received],
        [e.account_id for e in received],
        [e.external_id for e in received],
        [e.amount_minor for e in received],
        [e.currency for e in received],
        [e.method.value for e in received],
        [e.received_on for e in received],
    )
    await _accounts_seen(conn, [e.account_id for e in received])
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                on_day(e.received_on, ev),
                "payment",
                f"Payment {e.external_id} received by {e.method.value.replace('_', ' ')}",
                {
                    "payment_id": e.payment_id,
                    "external_id": e.external_id,
                    "amount_minor": e.amount_minor,
                    "currency": e.currency,
                    "method": e.method.value,
                    "reference": e.reference,
                    "actor": e.actor,
                },
            )
            for e, ev in items
        ],
    )


async def _payments_applied(
    conn: asyncpg.Connection, items: list[tuple[PaymentApplied, CloudEvent]]
) -> None:
    await _balance_changes(
        conn,
        [
            _Change(
                ev.id,
                e.invoice_id,
                e.account_id,
                "payment",
                -e.amount_minor,
                e.applied_on,
                e.payment_id,
            )
            for e, ev in items
        ],
    )
    numbers = await _invoice_numbers(conn, [e.invoice_id for e, _ in items])
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                on_day(e.applied_on, ev),
                "payment",
                f"Payment applied to {_invoice(numbers, e.invoice_id)}",
                {
                    "payment_id": e.payment_id,
                    "invoice_id": e.invoice_id,
                    "amount_minor": e.amount_minor,
                    "currency": e.currency,
                    "remaining_minor": e.remaining_minor,
                    "actor": e.actor,
                },
            )
            for e, ev in items
        ],
    )


async def _payment_reversed(conn: asyncpg.Connection, e: PaymentReversed, ev: CloudEvent) -> None:
    if e.reopened:
        await _balance_changes(
            conn,
            [
                _Change(
                    ev.id,
                    r.invoice_id,
                    e.account_id,
                    "reversal",
                    r.amount_minor,
                    e.reversed_on,
                    e.payment_id,
                    e.reason.value,
                )
                for r in e.reopened
            ],
        )
    await conn.execute(
        """
        INSERT INTO ar_payments (payment_id, account_id, reversed_on, reversal_reason)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (payment_id) DO UPDATE SET reversed_on = EXCLUDED.reversed_on,
            reversal_reason = EXCLUDED.reversal_reason, updated_at = now()
        """,
        e.payment_id,
        e.account_id,
        e.reversed_on,
        e.reason.value,
    )
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                on_day(e.reversed_on, ev),
                "payment",
                f"Payment reversed ({e.reason.value})",
                {
                    "payment_id": e.payment_id,
                    "amount_minor": e.amount_minor,
                    "currency": e.currency,
                    "reason": e.reason.value,
                    "reopened": [r.model_dump() for r in e.reopened],
                    "actor": e.actor,
                },
            )
        ],
    )


async def _account_seen(conn: asyncpg.Connection, account_id: UUID) -> None:
    await _accounts_seen(conn, [account_id])


async def _accounts_seen(conn: asyncpg.Connection, account_ids: list[UUID]) -> None:
    await conn.execute(
        "INSERT INTO ar_accounts (account_id) SELECT a FROM unnest($1::uuid[]) a "
        "ORDER BY a ON CONFLICT DO NOTHING",
        account_ids,
    )


async def _account_registered(
    conn: asyncpg.Connection, e: AccountRegistered, ev: CloudEvent
) -> None:
    await conn.execute(
        """
        INSERT INTO ar_accounts (account_id, external_id, name, segment, currency,
                                 payment_terms_days, registered_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (account_id) DO UPDATE SET
            external_id = EXCLUDED.external_id, name = EXCLUDED.name,
            segment = EXCLUDED.segment, currency = EXCLUDED.currency,
            payment_terms_days = EXCLUDED.payment_terms_days,
            registered_at = EXCLUDED.registered_at, updated_at = now()
        """,
        e.account_id,
        e.external_id,
        e.name,
        e.segment,
        e.currency,
        e.payment_terms_days,
        ev.time,
    )
    await _contacts(conn, e.account_id, e.contacts)


async def _contacts(conn: asyncpg.Connection, account_id: UUID, contacts: list[Contact]) -> None:
    """An account's contacts as its latest event lists them (searched by email and phone)."""
    await conn.execute("DELETE FROM ar_account_contacts WHERE account_id = $1", account_id)
    await conn.executemany(
        "INSERT INTO ar_account_contacts (account_id, position, name, email, phone, "
        "phone_digits) VALUES ($1, $2, $3, $4, $5, $6)",
        [
            (account_id, position, c.name, c.email, c.phone, phone_digits(c.phone))
            for position, c in enumerate(contacts)
        ],
    )


async def _account_updated(conn: asyncpg.Connection, e: AccountUpdated, ev: CloudEvent) -> None:
    await conn.execute(
        """
        INSERT INTO ar_accounts (account_id, name, segment, payment_terms_days)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (account_id) DO UPDATE SET
            name = coalesce(EXCLUDED.name, ar_accounts.name),
            segment = CASE WHEN $5 THEN NULL
                           ELSE coalesce(EXCLUDED.segment, ar_accounts.segment) END,
            payment_terms_days = coalesce(EXCLUDED.payment_terms_days,
                                          ar_accounts.payment_terms_days),
            updated_at = now()
        """,
        e.account_id,
        e.name,
        e.segment,
        e.payment_terms_days,
        e.segment_cleared,
    )
    if e.contacts is not None:
        await _contacts(conn, e.account_id, e.contacts)
    changed: dict[str, Any] = {
        name: value
        for name, value in (
            ("name", e.name),
            ("payment_terms_days", e.payment_terms_days),
            ("segment", e.segment),
            ("contacts", None if e.contacts is None else [c.model_dump() for c in e.contacts]),
        )
        if value is not None
    }
    if e.segment_cleared:
        changed["segment"] = None
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                ev.time,
                "profile",
                f"Billing profile changed: {', '.join(n.replace('_', ' ') for n in changed)}"
                + (f" (by {e.actor})" if e.actor else ""),
                {"changed": changed, "actor": e.actor},
            )
        ],
    )


async def _autopay(
    conn: asyncpg.Connection,
    ev: CloudEvent,
    account_id: UUID,
    enrolled: bool,
    day: date,
    method_type: str | None,
    reason: str | None,
    actor: str | None,
) -> None:
    await conn.execute(
        """
        INSERT INTO ar_autopay_history (event_id, account_id, enrolled, effective_date,
                                        method_type, reason)
        VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING
        """,
        ev.id,
        account_id,
        enrolled,
        day,
        method_type,
        reason,
    )
    await _account_seen(conn, account_id)
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                account_id,
                on_day(day, ev),
                "autopay",
                f"Enrolled in auto-pay ({method_type})" if enrolled else "Auto-pay cancelled",
                {
                    "enrolled": enrolled,
                    "payment_method_type": method_type,
                    "reason": reason,
                    "actor": actor,
                },
            )
        ],
    )


async def _autopay_enrolled(conn: asyncpg.Connection, e: AutoPayEnrolled, ev: CloudEvent) -> None:
    await _autopay(
        conn, ev, e.account_id, True, e.enrolled_on, e.payment_method_type, None, e.actor
    )


async def _autopay_cancelled(conn: asyncpg.Connection, e: AutoPayCancelled, ev: CloudEvent) -> None:
    await _autopay(conn, ev, e.account_id, False, e.cancelled_on, None, e.reason, e.actor)


async def _approval_step(
    conn: asyncpg.Connection,
    ev: CloudEvent,
    e: ApprovalRequested | ApprovalGranted | ApprovalRejected,
    at: datetime,
    what: str,
    detail: dict[str, Any],
) -> None:
    """Four eyes on the timeline: a large credit or write-off shows while it waits for a
    supervisor and when they decide, not only once applied."""
    numbers = await _invoice_numbers(conn, [e.invoice_id])
    action = "credit" if e.action.value == "credit" else "write-off"
    await record(
        conn,
        SOURCE,
        [
            Entry(
                ev,
                e.account_id,
                at,
                "approval",
                f"{action.capitalize()} on {_invoice(numbers, e.invoice_id)} {what}",
                {
                    "approval_id": e.approval_id,
                    "invoice_id": e.invoice_id,
                    "action": e.action.value,
                    **detail,
                },
            )
        ],
    )


async def _approval_requested(
    conn: asyncpg.Connection, e: ApprovalRequested, ev: CloudEvent
) -> None:
    await _approval_step(
        conn,
        ev,
        e,
        e.requested_at,
        f"awaits approval (requested by {e.requested_by})",
        {
            "amount_minor": e.amount_minor,
            "currency": e.currency,
            "reason_code": e.reason_code,
            "case_id": e.case_id,
            "requested_by": e.requested_by,
            "memo": e.memo,
        },
    )


async def _approval_granted(conn: asyncpg.Connection, e: ApprovalGranted, ev: CloudEvent) -> None:
    await _approval_step(
        conn, ev, e, e.approved_at, f"approved by {e.approved_by}", {"approved_by": e.approved_by}
    )


async def _approval_rejected(conn: asyncpg.Connection, e: ApprovalRejected, ev: CloudEvent) -> None:
    await _approval_step(
        conn,
        ev,
        e,
        e.rejected_at,
        f"rejected by {e.rejected_by}",
        {"rejected_by": e.rejected_by, "reason": e.reason},
    )


_PROJECTORS: dict[str, Projector] = {
    ApprovalRequested.event_type: _approval_requested,
    ApprovalGranted.event_type: _approval_granted,
    ApprovalRejected.event_type: _approval_rejected,
    InvoiceVoided.event_type: _invoice_voided,
    InvoiceWrittenOff.event_type: _invoice_written_off,
    PaymentReversed.event_type: _payment_reversed,
    AccountRegistered.event_type: _account_registered,
    AccountUpdated.event_type: _account_updated,
    AutoPayEnrolled.event_type: _autopay_enrolled,
    AutoPayCancelled.event_type: _autopay_cancelled,
}

# these only insert (ignoring a replay) or upsert columns no other event sets
_BULK: dict[str, BulkProjector] = {
    InvoiceIssued.event_type: _invoices_issued,
    InvoiceAdjusted.event_type: _invoices_adjusted,
    PaymentApplied.event_type: _payments_applied,
    PaymentReceived.event_type: _payments_received,
}

project_billing_event = BulkDispatcher(_PROJECTORS, _BULK)
