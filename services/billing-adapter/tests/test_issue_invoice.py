"""Issuing invoices over real PostgreSQL: idempotent on external id, events with outbox rows."""

import asyncio
from datetime import date
from uuid import uuid4

import asyncpg
import pytest

from billing_adapter.domain.invoice import IssueInvoice
from billing_adapter.service_layer.invoices import issue_invoice
from billing_adapter.spec import SPEC
from receivables_platform.db.pool import connect
from receivables_platform.domain import Refused


@pytest.fixture
async def billing_db(fresh_database) -> str:
    return await fresh_database(SPEC.versions_dir)


def command(external_id: str = "INV-100", total: int = 5_000) -> IssueInvoice:
    return IssueInvoice(invoice_id=uuid4(), account_id=uuid4(), external_id=external_id,
                        currency="USD", total_minor=total, issue_date=date(2026, 11, 1),
                        due_date=date(2026, 12, 1))


async def counts(conn: asyncpg.Connection) -> tuple[int, int]:
    return (await conn.fetchval("SELECT count(*) FROM events"),
            await conn.fetchval("SELECT count(*) FROM outbox"))


async def test_issuing_writes_one_event_and_its_outbox_row(billing_db: str):
    conn = await connect(billing_db)
    try:
        issued = await issue_invoice(conn, command(), correlation_id="c-1")
        assert issued.created and issued.invoice.version == 1
        assert await counts(conn) == (1, 1)
        topic = await conn.fetchval("SELECT topic FROM outbox")
        assert topic == "billing.events.v1"
    finally:
        await conn.close()


async def test_the_same_external_id_twice_returns_the_first_invoice(billing_db: str):
    conn = await connect(billing_db)
    try:
        first = await issue_invoice(conn, command())
        again = IssueInvoice(**{**command().__dict__,
                                "account_id": first.invoice.state.account_id})
        replay = await issue_invoice(conn, again)
        assert not replay.created
        assert replay.invoice.state.invoice_id == first.invoice.state.invoice_id
        assert await counts(conn) == (1, 1)
    finally:
        await conn.close()


async def test_the_same_external_id_for_a_different_invoice_is_refused(billing_db: str):
    conn = await connect(billing_db)
    try:
        await issue_invoice(conn, command(total=5_000))
        with pytest.raises(Refused) as refusal:
            await issue_invoice(conn, command(total=6_000))
        assert refusal.value.status == 409 and refusal.value.field == "external_id"
        assert await counts(conn) == (1, 1)
    finally:
        await conn.close()


async def test_concurrent_creates_of_one_external_id_make_one_invoice(billing_db: str):
    template = command()
    conns = [await connect(billing_db) for _ in range(4)]
    try:
        results = await asyncio.gather(*[
            issue_invoice(c, IssueInvoice(**{**template.__dict__, "invoice_id": uuid4()}))
            for c in conns])
        assert sum(r.created for r in results) == 1
        assert len({r.invoice.state.invoice_id for r in results}) == 1
        assert await counts(conns[0]) == (1, 1)
    finally:
        for c in conns:
            await c.close()
