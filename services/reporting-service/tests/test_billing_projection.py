"""Every billing event into the AR read model over real PostgreSQL, in any order, repeated."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

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
    PaymentMethod,
    PaymentReceived,
    PaymentReversed,
    Reopened,
    ReversalReason,
)
from receivables_platform.db.pool import connect
from reporting_service.adapters.aging_query import AgingFilter, GroupBy, aging
from reporting_service.consumers.billing_projection import project_billing_event
from reporting_service.domain.aging import buckets
from reporting_service.spec import SPEC
from reporting_service.testing import cloud


@pytest.fixture
async def conn(fresh_database):
    connection = await connect(await fresh_database(SPEC.versions_dir))
    yield connection
    await connection.close()


def issued(account, total=10_000, issue=date(2026, 10, 1), due=date(2026, 10, 31)):
    return InvoiceIssued(
        invoice_id=uuid4(),
        account_id=account,
        external_id="INV-1",
        currency="USD",
        total_minor=total,
        issue_date=issue,
        due_date=due,
    )


async def open_of(conn, account, as_of) -> int:
    rows = await aging(
        conn, AgingFilter(as_of=as_of, account_id=account), GroupBy.account, buckets()
    )
    return sum(r["total_minor"] for r in rows)


async def test_adjustments_payments_reversals_move_the_balance_on_their_dates(conn):
    account, payment = uuid4(), uuid4()
    invoice = issued(account)
    events = [
        invoice,
        InvoiceAdjusted(
            invoice_id=invoice.invoice_id,
            account_id=account,
            adjustment_id=uuid4(),
            kind=AdjustmentKind.CREDIT,
            amount_minor=1_000,
            currency="USD",
            reason_code="goodwill",
            effective_date=date(2026, 10, 10),
        ),
        InvoiceAdjusted(
            invoice_id=invoice.invoice_id,
            account_id=account,
            adjustment_id=uuid4(),
            kind=AdjustmentKind.DEBIT,
            amount_minor=300,
            currency="USD",
            reason_code="late_fee",
            effective_date=date(2026, 11, 5),
        ),
        PaymentReceived(
            payment_id=payment,
            account_id=account,
            external_id="P-1",
            amount_minor=4_000,
            currency="USD",
            method=PaymentMethod.ACH,
            received_on=date(2026, 11, 10),
        ),
        PaymentApplied(
            payment_id=payment,
            account_id=account,
            invoice_id=invoice.invoice_id,
            amount_minor=4_000,
            currency="USD",
            remaining_minor=5_300,
            applied_on=date(2026, 11, 10),
        ),
        PaymentReversed(
            payment_id=payment,
            account_id=account,
            amount_minor=4_000,
            currency="USD",
            reason=ReversalReason.RETURNED,
            reopened=[Reopened(invoice_id=invoice.invoice_id, amount_minor=4_000)],
            unapplied_minor=0,
            reversed_on=date(2026, 11, 20),
        ),
    ]
    for contract in events:
        await project_billing_event(conn, cloud(contract))
    expected = {
        date(2026, 9, 30): 0,
        date(2026, 10, 1): 10_000,
        date(2026, 10, 10): 9_000,
        date(2026, 11, 5): 9_300,
        date(2026, 11, 10): 5_300,
        date(2026, 11, 20): 9_300,
    }
    assert {d: await open_of(conn, account, d) for d in expected} == expected
    row = await conn.fetchrow("SELECT * FROM ar_payments WHERE payment_id = $1", payment)
    assert (row["received_on"], row["reversed_on"], row["reversal_reason"]) == (
        date(2026, 11, 10),
        date(2026, 11, 20),
        "returned",
    )


async def test_void_and_write_off_close_the_invoice_from_their_date(conn):
    account = uuid4()
    first, second = issued(account, 5_000), issued(account, 7_000)
    for contract in [
        first,
        second,
        InvoiceVoided(
            invoice_id=first.invoice_id,
            account_id=account,
            voided_amount_minor=5_000,
            currency="USD",
            voided_on=date(2026, 10, 15),
        ),
        InvoiceWrittenOff(
            invoice_id=second.invoice_id,
            account_id=account,
            amount_minor=7_000,
            currency="USD",
            reason_code="bankrupt",
            written_off_on=date(2026, 12, 1),
        ),
    ]:
        await project_billing_event(conn, cloud(contract))
    assert await open_of(conn, account, date(2026, 10, 14)) == 12_000
    assert await open_of(conn, account, date(2026, 10, 15)) == 7_000
    assert await open_of(conn, account, date(2026, 12, 1)) == 0
    flags = await conn.fetch(
        "SELECT voided_on, written_off_on FROM ar_invoices ORDER BY total_minor"
    )
    assert [tuple(f) for f in flags] == [(date(2026, 10, 15), None), (None, date(2026, 12, 1))]


async def test_an_application_before_its_invoice_and_an_invoice_before_its_account(conn):
    """Cross-stream reordering: the later event fills in what the earlier one could not."""
    account = uuid4()
    invoice = issued(account, 8_000)
    applied = PaymentApplied(
        payment_id=uuid4(),
        account_id=account,
        invoice_id=invoice.invoice_id,
        amount_minor=3_000,
        currency="USD",
        remaining_minor=5_000,
        applied_on=date(2026, 11, 1),
    )
    voided_later = InvoiceVoided(
        invoice_id=invoice.invoice_id,
        account_id=account,
        voided_amount_minor=5_000,
        currency="USD",
        voided_on=date(2026, 12, 1),
    )
    registered = AccountRegistered(
        account_id=account,
        external_id="CUS-9",
        name="Acme",
        contacts=[],
        payment_terms_days=30,
        segment="smb",
        currency="USD",
    )
    for contract in [applied, voided_later, invoice, registered]:
        await project_billing_event(conn, cloud(contract))
    assert await open_of(conn, account, date(2026, 11, 2)) == 5_000
    assert await open_of(conn, account, date(2026, 12, 1)) == 0
    row = await conn.fetchrow("SELECT * FROM ar_invoices WHERE invoice_id = $1", invoice.invoice_id)
    assert (row["total_minor"], row["voided_on"]) == (8_000, date(2026, 12, 1))
    [by_segment] = await aging(
        conn, AgingFilter(as_of=date(2026, 11, 2), account_id=account), GroupBy.segment, buckets()
    )
    assert (by_segment["segment"], by_segment["total_minor"]) == ("smb", 5_000)


async def test_an_invoice_alone_writes_its_row_its_account_and_its_timeline_entry(conn):
    """The three writes of an issued invoice go in one statement: each must be there."""
    account = uuid4()
    invoice = issued(account, 4_200)
    await project_billing_event(conn, cloud(invoice))
    assert (
        await conn.fetchval(
            "SELECT total_minor FROM ar_invoices WHERE invoice_id = $1", invoice.invoice_id
        )
        == 4_200
    )
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM ar_accounts WHERE account_id = $1 AND registered_at IS NULL",
            account,
        )
        == 1
    )
    assert (
        await conn.fetchval("SELECT title FROM account_timeline WHERE account_id = $1", account)
        == "Invoice INV-1 issued"
    )
    assert await open_of(conn, account, date(2026, 10, 2)) == 4_200


async def test_replaying_every_event_changes_nothing(conn):
    account, payment = uuid4(), uuid4()
    invoice = issued(account)
    events = [
        cloud(c)
        for c in [
            invoice,
            PaymentApplied(
                payment_id=payment,
                account_id=account,
                invoice_id=invoice.invoice_id,
                amount_minor=2_500,
                currency="USD",
                remaining_minor=7_500,
                applied_on=date(2026, 11, 1),
            ),
            AutoPayEnrolled(
                account_id=account,
                payment_method_reference="pm_1",
                payment_method_type="card",
                enrolled_on=date(2026, 11, 2),
            ),
        ]
    ]
    for event in events + events:
        await project_billing_event(conn, event)
    assert await open_of(conn, account, date(2026, 11, 30)) == 7_500
    assert await conn.fetchval("SELECT count(*) FROM ar_autopay_history") == 1


async def test_account_updates_keep_what_they_do_not_name(conn):
    account = uuid4()
    for contract in [
        AccountRegistered(
            account_id=account,
            external_id="CUS-1",
            name="Acme",
            contacts=[],
            payment_terms_days=30,
            segment="smb",
            currency="EUR",
        ),
        AccountUpdated(account_id=account, payment_terms_days=45),
        AutoPayEnrolled(
            account_id=account,
            payment_method_reference="pm_1",
            payment_method_type="card",
            enrolled_on=date(2026, 11, 2),
        ),
        AutoPayCancelled(account_id=account, cancelled_on=date(2026, 11, 9), reason="card expired"),
    ]:
        await project_billing_event(conn, cloud(contract))
    row = await conn.fetchrow("SELECT * FROM ar_accounts WHERE account_id = $1", account)
    assert (row["name"], row["segment"], row["payment_terms_days"], row["currency"]) == (
        "Acme",
        "smb",
        45,
        "EUR",
    )
    await project_billing_event(
        conn, cloud(AccountUpdated(account_id=account, segment_cleared=True))
    )
    assert await conn.fetchval("SELECT segment FROM ar_accounts") is None
    history = await conn.fetch(
        "SELECT enrolled, effective_date FROM ar_autopay_history ORDER BY effective_date"
    )
    assert [tuple(r) for r in history] == [(True, date(2026, 11, 2)), (False, date(2026, 11, 9))]


@pytest.mark.parametrize("reversal_first", [False, True])
async def test_payments_received_at_once_keep_the_last_receipt_and_any_reversal(
    conn, reversal_first
):
    account, payment, other = uuid4(), uuid4(), uuid4()

    def received(payment_id, amount):
        return PaymentReceived(
            payment_id=payment_id,
            account_id=account,
            external_id="P-1",
            amount_minor=amount,
            currency="USD",
            method=PaymentMethod.WIRE,
            received_on=date(2026, 11, 10),
        )

    reversed_ = PaymentReversed(
        payment_id=payment,
        account_id=account,
        amount_minor=4_000,
        currency="USD",
        reason=ReversalReason.CHARGEBACK,
        reopened=[],
        unapplied_minor=4_000,
        reversed_on=date(2026, 11, 20),
    )
    receipts = [received(payment, 3_000), received(other, 700), received(payment, 4_000)]
    batch = [reversed_, *receipts] if reversal_first else [*receipts, reversed_]
    async with conn.transaction():
        await project_billing_event.many(conn, [cloud(c) for c in batch])
    rows = await conn.fetch(
        "SELECT payment_id, account_id, amount_minor, method, reversed_on "
        "FROM ar_payments ORDER BY amount_minor"
    )
    assert [tuple(r) for r in rows] == [
        (other, account, 700, "wire", None),
        (payment, account, 4_000, "wire", date(2026, 11, 20)),
    ]
    assert (
        await conn.fetchval("SELECT count(*) FROM ar_accounts WHERE account_id = $1", account) == 1
    )
