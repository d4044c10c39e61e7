"""The event store over real PostgreSQL: concurrency, atomicity with the outbox, loading."""

import asyncio
from datetime import date
from uuid import uuid4

import asyncpg
import pytest

from receivables_platform.contracts.billing import InvoiceIssued
from receivables_platform.store import ConcurrencyError, EventStore, PendingStream

store = EventStore(source="test-service", topic="test.events.v1")


def issued(account: str, n: int = 1) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id=uuid4(),
        account_id=account,
        external_id=f"INV-{n}",
        currency="EUR",
        total_minor=1000 * n,
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
    )


async def test_two_concurrent_appends_at_the_same_version_exactly_one_wins(pool: asyncpg.Pool):
    account = str(uuid4())
    await store.append_one(pool, account, 0, issued(account))
    barrier = asyncio.Barrier(2)

    async def writer(n: int) -> str:
        async with pool.acquire() as conn, conn.transaction():
            assert await store.stream_version(conn, account) == 1
            await barrier.wait()
            try:
                await store.append(conn, [PendingStream(account, 1, [issued(account, n)], account)])
                return "won"
            except ConcurrencyError:
                return "conflict"

    results = await asyncio.gather(writer(2), writer(3))
    assert sorted(results) == ["conflict", "won"]
    async with pool.acquire() as conn:
        events = await store.load(conn, account)
        assert [e.version for e in events] == [1, 2]
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 2


async def test_an_append_ahead_of_the_stream_is_a_conflict(pool: asyncpg.Pool):
    account = str(uuid4())
    with pytest.raises(ConcurrencyError):
        await store.append_one(pool, account, 3, issued(account))


async def test_a_failed_append_leaves_no_outbox_row(pool: asyncpg.Pool):
    account = str(uuid4())
    await store.append_one(pool, account, 0, issued(account))
    with pytest.raises(ConcurrencyError):
        await store.append_one(pool, account, 0, issued(account, 2))
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events") == 1
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 1


async def test_loaded_events_decode_to_their_contracts_and_envelopes(pool: asyncpg.Pool):
    account = str(uuid4())
    event = issued(account, 7)
    recorded = await store.append_one(pool, account, 0, event, correlation_id="corr-1")
    assert recorded[0].contract() == event
    envelope = recorded[0].cloud_event()
    assert (envelope.type, envelope.subject, envelope.sequence) == (
        "billing.invoice.issued",
        account,
        1,
    )
    assert envelope.correlationid == "corr-1"
