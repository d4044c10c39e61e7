"""Given events, when a command, then events: the account aggregate without IO."""

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from billing_adapter.domain.commands import (
    AdjustInvoice,
    Allocation,
    ApplyPayment,
    CancelAutoPay,
    DueAmount,
    EnrolAutoPay,
    Line,
    ReversePayment,
    UpdateAccount,
    VoidInvoice,
    WriteOffInvoice,
)
from billing_adapter.domain.invoicing import WRITE_OFF_RECOVERED
from billing_adapter.domain.payment_method import looks_like_account_number
from billing_adapter.domain.profile import profile_changes
from billing_adapter.domain.state import Account, InvoiceStatus
from billing_adapter.testing import ACCOUNT, given, invoice, payment, register, when
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
    PaymentReceived,
    PaymentReversed,
    ReversalReason,
)
from receivables_platform.domain import RefusalKind, Refused
from receivables_platform.money import MAX_MINOR

DAY = date(2026, 11, 2)


def refused(state, command) -> Refused:
    with pytest.raises(Refused) as refusal:
        when(state, command)
    return refusal.value


# -- accounts ---------------------------------------------------------------------------------


def test_registering_emits_account_registered_once():
    [event] = when(given(), register())
    assert isinstance(event, AccountRegistered) and event.payment_terms_days == 30
    assert refused(given(register()), register()).kind is RefusalKind.CONFLICT


def test_an_update_records_only_what_changed():
    [event] = when(given(register()), UpdateAccount(ACCOUNT, name="Acme", segment="enterprise"))
    assert isinstance(event, AccountUpdated)
    assert event.segment == "enterprise" and event.name is None
    assert when(given(register(segment="smb")), UpdateAccount(ACCOUNT, segment="smb")) == []


def test_commands_for_an_unknown_account_are_refused_naming_it():
    refusal = refused(given(), invoice())
    assert (refusal.kind, refusal.field) == (RefusalKind.NOT_FOUND, "account_id")


def test_autopay_enrols_a_reference_and_cancels():
    state = given(register())
    [enrolled] = when(state, EnrolAutoPay(ACCOUNT, "pm_1Nv8Xy2eZvKYlo2C", "card", DAY))
    assert isinstance(enrolled, AutoPayEnrolled)
    enrolled_state = given(register(), EnrolAutoPay(ACCOUNT, "pm_1Nv8Xy2eZvKYlo2C", "card", DAY))
    assert enrolled_state.autopay is not None
    [cancelled] = when(enrolled_state, CancelAutoPay(ACCOUNT, DAY))
    assert isinstance(cancelled, AutoPayCancelled)
    assert refused(state, CancelAutoPay(ACCOUNT, DAY)).kind is RefusalKind.CONFLICT


@pytest.mark.parametrize(
    "number",
    [
        "4242424242424242",
        "4242 4242 4242 4242",
        "5555-5555-5555-4444",
        "000123456789",
        "DE89370400440532013000",
        "gb82 west 1234 5698 7654 32",
    ],
)
def test_card_and_bank_numbers_are_never_a_payment_method_reference(number: str):
    assert looks_like_account_number(number)
    refusal = refused(given(register()), EnrolAutoPay(ACCOUNT, number, "card", DAY))
    assert refusal.field == "payment_method_reference"


@pytest.mark.parametrize("reference", ["pm_1Nv8Xy2eZvKYlo2C", "src_4242", "mandate-7f3a9c"])
def test_tokens_are_accepted_as_references(reference: str):
    assert not looks_like_account_number(reference)


# -- invoices ---------------------------------------------------------------------------------


def test_an_invoice_with_lines_and_tax_is_issued_with_its_subtotal():
    command = invoice(lines=(Line("Seats", 3, 2_000), Line("Setup", 1, 3_000)), tax_minor=1_000)
    [event] = when(given(register()), command)
    assert isinstance(event, InvoiceIssued)
    assert (event.subtotal_minor, event.tax_minor, event.total_minor) == (9_000, 1_000, 10_000)
    assert [line.amount_minor for line in event.lines] == [6_000, 3_000]


