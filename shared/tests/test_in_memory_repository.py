"""The in-memory repository the use-case tests run on behaves as the PostgreSQL one: the
same commands give the same states, versions, events and refusals on both."""

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from receivables_devkit.testing.fakes import InMemoryRepository
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import InvoiceIssued
from receivables_platform.domain import Refused
from receivables_platform.repository import AggregateRepository, Repository
from receivables_platform.store import ConcurrencyError, EventStore


def evolve(total: int, event: EventContract) -> int:
    assert isinstance(event, InvoiceIssued)
    return total + event.total_minor


def issue(account: str, total: int) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id=uuid4(),
        account_id=account,
        external_id="INV",
        currency="EUR",
        total_minor=total,
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
    )


def at_most(limit: int, account: str, total: int) -> Any:
    def decide(current: int) -> Sequence[EventContract]:
        if current + total > limit:
            raise Refused(f"over the limit of {limit}", field="total_minor")
        return [issue(account, total)]

    return decide


async def failing_after(conn: Any, state: int, events: Sequence[EventContract]) -> None:
    raise RuntimeError("the row written with the events failed")


async def scenario(conn: Any, books: Repository[int], save: Any) -> list[object]:
    """What a caller can observe of a repository, step by step."""
    account, seen = str(uuid4()), []
    for total in (100, 250):
        loaded = await books.execute(
            conn, account, at_most(1_000, account, total), subject=lambda _: account
        )
        seen.append((loaded.state, loaded.version, [e.contract() for e in loaded.history]))
    with pytest.raises(Refused):  # the domain refuses: nothing is appended
        await books.execute(conn, account, at_most(300, account, 1), subject=lambda _: account)
    with pytest.raises(RuntimeError):  # what is written with the events fails: both roll back
        await books.execute(
            conn,
            account,
            at_most(1_000, account, 5),
            subject=lambda _: account,
            after=failing_after,
        )
    with pytest.raises(ConcurrencyError):
        await save(conn, account, 1, [issue(account, 7)], subject=account)
    whole = await books.load(conn, account)
    seen.append((whole.state, whole.version, [e.contract() for e in whole.history]))
    return [_without_ids(s) for s in seen]


def _without_ids(seen: object) -> object:
    if isinstance(seen, tuple):
        state, version, events = seen
        return state, version, [(type(e).__name__, e.total_minor) for e in events]
    return seen


async def test_the_in_memory_repository_answers_as_the_postgresql_one(pool: asyncpg.Pool):
    real = AggregateRepository(
        EventStore(source="urn:test", topic="test.events.v1"),
        prefix="book",
        initial=int,
        evolve=evolve,
    )
    fake: InMemoryRepository[int] = InMemoryRepository(prefix="book", initial=int, evolve=evolve)
    async with pool.acquire() as conn:
        on_postgresql = await scenario(conn, real, real.save)
    in_memory = await scenario(None, fake, fake.save)
    assert in_memory == on_postgresql
    assert on_postgresql[-1] == (350, 2, [("InvoiceIssued", 100), ("InvoiceIssued", 250)])
