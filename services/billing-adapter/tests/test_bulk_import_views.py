"""The bulk import decides creates on an account's profile alone; `decide` must agree.

`load_for_creates` folds only profile events (and the creating events of rows
seen again). These tests pin the assumption that makes that sound: on any
history, creating an invoice or a payment with a new id decides exactly the
same events, or the same refusal, on the profile as on the whole account. A
rule that starts reading an account's other invoices (a credit limit, say)
fails here, and the importer must then load whole streams.
"""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_adapter.adapters.repositories import PROFILE_EVENTS
from billing_adapter.domain.account import decide, evolve
from billing_adapter.domain.commands import (
    AdjustInvoice,
    ApplyPayment,
    Command,
    EnrolAutoPay,
    UpdateAccount,
    VoidInvoice,
)
from billing_adapter.domain.state import Account
from billing_adapter.testing import ACCOUNT, TODAY, invoice, payment, register
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import AdjustmentKind
from receivables_platform.domain import Refused, fold


def history(commands: list[Command]) -> list[EventContract]:
    state, events = Account(), []
    for command in commands:
        try:
            decided = decide(command, state, TODAY)
        except Refused:
            continue
        state = fold(evolve, state, decided)
        events.extend(decided)
    return events


def outcome(command: Command, state: Account) -> object:
    try:
        return decide(command, state, TODAY)
    except Refused as refusal:
        return (refusal.field, refusal.detail)


def step(draw: st.DrawFn, issued: list) -> Command:
    kind = draw(st.sampled_from(["issue", "pay", "adjust", "void", "update", "enrol", "apply"]))
    total = draw(st.integers(min_value=1, max_value=50_000))
    if kind == "issue" or not issued:
        command = invoice(
            invoice_id=uuid4(),
            external_id=f"INV-{len(issued)}",
            total_minor=total,
            currency=draw(st.sampled_from([None, "USD", "EUR"])),
        )
        issued.append(command.invoice_id)
        return command
    target = draw(st.sampled_from(issued))
    if kind == "pay":
        return payment(payment_id=uuid4(), amount_minor=total)
    if kind == "adjust":
        return AdjustInvoice(
            account_id=ACCOUNT,
            invoice_id=target,
            adjustment_id=uuid4(),
            kind=draw(st.sampled_from(list(AdjustmentKind))),
            amount_minor=total,
            reason_code="X",
            effective_date=date(2026, 10, 5),
        )
    if kind == "void":
        return VoidInvoice(account_id=ACCOUNT, invoice_id=target, voided_on=date(2026, 10, 6))
    if kind == "update":
        return UpdateAccount(
            account_id=ACCOUNT,
            payment_terms_days=draw(st.integers(0, 90)),
            name=draw(st.sampled_from([None, "Acme Two"])),
        )
    if kind == "enrol":
        return EnrolAutoPay(
            account_id=ACCOUNT,
            payment_method_reference="pm_1",
            payment_method_type="card",
            enrolled_on=date(2026, 10, 1),
        )
    return ApplyPayment(account_id=ACCOUNT, payment_id=uuid4(), applied_on=date(2026, 11, 2))


@st.composite
def histories(draw: st.DrawFn) -> list[EventContract]:
    issued: list = []
    commands: list[Command] = [register()]
    commands += [step(draw, issued) for _ in range(draw(st.integers(0, 12)))]
    return history(commands)


@settings(max_examples=150, deadline=None)
@given(
    events=histories(),
    total=st.integers(-5, 40_000),
    tax=st.integers(0, 500),
    currency=st.sampled_from([None, "USD", "EUR"]),
    due=st.sampled_from([None, 1, 60]),
    amount=st.integers(-5, 40_000),
)
def test_creates_decide_the_same_on_the_profile_as_on_the_whole_account(
    events, total, tax, currency, due, amount
):
    whole = fold(evolve, Account(), events)
    profile = fold(evolve, Account(), (e for e in events if e.event_type in PROFILE_EVENTS))
    issue = invoice(
        invoice_id=uuid4(),
        external_id="NEW",
        total_minor=total,
        tax_minor=tax,
        currency=currency,
        due_date=None if due is None else date(2026, 9, 1).replace(day=due % 28 + 1),
    )
    pay = payment(payment_id=uuid4(), external_id="NEW-PAY", amount_minor=amount)
    assert outcome(issue, profile) == outcome(issue, whole)
    assert outcome(pay, profile) == outcome(pay, whole)


@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_the_profile_keeps_what_creates_read(currency):
    events = history(
        [
            register(currency=currency),
            UpdateAccount(account_id=ACCOUNT, payment_terms_days=45),
            invoice(invoice_id=uuid4()),
        ]
    )
    profile = fold(evolve, Account(), (e for e in events if e.event_type in PROFILE_EVENTS))
    assert (profile.registered, profile.currency, profile.payment_terms_days) == (
        True,
        currency,
        45,
    )
    assert not profile.invoices
