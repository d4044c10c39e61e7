"""The service's own view of balances, fed from `billing.events.v1`.

Each event becomes upserts and ledger entries keyed by what caused them, so
a redelivered event changes nothing and events in any order (a payment before
its invoice) add up to the same balances. Fields an event does not carry are
left as an earlier event set them.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import (
    AccountRegistered,
    AccountUpdated,
    AdjustmentKind,
    AutoPayCancelled,
    AutoPayEnrolled,
    InvoiceAdjusted,
    InvoiceIssued,
    InvoiceVoided,
    InvoiceWrittenOff,
    PaymentApplied,
    PaymentReversed,
)


async def _account(conn: asyncpg.Connection, account_id: UUID) -> None:
    await conn.execute(
        "INSERT INTO accounts (account_id) VALUES ($1) ON CONFLICT DO NOTHING", account_id
    )


# One statement each: an event is a round trip per row it touches no more. The account
# and invoice rows an entry hangs on are made on the way (data-modifying WITH), so an
# entry that arrives before its invoice or account still adds up.
_INVOICE_ROW = """
WITH account AS (INSERT INTO accounts (account_id) VALUES ($2) ON CONFLICT DO NOTHING)
INSERT INTO invoices (invoice_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING
"""
_ENTRY = """
WITH account AS (INSERT INTO accounts (account_id) VALUES ($2) ON CONFLICT DO NOTHING),
     invoice AS (INSERT INTO invoices (invoice_id, account_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING)
INSERT INTO invoice_ledger (invoice_id, account_id, entry_key, amount_minor, effective_on)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
"""
# The invoice's row, made or completed (a payment may have named it first), and its entry.
_ISSUED = """
WITH account AS (INSERT INTO accounts (account_id) VALUES ($2) ON CONFLICT DO NOTHING),
     ledger AS (INSERT INTO invoice_ledger (invoice_id, account_id, entry_key, amount_minor,
                                            effective_on)
                VALUES ($1, $2, 'issued', $7, $5) ON CONFLICT DO NOTHING)
INSERT INTO invoices (invoice_id, account_id, issued, external_id, currency, issue_date,
                      due_date, total_minor, instalments)
VALUES ($1, $2, true, $3, $4, $5, $6, $7, $8)
ON CONFLICT (invoice_id) DO UPDATE SET issued = true, external_id = excluded.external_id,
    currency = excluded.currency, issue_date = excluded.issue_date,
    due_date = excluded.due_date, total_minor = excluded.total_minor,
    instalments = excluded.instalments
"""


async def _invoice(conn: asyncpg.Connection, invoice_id: UUID, account_id: UUID) -> None:
    await conn.execute(_INVOICE_ROW, invoice_id, account_id)


async def _entry(
    conn: asyncpg.Connection,
    invoice_id: UUID,
    account_id: UUID,
    key: str,
    amount_minor: int,
    effective_on: object,
) -> None:
    await conn.execute(_ENTRY, invoice_id, account_id, key, amount_minor, effective_on)


async def _issued(conn: asyncpg.Connection, event: InvoiceIssued) -> None:
    await conn.execute(
        _ISSUED,
        event.invoice_id,
        event.account_id,
        event.external_id,
        event.currency,
        event.issue_date,
        event.due_date,
        event.total_minor,
        [i.model_dump(mode="json") for i in event.instalments],
    )


def _contacts(event: AccountRegistered | AccountUpdated) -> list[dict[str, object]]:
    return [c.model_dump(mode="json") for c in event.contacts or []]


FOLDED: tuple[type[EventContract], ...] = (
    AccountRegistered,
    AccountUpdated,
    AutoPayEnrolled,
    AutoPayCancelled,
    InvoiceIssued,
    InvoiceAdjusted,
    InvoiceVoided,
    InvoiceWrittenOff,
    PaymentApplied,
    PaymentReversed,
)
"""The billing events `apply` folds (its `match` arms): the consumer decodes no others."""


async def apply(conn: asyncpg.Connection, event: EventContract, event_id: str) -> None:
    """Fold one billing event into the view (in the consumer's transaction).

    `event_id` (the CloudEvents id, the same on every re-send) keys the entries of
    events that can repeat for one invoice, such as two applications of one payment.
    """
    match event:
        case AccountRegistered():
            await conn.execute(
                "INSERT INTO accounts (account_id, registered, external_id, name, currency, "
                "segment, contacts, payment_terms_days) VALUES ($1, true, $2, $3, $4, $5, $6, $7) "
                "ON CONFLICT (account_id) DO UPDATE SET registered = true, "
                "external_id = excluded.external_id, name = excluded.name, "
                "currency = excluded.currency, segment = excluded.segment, "
                "contacts = excluded.contacts, payment_terms_days = excluded.payment_terms_days",
                event.account_id,
                event.external_id,
                event.name,
                event.currency,
                event.segment,
                _contacts(event),
                event.payment_terms_days,
            )
        case AccountUpdated():
            await _account(conn, event.account_id)
            await conn.execute(
                "UPDATE accounts SET name = coalesce($2, name), "
                "contacts = CASE WHEN $3::boolean THEN $4::jsonb ELSE contacts END, "
                "payment_terms_days = coalesce($5, payment_terms_days), "
                "segment = CASE WHEN $6 THEN NULL ELSE coalesce($7, segment) END "
                "WHERE account_id = $1",
                event.account_id,
                event.name,
                event.contacts is not None,
                _contacts(event),
                event.payment_terms_days,
                event.segment_cleared,
                event.segment,
            )
        case AutoPayEnrolled():
            await _account(conn, event.account_id)
            await conn.execute(
                "UPDATE accounts SET autopay = true, autopay_since = $2 WHERE account_id = $1",
                event.account_id,
                event.enrolled_on,
            )
        case AutoPayCancelled():
            await _account(conn, event.account_id)
            await conn.execute(
                "UPDATE accounts SET autopay = false, autopay_since = NULL WHERE account_id = $1",
                event.account_id,
            )
        case InvoiceIssued():
            await _issued(conn, event)
        case InvoiceAdjusted():
            sign = -1 if event.kind is AdjustmentKind.CREDIT else 1
            await _entry(
                conn,
                event.invoice_id,
                event.account_id,
                f"adjustment:{event.adjustment_id}",
                sign * event.amount_minor,
                event.effective_date,
            )
        case InvoiceVoided():
            await _invoice(conn, event.invoice_id, event.account_id)
            await conn.execute(
                "UPDATE invoices SET closed = 'voided' WHERE invoice_id = $1", event.invoice_id
            )
        case InvoiceWrittenOff():
            await _entry(
                conn,
                event.invoice_id,
                event.account_id,
                "written_off",
                -event.amount_minor,
                event.written_off_on,
            )
            await conn.execute(
                "UPDATE invoices SET closed = coalesce(closed, 'written_off') "
                "WHERE invoice_id = $1",
                event.invoice_id,
            )
        case PaymentApplied():
            await _entry(
                conn,
                event.invoice_id,
                event.account_id,
                f"applied:{event_id}",
                -event.amount_minor,
                event.applied_on,
            )
        case PaymentReversed():
            for reopened in event.reopened:
                await _entry(
                    conn,
                    reopened.invoice_id,
                    event.account_id,
                    f"reversed:{event_id}",
                    reopened.amount_minor,
                    event.reversed_on,
                )


async def ensure_invoices(
    conn: asyncpg.Connection, account_id: UUID, invoice_ids: list[UUID]
) -> None:
    """Rows for invoices another context names before billing's events about them arrived."""
    for invoice_id in invoice_ids:
        await _invoice(conn, invoice_id, account_id)
