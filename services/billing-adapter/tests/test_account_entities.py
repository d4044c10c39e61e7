"""Which account an invoice or payment belongs to: asked once, then remembered."""

from uuid import UUID

from billing_adapter.adapters import account_entities
from receivables_platform.db.pool import connect
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