def test_lines_that_do_not_sum_to_the_total_are_refused():
    refusal = refused(given(register()), invoice(lines=(Line("Seats", 3, 2_000),)))
    assert refusal.field == "total_minor"


def test_the_due_date_comes_from_the_terms_when_absent():
    [event] = when(given(register(payment_terms_days=45)), invoice(due_date=None))
    assert isinstance(event, InvoiceIssued) and event.due_date == date(2026, 11, 15)


def test_instalments_are_separate_due_amounts_and_must_add_up():
    schedule = (DueAmount(date(2026, 12, 1), 5_000), DueAmount(date(2026, 11, 1), 5_000))
    [event] = when(given(register()), invoice(due_date=None, instalments=schedule))
    assert isinstance(event, InvoiceIssued)
    assert [i.due_date for i in event.instalments] == [date(2026, 11, 1), date(2026, 12, 1)]
    assert event.due_date == date(2026, 12, 1)
    short = (DueAmount(date(2026, 11, 1), 4_000),)
    assert (
        refused(given(register()), invoice(due_date=None, instalments=short)).field == "instalments"
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"total_minor": 0, "lines": ()}, "total_minor"),
        ({"total_minor": -5}, "total_minor"),
        ({"due_date": date(2026, 9, 30)}, "due_date"),
        ({"tax_minor": -1}, "tax_minor"),
        ({"total_minor": MAX_MINOR + 1}, "total_minor"),
    ],
)
def test_invalid_invoices_are_refused_naming_the_field(overrides, field):
    assert refused(given(register()), invoice(**overrides)).field == field


def test_a_credit_memo_lowers_the_balance_but_never_below_zero():
    issued = invoice()
    state = given(register(), issued)
    credit = AdjustInvoice(
        ACCOUNT,
        issued.invoice_id,
        uuid4(),
        AdjustmentKind.CREDIT,
        2_500,
        "PRICE",
        DAY,
        case_id="CASE-000123",
    )
    [event] = when(state, credit)
    assert isinstance(event, InvoiceAdjusted) and event.case_id == "CASE-000123"
    assert given(register(), issued, credit).invoices[issued.invoice_id].open_minor == 7_500
    too_much = AdjustInvoice(
        ACCOUNT, issued.invoice_id, uuid4(), AdjustmentKind.CREDIT, 10_001, "PRICE", DAY
    )
    assert refused(state, too_much).field == "amount_minor"


def test_amounts_past_what_read_models_can_sum_are_refused_whatever_the_door():
    """Imports, webhooks and case corrections reach the domain without the HTTP caps."""
    issued = invoice()
    state = given(register(), issued)
    assert when(given(register()), invoice(total_minor=MAX_MINOR, lines=None))
    debit = AdjustInvoice(
        ACCOUNT, issued.invoice_id, uuid4(), AdjustmentKind.DEBIT, MAX_MINOR + 1, "LATE_FEE", DAY
    )
    assert refused(state, debit).field == "amount_minor"
    assert refused(state, payment(amount_minor=MAX_MINOR + 1)).field == "amount_minor"


def test_a_debit_memo_raises_the_balance():
    issued = invoice()
    debit = AdjustInvoice(
        ACCOUNT, issued.invoice_id, uuid4(), AdjustmentKind.DEBIT, 500, "LATE_FEE", DAY
    )
    assert given(register(), issued, debit).invoices[issued.invoice_id].open_minor == 10_500


def test_a_void_is_refused_once_money_is_applied():
    issued, paid = invoice(), payment(amount_minor=100)
    [event] = when(given(register(), issued), VoidInvoice(ACCOUNT, issued.invoice_id, DAY))
    assert isinstance(event, InvoiceVoided) and event.voided_amount_minor == 10_000
    state = given(register(), issued, paid, ApplyPayment(ACCOUNT, paid.payment_id, DAY))
    assert refused(state, VoidInvoice(ACCOUNT, issued.invoice_id, DAY)).kind is RefusalKind.CONFLICT


