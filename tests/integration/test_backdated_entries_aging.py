"""Property: for every as-of date, reporting's aging of billing's events is what billing says.

Hypothesis enters random histories into billing's account aggregate (its real
`decide` and `evolve`): invoices, payments, applications explicit and
oldest-first, credit and debit memos, reversals, voids and write-offs, each
dated anywhere in a month (before the invoice, before the payment, after
today too), in the order drawn, so most entries are backdated past others.
Billing refuses what it cannot book right. What it accepted is projected by
reporting's own billing projection into a real PostgreSQL, and for every day
around the month reporting's aging query per invoice must equal each
invoice's balance on that day by billing's rules (nothing before the issue
date, nothing from the void's date on); after every accepted command no
day may owe less than nothing or more than was billed by then, and billing's
balance now must be its balance today.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest
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
from billing_adapter.testing import invoice, payment, register
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import AdjustmentKind, ReversalReason
from receivables_platform.domain import Refused, fold
from reporting_service.adapters.aging_query import AgingFilter, GroupBy, aging
from reporting_service.consumers.billing_projection import project_billing_event
from reporting_service.domain.aging import buckets
from reporting_service.spec import SPEC as REPORTING
from reporting_service.testing import cloud

START = date(2026, 9, 1)
TODAY = date(2026, 9, 30)
AS_OF = [START + timedelta(n) for n in range(-2, (TODAY - START).days + 4)]
amounts = st.integers(min_value=1, max_value=20_000)
# a few days either side of the month: before an issue date, and after today
days = st.integers(min_value=-2, max_value=(TODAY - START).days + 3).map(
    lambda n: START + timedelta(n)
)


def dated(data: st.DataObject, since: date) -> date:
    """Mostly within days after the date the entry depends on, else anywhere in the month."""
    after = st.integers(0, 12).map(lambda n: min(since + timedelta(n), TODAY))
    return data.draw(st.one_of(after, after, days), label="dated")


def owed_now(data: st.DataObject, state: Account, invoice_id: UUID) -> int:
    """Often all that billing shows open today: the amount a backdated entry most likely takes."""
    now = state.invoices[invoice_id].open_minor
    return data.draw(st.one_of(amounts, st.just(max(now, 1))), label="amount")


def next_command(data: st.DataObject, state: Account, account: UUID) -> Command:
    invoices = list(state.invoices)
    unapplied = [p for p, paid in state.payments.items() if paid.unapplied_minor]
    standing = [p for p, paid in state.payments.items() if not paid.reversed]
    kinds = (
        ["issue", "pay"]
        + (["credit", "credit", "debit", "void", "write_off"] if invoices else [])
        + (["apply"] * 4 if unapplied and invoices else [])
        + (["reverse"] if standing else [])
    )
    kind = data.draw(st.sampled_from(kinds), label="kind")
    if kind == "issue":
        on = data.draw(
            st.one_of(days, days.map(lambda d: min(d, START + timedelta(10)))), label="issued"
        )
        return invoice(
            invoice_id=uuid4(),
            account_id=account,
            total_minor=data.draw(amounts),
            issue_date=on,
            due_date=on + timedelta(data.draw(st.integers(0, 30))),
        )
    if kind == "pay":
        return payment(
            payment_id=uuid4(),
            account_id=account,
            amount_minor=data.draw(st.integers(1, 8_000)),
            received_on=data.draw(days, label="received"),
        )
    if kind in ("credit", "debit", "void", "write_off"):
        invoice_id = data.draw(st.sampled_from(invoices))
        on = dated(data, state.invoices[invoice_id].issue_date)
        if kind == "void":
            return VoidInvoice(account, invoice_id, on)
        if kind == "write_off":
            return WriteOffInvoice(account, invoice_id, "BAD_DEBT", on)
        return AdjustInvoice(
            account,
            invoice_id,
            uuid4(),
            AdjustmentKind(kind),
            owed_now(data, state, invoice_id),
            "PRICE",
            on,
        )
    payment_id = data.draw(st.sampled_from(unapplied if kind == "apply" else standing))
    on = dated(data, state.payments[payment_id].received_on)
    if kind == "reverse":
        return ReversePayment(account, payment_id, ReversalReason.RETURNED, on)
    if not invoices or data.draw(st.booleans(), label="oldest first"):
        return ApplyPayment(account, payment_id, on)
    allocations = [
        Allocation(i, owed_now(data, state, i))
        for i in data.draw(
            st.lists(st.sampled_from(invoices), min_size=1, max_size=2), label="allocated"
        )
    ]
    return ApplyPayment(account, payment_id, on, tuple(allocations))


def sound_on_every_day(state: Account) -> None:
    """What billing says now is what it owes today; no day owes less than nothing or more than
    was billed by then (a reversal dated before its application owed the payment twice);
    no payment pays out money before it arrived."""
    for balance in state.invoices.values():
        assert balance.open_minor == balance.open_on(TODAY), balance.invoice_id
        for day in AS_OF:
            billed = balance.total_minor + sum(
                e.amount_minor
                for e in balance.entries
                if e.effective_date <= day and e.what.startswith("debit")
            )
            assert 0 <= balance.open_on(day) <= (billed if day >= balance.issue_date else 0)
    for paid in state.payments.values():
        assert 0 <= paid.unapplied_minor <= paid.amount_minor
        assert all(a.applied_on >= paid.received_on for a in paid.applications)


async def compare(url: str, account: UUID, events: list[EventContract]) -> None:
    """Reporting's aging per invoice against billing's balances folded from the same events."""
    state = fold(evolve, Account(), events)
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():  # as the consumer runner applies one poll
            await project_billing_event.many(conn, [cloud(e) for e in events])
        for as_of in AS_OF:
            rows = await aging(
                conn, AgingFilter(as_of=as_of, account_id=account), GroupBy.invoice, buckets()
            )
            reported = {row["invoice_id"]: row["total_minor"] for row in rows}
            owed = {i: b.open_on(as_of) for i, b in state.invoices.items()}
            assert reported == {i: amount for i, amount in owed.items() if amount > 0}, as_of
    finally:
        await conn.close()


@pytest.fixture
async def reporting_url(fresh_database) -> str:
    return await fresh_database(REPORTING.versions_dir)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_aging_of_backdated_entries_equals_billings_balances_on_every_day(
    reporting_url: str, data: st.DataObject
) -> None:
    account = uuid4()  # each example its own account in the one database
    state = Account()
    events = decide(register(account_id=account), state, TODAY)
    state = fold(evolve, state, events)
    for _ in range(data.draw(st.integers(1, 30), label="commands")):
        command = next_command(data, state, account)
        try:
            decided = decide(command, state, TODAY)
        except Refused:
            continue
        events.extend(decided)
        state = fold(evolve, state, decided)
        sound_on_every_day(state)
    asyncio.run(compare(reporting_url, account, events))
