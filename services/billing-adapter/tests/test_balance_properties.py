"""Property: through any sequence of accepted commands, balances add up and never go negative.

Hypothesis drives random command sequences (issue, credit and debit memos,
voids, write-offs, payments applied explicitly or oldest-first, reversals) in
two currencies, refusals included. After every accepted command each invoice's
open balance must equal total + adjustments - applications + reversals,
recomputed here from the emitted events alone (not from the aggregate's own
bookkeeping), and be >= 0; every payment's unapplied credit must be >= 0.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_adapter.domain.account import decide, evolve
from billing_adapter.domain.commands import (
    AdjustInvoice,
    Allocation,
    ApplyPayment,
    Command,
    ReversePayment,
    VoidInvoice,
    WriteOffInvoice,
)
from billing_adapter.domain.state import Account
from billing_adapter.testing import ACCOUNT, TODAY, invoice, payment, register
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import (
    AdjustmentKind,
    InvoiceAdjusted,
    InvoiceIssued,
    InvoiceVoided,
    InvoiceWrittenOff,
    PaymentApplied,
    PaymentReversed,
    ReversalReason,
)
from receivables_platform.domain import Refused, fold

DAY = date(2026, 11, 1)
amounts = st.integers(min_value=-50, max_value=20_000)
currencies = st.sampled_from(["USD", "EUR"])


class Ledger:
    """total + adjustments - applications + reversals per invoice, from events only."""

    def __init__(self) -> None:
        self.expected: dict[UUID, int] = defaultdict(int)
        self.voided: set[UUID] = set()

    def record(self, event: EventContract) -> None:
        match event:
            case InvoiceIssued():
                self.expected[event.invoice_id] += event.total_minor
            case InvoiceAdjusted():
                sign = 1 if event.kind is AdjustmentKind.DEBIT else -1
                self.expected[event.invoice_id] += sign * event.amount_minor
            case InvoiceWrittenOff():
                self.expected[event.invoice_id] -= event.amount_minor
            case InvoiceVoided():
                self.voided.add(event.invoice_id)
            case PaymentApplied():
                self.expected[event.invoice_id] -= event.amount_minor
            case PaymentReversed():
                for reopened in event.reopened:
                    self.expected[reopened.invoice_id] += reopened.amount_minor

    def open_balance(self, invoice_id: UUID) -> int:
        return 0 if invoice_id in self.voided else self.expected[invoice_id]


def next_command(data: st.DataObject, state: Account) -> Command:
    invoices, payments = list(state.invoices), list(state.payments)
    kinds = (
        ["issue", "pay"]
        + (["adjust", "void", "write_off"] if invoices else [])
        + (["apply", "reverse"] if payments else [])
    )
    kind = data.draw(st.sampled_from(kinds))
    if kind == "issue":
        return invoice(
            invoice_id=uuid4(),
            total_minor=data.draw(amounts),
            currency=data.draw(currencies),
            due_date=DAY + timedelta(days=data.draw(st.integers(-40, 60))),
        )
    if kind == "pay":
        return payment(
            payment_id=uuid4(), amount_minor=data.draw(amounts), currency=data.draw(currencies)
        )
    if kind in ("adjust", "void", "write_off"):
        invoice_id = data.draw(st.sampled_from(invoices))
        if kind == "void":
            return VoidInvoice(ACCOUNT, invoice_id, DAY)
        if kind == "write_off":
            return WriteOffInvoice(ACCOUNT, invoice_id, "BAD_DEBT", DAY)
        return AdjustInvoice(
            ACCOUNT,
            invoice_id,
            uuid4(),
            data.draw(st.sampled_from(list(AdjustmentKind))),
            data.draw(amounts),
            "PRICE",
            DAY,
        )
    payment_id = data.draw(st.sampled_from(payments))
    if kind == "reverse":
        return ReversePayment(ACCOUNT, payment_id, ReversalReason.RETURNED, DAY)
    if not invoices or data.draw(st.booleans()):
        return ApplyPayment(ACCOUNT, payment_id, DAY)
    allocations = data.draw(
        st.lists(st.builds(Allocation, st.sampled_from(invoices), amounts), min_size=1, max_size=3)
    )
    return ApplyPayment(ACCOUNT, payment_id, DAY, tuple(allocations))


def check(state: Account, ledger: Ledger) -> None:
    for invoice_id, balance in state.invoices.items():
        assert balance.open_minor == ledger.open_balance(invoice_id)
        assert balance.open_minor >= 0
    for paid in state.payments.values():
        assert 0 <= paid.unapplied_minor <= paid.amount_minor
    assert all(credit >= 0 for credit in state.credits().values())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_open_balances_add_up_and_never_go_negative(data: st.DataObject) -> None:
    ledger, state = Ledger(), Account()
    state = fold(evolve, state, decide(register(), state, TODAY))
    for _ in range(data.draw(st.integers(1, 30))):
        command = next_command(data, state)
        try:
            events = decide(command, state, TODAY)
        except Refused:
            continue
        for event in events:
            ledger.record(event)
        state = fold(evolve, state, events)
        check(state, ledger)
