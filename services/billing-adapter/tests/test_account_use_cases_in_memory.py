"""The account use cases over in-memory fakes: creates idempotent on the billing system's
external id, the entity index written with the events, and nothing left behind by a
refusal, checked without a database (the same use cases run over PostgreSQL in
test_billing_api.py and test_account_entities.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from billing_adapter.domain.account import evolve
from billing_adapter.domain.commands import IssueInvoice, RecordPayment, RegisterAccount
from billing_adapter.domain.state import Account
from billing_adapter.service_layer.accounts import (
    INVOICE,
    PAYMENT,
    AccountStore,
    get_invoice,
    issue_invoice,
    record_payment,
    register_account,
)
from receivables_devkit.testing.fakes import (
    InMemoryRepository,
    InMemoryTable,
    InMemoryTransactions,
)
from receivables_platform.contracts.billing import (
    AccountRegistered,
    InvoiceIssued,
    PaymentMethod,
    PaymentReceived,
)
from receivables_platform.domain import NotFound, RefusalKind, Refused


class Entities(InMemoryTable):
    async def add(self, conn: object, kind: str, entity_id: UUID, account_id: UUID, /) -> None:
        self.rows[(kind, entity_id)] = account_id

    async def owner(self, conn: object, kind: str, entity_id: UUID, /) -> UUID | None:
        found: UUID | None = self.rows.get((kind, entity_id))
        return found


class ExternalIds(InMemoryTable):
    def __init__(self, entities: Entities) -> None:
        super().__init__()
        self.entities = entities

    async def claim(self, conn: object, kind: str, external_id: str, internal_id: UUID, /) -> bool:
        return self.rows.setdefault((kind, external_id), internal_id) == internal_id

    async def claim_entity(
        self, conn: object, kind: str, external_id: str, entity_id: UUID, account_id: UUID, /
    ) -> bool:
        claimed = await self.claim(conn, kind, external_id, entity_id)
        if claimed:
            await self.entities.add(conn, kind, entity_id, account_id)
        return claimed

    async def find(self, conn: object, kind: str, external_id: str, /) -> UUID | None:
        found: UUID | None = self.rows.get((kind, external_id))
        return found


class Billing:
    """An account store kept in memory, and what it holds."""

    def __init__(self) -> None:
        self.accounts: InMemoryRepository[Account] = InMemoryRepository(
            prefix="account", initial=Account, evolve=evolve
        )
        self.entities = Entities()
        self.external_ids = ExternalIds(self.entities)
        self.store = AccountStore(
            self.accounts,
            self.external_ids,
            self.entities,
            InMemoryTransactions(self.accounts, self.external_ids, self.entities),
        )


@pytest.fixture
def billing() -> Billing:
    return Billing()


ACCOUNT = UUID("01900000-0000-7000-8000-0000000000b1")


def registration(**overrides: Any) -> RegisterAccount:
    return replace(
        RegisterAccount(
            account_id=ACCOUNT,
            external_id="CUS-1",
            name="Acme GmbH",
            currency="EUR",
            payment_terms_days=30,
        ),
        **overrides,
    )


def invoice(total: int = 12_000, **overrides: Any) -> IssueInvoice:
    return replace(
        IssueInvoice(
            invoice_id=uuid4(),
            account_id=ACCOUNT,
            external_id="INV-1",
            total_minor=total,
            issue_date=date(2026, 11, 2),
        ),
        **overrides,
    )


def payment(external_id: str = "PAY-1", amount: int = 5_000) -> RecordPayment:
    return RecordPayment(
        payment_id=uuid4(),
        account_id=ACCOUNT,
        external_id=external_id,
        amount_minor=amount,
        currency="EUR",
        method=PaymentMethod.WIRE,
        received_on=date(2026, 11, 20),
    )


async def test_registering_under_a_taken_external_id_returns_the_account_made_first(billing):
    first = await register_account(None, registration(), store=billing.store)
    again = await register_account(None, registration(account_id=uuid4()), store=billing.store)
    assert first.created and not again.created and again.entity_id == ACCOUNT
    assert [type(e) for e in billing.accounts.events(ACCOUNT)] == [AccountRegistered]


async def test_the_same_external_id_for_another_currency_is_a_conflict(billing):
    await register_account(None, registration(), store=billing.store)
    with pytest.raises(Refused) as refused:
        await register_account(
            None, registration(account_id=uuid4(), currency="USD"), store=billing.store
        )
    assert refused.value.kind is RefusalKind.CONFLICT and refused.value.field == "external_id"


async def test_an_invoice_is_indexed_under_its_account_with_its_event(billing):
    await register_account(None, registration(), store=billing.store)
    command = invoice()
    created = await issue_invoice(None, command, store=billing.store)
    assert created.created and created.account.state.invoices[command.invoice_id]
    assert billing.entities.rows[(INVOICE, command.invoice_id)] == ACCOUNT
    found = await get_invoice(None, command.invoice_id, store=billing.store)
    assert found.version == 2
    assert isinstance(billing.accounts.events(ACCOUNT)[-1], InvoiceIssued)


async def test_a_repeated_invoice_is_a_no_op_and_a_different_one_under_its_id_a_conflict(billing):
    await register_account(None, registration(), store=billing.store)
    command = invoice()
    await issue_invoice(None, command, store=billing.store)
    repeated = await issue_invoice(None, invoice(invoice_id=uuid4()), store=billing.store)
    assert not repeated.created and repeated.entity_id == command.invoice_id
    with pytest.raises(Refused) as refused:
        await issue_invoice(None, invoice(total=99), store=billing.store)
    assert refused.value.kind is RefusalKind.CONFLICT
    assert len(billing.accounts.events(ACCOUNT)) == 2


async def test_a_refused_create_releases_the_external_id_it_claimed(billing):
    with pytest.raises(NotFound):  # no such account: the invoice is refused
        await issue_invoice(None, invoice(), store=billing.store)
    assert billing.external_ids.rows == {} and billing.entities.rows == {}
    await register_account(None, registration(), store=billing.store)
    assert (await issue_invoice(None, invoice(), store=billing.store)).created


async def test_a_payment_is_recorded_once_per_external_id(billing):
    await register_account(None, registration(), store=billing.store)
    first = await record_payment(None, payment(), store=billing.store)
    again = await record_payment(None, payment(), store=billing.store)
    assert first.created and not again.created and again.entity_id == first.entity_id
    assert billing.entities.rows[(PAYMENT, first.entity_id)] == ACCOUNT
    assert sum(isinstance(e, PaymentReceived) for e in billing.accounts.events(ACCOUNT)) == 1