def test_a_write_off_takes_the_remaining_balance():
    issued, paid = invoice(), payment(amount_minor=4_000)
    state = given(register(), issued, paid, ApplyPayment(ACCOUNT, paid.payment_id, DAY))
    [event] = when(state, WriteOffInvoice(ACCOUNT, issued.invoice_id, "BAD_DEBT", DAY))
    assert isinstance(event, InvoiceWrittenOff) and event.amount_minor == 6_000
    after = given(
        register(),
        issued,
        paid,
        ApplyPayment(ACCOUNT, paid.payment_id, DAY),
        WriteOffInvoice(ACCOUNT, issued.invoice_id, "BAD_DEBT", DAY),
    )
    assert after.invoices[issued.invoice_id].status is InvoiceStatus.WRITTEN_OFF
    again = WriteOffInvoice(ACCOUNT, issued.invoice_id, "X", DAY)
    assert refused(after, again).kind is RefusalKind.CONFLICT


def test_a_write_off_recovered_by_a_late_payment_reads_paid():
    issued, late = invoice(), payment(amount_minor=10_000)
    written_off = WriteOffInvoice(ACCOUNT, issued.invoice_id, "uncollectible", DAY)

    def recover(amount: int) -> AdjustInvoice:
        return AdjustInvoice(
            ACCOUNT,
            issued.invoice_id,
            uuid4(),
            AdjustmentKind.DEBIT,
            amount,
            WRITE_OFF_RECOVERED,
            DAY,
        )

    assert refused(given(register(), issued, written_off), recover(10_001)).field == "amount_minor"
    assert refused(given(register(), issued), recover(1)).title == "Nothing to recover"
    state = given(
        register(),
        issued,
        written_off,
        recover(10_000),
        late,
        ApplyPayment(ACCOUNT, late.payment_id, DAY),
    )
    paid = state.invoices[issued.invoice_id]
    assert (paid.status, paid.open_minor, state.credits()) == (InvoiceStatus.PAID, 0, {"USD": 0})
    partly = given(register(), issued, written_off, recover(4_000)).invoices[issued.invoice_id]
    assert (partly.status, partly.open_minor) == (InvoiceStatus.OPEN, 4_000)


# -- payments ---------------------------------------------------------------------------------


def test_a_received_payment_is_credit_until_applied():
    paid = payment(amount_minor=3_000)
    [event] = when(given(register()), paid)
    assert isinstance(event, PaymentReceived)
    assert given(register(), paid).credits() == {"USD": 3_000}


def test_without_allocations_cash_pays_the_oldest_due_first_and_the_rest_is_credit():
    later = invoice(external_id="B", due_date=date(2026, 12, 31))
    earlier = invoice(external_id="A", due_date=date(2026, 10, 15))
    paid = payment(amount_minor=12_000)
    events = when(
        given(register(), later, earlier, paid), ApplyPayment(ACCOUNT, paid.payment_id, DAY)
    )
    assert [
        (e.invoice_id, e.amount_minor, e.remaining_minor)
        for e in events
        if isinstance(e, PaymentApplied)
    ] == [(earlier.invoice_id, 10_000, 0), (later.invoice_id, 2_000, 8_000)]
    state = given(register(), later, earlier, paid, ApplyPayment(ACCOUNT, paid.payment_id, DAY))
    assert state.credits() == {"USD": 0} and state.open_balances() == {"USD": 8_000}


