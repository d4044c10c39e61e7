"""Which account an invoice or payment belongs to: asked once, then remembered."""

from datetime import date
from uuid import UUID

import pytest
from asyncpg.connection import LoggedQuery

from billing_adapter.adapters import account_entities
from billing_adapter.domain.commands import IssueInvoice, RegisterAccount
from billing_adapter.service_layer.accounts import issue_invoice, register_account
from receivables_platform.db.pool import connect
from receivables_platform.domain import NotFound
from receivables_platform.ids import new_id

INVOICE = "invoice"


async def _forget_in_database(conn, entity_id: UUID) -> None:
    """Remove the row behind the cache's back: only a remembered answer survives it."""
    await conn.execute("DELETE FROM account_entities WHERE entity_id = $1", entity_id)


async def test_an_owner_read_outside_a_transaction_is_remembered(billing_url: str) -> None:
    conn = await connect(billing_url)
    try:
        invoice, account = new_id(), new_id()
        await account_entities.add(conn, INVOICE, invoice, account)
        assert await account_entities.owner(conn, INVOICE, invoice) == account
        await _forget_in_database(conn, invoice)
        assert await account_entities.owner(conn, INVOICE, invoice) == account
    finally:
        await conn.close()


async def test_an_owner_read_in_a_transaction_that_may_roll_back_is_not(billing_url: str) -> None:
    conn = await connect(billing_url)
    try:
        invoice, account = new_id(), new_id()
        async with conn.transaction():
            await account_entities.add(conn, INVOICE, invoice, account)
            assert await account_entities.owner(conn, INVOICE, invoice) == account
        await _forget_in_database(conn, invoice)
        assert await account_entities.owner(conn, INVOICE, invoice) is None
        assert await account_entities.owner(conn, INVOICE, new_id()) is None
    finally:
        await conn.close()


async def test_an_invoice_create_claims_and_indexes_in_one_statement(billing_url: str) -> None:
    """Issue 23: the external id's claim, the invoice's index row, the account's lock and
    its read are one round trip, so a create is that and the append; a taken external id
    indexes nothing and a refused create leaves neither row."""
    conn = await connect(billing_url)
    sent: list[str] = []
    try:
        account = new_id()
        await register_account(conn, _account(account))

        def log(record: LoggedQuery) -> None:
            sent.append(record.query)

        conn.add_query_logger(log)
        made = await issue_invoice(conn, _invoice(account, "INV-1"))
        conn.remove_query_logger(log)
        statements = [q for q in sent if q.strip().rstrip(";") not in ("BEGIN", "COMMIT")]
        assert len(statements) == 2, statements
        assert await account_entities.owner(conn, INVOICE, made.entity_id) == account

        again = await issue_invoice(conn, _invoice(account, "INV-1"))
        assert (again.created, again.entity_id) == (False, made.entity_id)
        with pytest.raises(NotFound):
            await issue_invoice(conn, _invoice(new_id(), "INV-2"))
        rows = await conn.fetchval("SELECT count(*) FROM account_entities")
        claims = await conn.fetchval("SELECT count(*) FROM external_ids WHERE kind = 'invoice'")
        assert (rows, claims) == (1, 1)
    finally:
        await conn.close()


def _account(account_id: UUID) -> RegisterAccount:
    return RegisterAccount(
        account_id=account_id,
        external_id=f"CUS-{account_id}",
        name="Acme GmbH",
        currency="EUR",
        payment_terms_days=30,
    )


def _invoice(account_id: UUID, external_id: str) -> IssueInvoice:
    return IssueInvoice(
        invoice_id=new_id(),
        account_id=account_id,
        external_id=external_id,
        total_minor=12_000,
        issue_date=date(2026, 11, 2),
    )
