"""Backdated entries are decided as of their own date and every later one; none is in the future.

Dates follow one September: the invoice is issued on the 1st (10 000 owed),
the payment received on the 5th, and "today" is the 30th.
"""

from datetime import date
from uuid import uuid4

import pytest

from billing_adapter.domain.commands import (
    AdjustInvoice,
    Allocation,
    ApplyPayment,
    CancelAutoPay,
    Command,
    EnrolAutoPay,
    ReversePayment,
    VoidInvoice,
    WriteOffInvoice,
)
from billing_adapter.domain.state import Account
from billing_adapter.testing import ACCOUNT, given, invoice, payment, register, when
from receivables_platform.contracts.billing import (
    AdjustmentKind,
    InvoiceVoided,
    InvoiceWrittenOff,
    PaymentApplied,
    ReversalReason,
)
from receivables_platform.domain import RefusalKind, Refused

TODAY = date(2026, 9, 30)
INVOICE, PAYMENT = uuid4(), uuid4()


def sep(day: int) -> date:
    return date(2026, 9, day)


def issued(*later: Command) -> Account:
    return given(
        register(),
        invoice(invoice_id=INVOICE, issue_date=sep(1), due_date=sep(15)),
        payment(payment_id=PAYMENT, amount_minor=6_000, received_on=sep(5)),
        *later,
        today=TODAY,
    )


def credit(amount: int, day: date, kind: AdjustmentKind = AdjustmentKind.CREDIT) -> AdjustInvoice:
    return AdjustInvoice(ACCOUNT, INVOICE, uuid4(), kind, amount, "PRICE", day)


def apply(amount: int, day: date) -> ApplyPayment:
    return ApplyPayment(ACCOUNT, PAYMENT, day, (Allocation(INVOICE, amount),))


def refused(state: Account, command: Command) -> Refused:
    with pytest.raises(Refused) as refusal:
        when(state, command, TODAY)
    return refusal.value


# -- voids and write-offs zero the invoice from their date on ---------------------------------


@pytest.mark.parametrize(
    "command",
    [
        VoidInvoice(ACCOUNT, INVOICE, sep(10)),
        WriteOffInvoice(ACCOUNT, INVOICE, "BAD_DEBT", sep(10)),
    ],
)
def test_a_void_or_write_off_before_a_later_entry_is_refused_naming_it(command: Command):
    adjustment = credit(1_000, sep(20))
    refusal = refused(issued(adjustment), command)
    assert refusal.kind is RefusalKind.CONFLICT
    assert refusal.field == ("voided_on" if isinstance(command, VoidInvoice) else "written_off_on")
    assert f"credit memo {adjustment.adjustment_id}" in refusal.detail
    assert "2026-09-20" in refusal.detail


def test_a_backdated_void_takes_what_was_owed_on_its_date():
    [event] = when(issued(credit(1_000, sep(3))), VoidInvoice(ACCOUNT, INVOICE, sep(10)), TODAY)
    assert isinstance(event, InvoiceVoided) and event.voided_amount_minor == 9_000


def test_a_write_off_on_the_day_of_the_last_entry_takes_what_is_left():
    [event] = when(
        issued(credit(1_000, sep(20))),
        WriteOffInvoice(ACCOUNT, INVOICE, "BAD_DEBT", sep(20)),
        TODAY,
    )
    assert isinstance(event, InvoiceWrittenOff) and event.amount_minor == 9_000
    assert (
        issued(credit(1_000, sep(20)), WriteOffInvoice(ACCOUNT, INVOICE, "BAD_DEBT", sep(20)))
        .invoices[INVOICE]
        .open_on(sep(25))
        == 0
    )


# -- decreases are held to the balance on their date and every later one ----------------------


def test_a_backdated_credit_is_held_to_what_was_owed_on_its_date():
    state = issued(credit(5_000, sep(20), AdjustmentKind.DEBIT))  # 10 000, 15 000 from the 20th
    refusal = refused(state, credit(12_000, sep(10)))
    assert (refusal.kind, refusal.field) == (RefusalKind.INVALID, "amount_minor")
    assert "10000" in refusal.detail
    assert when(state, credit(12_000, sep(20)), TODAY)


def test_a_backdated_credit_may_not_take_a_later_date_below_zero():
    state = issued(apply(6_000, sep(20)))  # owed: 10 000 until the 20th, then 4 000
    refusal = refused(state, credit(5_000, sep(10)))
    assert (refusal.kind, refusal.field) == (RefusalKind.INVALID, "amount_minor")
    assert f"payment {PAYMENT} applied" in refusal.detail and "2026-09-20" in refusal.detail
    assert when(state, credit(4_000, sep(10)), TODAY)


def test_a_backdated_application_is_held_to_what_was_owed_on_its_date():
    big = payment(payment_id=uuid4(), external_id="PAY-2", amount_minor=20_000, received_on=sep(5))
    state = given(
        register(),
        invoice(invoice_id=INVOICE, issue_date=sep(1), due_date=sep(15)),
        credit(5_000, sep(20), AdjustmentKind.DEBIT),
        big,  # 15 000 from the 20th
        today=TODAY,
    )
    explicit = ApplyPayment(ACCOUNT, big.payment_id, sep(10), (Allocation(INVOICE, 12_000),))
    refusal = refused(state, explicit)
    assert (refusal.kind, refusal.field) == (RefusalKind.INVALID, "allocations.0.amount_minor")
    [event] = when(state, ApplyPayment(ACCOUNT, big.payment_id, sep(10)), TODAY)  # oldest-first
    assert isinstance(event, PaymentApplied) and event.amount_minor == 10_000