def test_explicit_allocations_are_held_to_the_balance_the_payment_and_the_currency():
    issued, paid = invoice(), payment(amount_minor=20_000)
    state = given(register(), issued, paid)

    def apply(*allocations: Allocation) -> ApplyPayment:
        return ApplyPayment(ACCOUNT, paid.payment_id, DAY, allocations)

    assert (
        refused(state, apply(Allocation(issued.invoice_id, 10_001))).field
        == "allocations.0.amount_minor"
    )
    assert (
        refused(
            state, apply(Allocation(issued.invoice_id, 6_000), Allocation(issued.invoice_id, 6_000))
        ).field
        == "allocations.1.amount_minor"
    )
    assert refused(state, apply(Allocation(uuid4(), 1))).field == "allocations.0.invoice_id"
    assert (
        refused(state, apply(Allocation(issued.invoice_id, 0))).field
        == "allocations.0.amount_minor"
    )
    euro = invoice(external_id="EUR-1", currency="EUR")
    in_euro = given(register(), euro, paid)
    assert refused(in_euro, apply(Allocation(euro.invoice_id, 100))).title == "Currency mismatch"
    small = payment(amount_minor=50)
    assert (
        refused(
            given(register(), issued, small),
            ApplyPayment(ACCOUNT, small.payment_id, DAY, (Allocation(issued.invoice_id, 60),)),
        ).field
        == "allocations"
    )


def test_oldest_first_never_crosses_currencies():
    euro, paid = invoice(currency="EUR"), payment()
    refusal = refused(given(register(), euro, paid), ApplyPayment(ACCOUNT, paid.payment_id, DAY))
    assert refusal.field == "allocations"


def test_a_reversal_reopens_what_the_payment_paid_and_removes_its_credit():
    issued, paid = invoice(), payment(amount_minor=15_000)
    state = given(register(), issued, paid, ApplyPayment(ACCOUNT, paid.payment_id, DAY))
    [event] = when(state, ReversePayment(ACCOUNT, paid.payment_id, ReversalReason.CHARGEBACK, DAY))
    assert isinstance(event, PaymentReversed)
    assert [(r.invoice_id, r.amount_minor) for r in event.reopened] == [(issued.invoice_id, 10_000)]
    assert event.unapplied_minor == 5_000
    after = given(
        register(),
        issued,
        paid,
        ApplyPayment(ACCOUNT, paid.payment_id, DAY),
        ReversePayment(ACCOUNT, paid.payment_id, ReversalReason.RETURNED, DAY),
    )
    assert after.open_balances() == {"USD": 10_000} and after.credits() == {"USD": 0}
    assert refused(after, ApplyPayment(ACCOUNT, paid.payment_id, DAY)).kind is RefusalKind.CONFLICT


def test_a_reversed_payment_leaves_the_invoice_voidable():
    issued, paid = invoice(), payment()
    after = given(
        register(),
        issued,
        paid,
        ApplyPayment(ACCOUNT, paid.payment_id, DAY),
        ReversePayment(ACCOUNT, paid.payment_id, ReversalReason.RETURNED, DAY),
    )
    [event] = when(after, VoidInvoice(ACCOUNT, issued.invoice_id, DAY))
    assert isinstance(event, InvoiceVoided)


def test_a_stored_v1_invoice_reads_as_one_line_and_one_instalment():
    from receivables_platform.contracts.base import decode

    issued = decode(
        "billing.invoice.issued",
        1,
        {
            "invoice_id": str(uuid4()),
            "account_id": str(ACCOUNT),
            "external_id": "OLD-1",
            "currency": "EUR",
            "total_minor": 48_250,
            "issue_date": "2026-08-01",
            "due_date": "2026-08-31",
        },
    )
    assert isinstance(issued, InvoiceIssued)
    assert [(line.quantity, line.amount_minor) for line in issued.lines] == [(1, 48_250)]
    assert [(i.due_date, i.amount_minor) for i in issued.instalments] == [
        (date(2026, 8, 31), 48_250)
    ]
    state = given(register())
    from billing_adapter.domain.account import evolve
    from receivables_platform.domain import fold

    assert fold(evolve, state, [issued]).open_balances() == {"EUR": 48_250}


def test_an_updates_changes_are_each_field_as_it_was_and_as_it_became():
    before = Account(name="Acme", payment_terms_days=30, segment="smb")
    after = replace(before, payment_terms_days=45, segment=None)
    assert profile_changes(before, after) == [
        ("payment_terms_days", 30, 45),
        ("segment", "smb", None),
    ]
    assert profile_changes(after, after) == []
