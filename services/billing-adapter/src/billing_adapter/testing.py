"""Commands with defaults and given/when over the account aggregate, for this service's tests.

In the package (not under tests/) so the connectors built on these use cases (Stripe,
bulk import, case corrections) can state their domain expectations the same way.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from billing_adapter.domain.account import decide, evolve
from billing_adapter.domain.commands import (
    Command,
    IssueInvoice,
    RecordPayment,
    RegisterAccount,
)
from billing_adapter.domain.state import Account
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import PaymentMethod
from receivables_platform.domain import fold

ACCOUNT = UUID("01900000-0000-7000-8000-000000000001")
TODAY = date(2026, 12, 31)
"""The team's today in domain tests: after every default date, whatever the clock says."""


def register(**overrides: Any) -> RegisterAccount:
    return replace(
        RegisterAccount(
            account_id=ACCOUNT,
            external_id="CUS-1",
            name="Acme",
            currency="USD",
            payment_terms_days=30,
        ),
        **overrides,
    )


def invoice(**overrides: Any) -> IssueInvoice:
    return replace(
        IssueInvoice(
            invoice_id=uuid4(),
            account_id=ACCOUNT,
            external_id="INV-1",
            total_minor=10_000,
            issue_date=date(2026, 10, 1),
            due_date=date(2026, 10, 31),
        ),
        **overrides,
    )


def payment(**overrides: Any) -> RecordPayment:
    return replace(
        RecordPayment(
            payment_id=uuid4(),
            account_id=ACCOUNT,
            external_id="PAY-1",
            amount_minor=10_000,
            currency="USD",
            method=PaymentMethod.ACH,
            received_on=date(2026, 11, 1),
        ),
        **overrides,
    )


def given(*commands: Command, today: date = TODAY) -> Account:
    """The state after each command was decided and its events folded in."""
    state = Account()
    for command in commands:
        state = fold(evolve, state, decide(command, state, today))
    return state


def when(state: Account, command: Command, today: date = TODAY) -> list[EventContract]:
    return decide(command, state, today)