def test_a_backdated_application_may_not_take_a_later_date_below_zero():
    state = issued(credit(7_000, sep(20)))  # owed: 10 000 until the 20th, then 3 000
    refusal = refused(state, apply(5_000, sep(10)))
    assert (refusal.kind, refusal.field) == (RefusalKind.INVALID, "allocations.0.amount_minor")
    assert "2026-09-20" in refusal.detail
    [event] = when(state, ApplyPayment(ACCOUNT, PAYMENT, sep(10)), TODAY)  # oldest-first
    assert isinstance(event, PaymentApplied) and event.amount_minor == 3_000


def test_an_application_dated_before_a_void_pays_nothing_on_the_voided_invoice():
    state = issued(VoidInvoice(ACCOUNT, INVOICE, sep(20)))  # owed 10 000 until the 20th
    refusal = refused(state, apply(1_000, sep(10)))
    assert (refusal.kind, refusal.field) == (RefusalKind.INVALID, "allocations.0.amount_minor")
    assert refused(state, ApplyPayment(ACCOUNT, PAYMENT, sep(10))).title == "Nothing to apply to"


def test_a_debit_may_be_backdated_freely_after_the_issue():
    assert when(issued(apply(6_000, sep(20))), credit(500, sep(2), AdjustmentKind.DEBIT), TODAY)


# -- money moves only after it arrived, on an invoice that exists -----------------------------


def test_an_application_before_the_payment_was_received_is_refused():
    refusal = refused(issued(), apply(1_000, sep(4)))
    assert (refusal.kind, refusal.field) == (RefusalKind.INVALID, "applied_on")
    assert "2026-09-05" in refusal.detail


def test_an_application_before_the_invoice_was_issued_is_refused():
    later = uuid4()
    state = issued(
        invoice(invoice_id=later, external_id="INV-2", issue_date=sep(12), due_date=sep(12))
    )
    refusal = refused(state, ApplyPayment(ACCOUNT, PAYMENT, sep(10), (Allocation(later, 1),)))
    assert (refusal.kind, refusal.field) == (RefusalKind.INVALID, "allocations.0.invoice_id")
    # oldest-first pays only what was issued by the application's date
    events = when(state, ApplyPayment(ACCOUNT, PAYMENT, sep(10)), TODAY)
    assert [e.invoice_id for e in events if isinstance(e, PaymentApplied)] == [INVOICE]


def test_a_reversal_before_the_payment_was_received_is_refused():
    refusal = refused(issued(), ReversePayment(ACCOUNT, PAYMENT, ReversalReason.RETURNED, sep(4)))
    assert (refusal.kind, refusal.field) == (RefusalKind.INVALID, "reversed_on")


def test_a_reversal_before_an_application_of_the_payment_is_refused_naming_it():
    state = issued(apply(2_000, sep(8)), apply(1_000, sep(15)))
    refusal = refused(state, ReversePayment(ACCOUNT, PAYMENT, ReversalReason.RETURNED, sep(12)))
    assert (refusal.kind, refusal.field) == (RefusalKind.CONFLICT, "reversed_on")
    assert str(INVOICE) in refusal.detail and "2026-09-15" in refusal.detail
    assert when(state, ReversePayment(ACCOUNT, PAYMENT, ReversalReason.RETURNED, sep(15)), TODAY)


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (credit(100, sep(1).replace(month=8)), "effective_date"),
        (VoidInvoice(ACCOUNT, INVOICE, date(2026, 8, 31)), "voided_on"),
        (WriteOffInvoice(ACCOUNT, INVOICE, "BAD_DEBT", date(2026, 8, 31)), "written_off_on"),
    ],
)
def test_nothing_is_dated_before_the_invoice_was_issued(command: Command, field: str):
    refusal = refused(issued(), command)
    assert (refusal.kind, refusal.field) == (RefusalKind.INVALID, field)


# -- nothing is dated after today in the team's time zone -------------------------------------

TOMORROW = date(2026, 10, 1)


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (invoice(issue_date=TOMORROW, due_date=TOMORROW), "issue_date"),
        (payment(received_on=TOMORROW), "received_on"),
        (credit(100, TOMORROW), "effective_date"),
        (VoidInvoice(ACCOUNT, INVOICE, TOMORROW), "voided_on"),
        (WriteOffInvoice(ACCOUNT, INVOICE, "BAD_DEBT", TOMORROW), "written_off_on"),
        (apply(100, TOMORROW), "applied_on"),
        (ReversePayment(ACCOUNT, PAYMENT, ReversalReason.RETURNED, TOMORROW), "reversed_on"),
        (EnrolAutoPay(ACCOUNT, "pm_1", "card", TOMORROW), "enrolled_on"),
        (CancelAutoPay(ACCOUNT, TOMORROW), "cancelled_on"),
    ],
)
def test_a_date_after_today_is_refused_naming_the_field(command: Command, field: str):
    refusal = refused(issued(), command)
    assert (refusal.kind, refusal.field, refusal.title) == (
        RefusalKind.INVALID,
        field,
        "Date in the future",
    )
    try:  # the same command entered a day later may meet other rules, not this one
        when(issued(), command, TOMORROW)
    except Refused as later:
        assert later.title != "Date in the future"
