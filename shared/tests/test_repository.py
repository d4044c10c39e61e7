"""The aggregate repository over real PostgreSQL: remembered states fold only what is new."""

import asyncio
from dataclasses import dataclass, replace
from datetime import date
from uuid import uuid4

import asyncpg

from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import InvoiceIssued
from receivables_platform.repository import AggregateRepository
from receivables_platform.store import EventStore


@dataclass(frozen=True)
class Book:
    """A stand-in aggregate: how much was invoiced."""

    total_minor: int = 0


class Folds:
    def __init__(self) -> None:
        self.events = 0

    def evolve(self, book: Book, event: EventContract) -> Book:
        self.events += 1
        assert isinstance(event, InvoiceIssued)
        return replace(book, total_minor=book.total_minor + event.total_minor)


def issued(account: str, total: int) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id=uuid4(),
        account_id=account,
        external_id="INV",
        currency="EUR",
        total_minor=total,
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
    )


def repository(folds: Folds, remember: int) -> AggregateRepository[Book]:
    store = EventStore(source="repository-test", topic="repository-test.events.v1")
    return AggregateRepository(
        store, prefix="book", initial=Book, evolve=folds.evolve, remember=remember
    )


async def add(
    pool: asyncpg.Pool, books: AggregateRepository[Book], account: str, total: int
) -> None:
    async with pool.acquire() as conn:
        await books.execute(
            conn, account, lambda _: [issued(account, total)], subject=lambda _: account
        )


async def a_book(
    pool: asyncpg.Pool,
    *totals: int,
) -> tuple[Folds, str, AggregateRepository[Book]]:
    """A remembering repository and an account with an invoice of each total on its book."""
    folds, account = Folds(), str(uuid4())
    books = repository(folds, remember=10)
    for total in totals:
        await add(pool, books, account, total)
    return folds, account, books


async def test_a_remembered_book_folds_only_the_events_since_it_was_read(
    pool: asyncpg.Pool,
) -> None:
    folds, account, books = await a_book(pool, 100, 200, 300)
    async with pool.acquire() as conn:
        first = await books.load(conn, account, history=False)
        folds.events = 0
        await add(pool, repository(Folds(), remember=0), account, 400)  # another process
        again = await books.load(conn, account, history=False)
        whole = await books.load(conn, account)
    assert (first.state.total_minor, first.version) == (600, 3)
    assert (again.state.total_minor, again.version) == (1_000, 4)
    assert folds.events == 1 + 4  # the new event, then the full fold asked for with history
    assert (whole.state, whole.version, len(whole.history)) == (again.state, 4, 4)


async def test_a_command_remembers_the_state_it_wrote_so_the_next_folds_nothing_old(
    pool: asyncpg.Pool,
) -> None:
    folds, account, books = await a_book(pool, 100, 200, 300)
    folds.events = 0
    await add(pool, books, account, 400)
    async with pool.acquire() as conn:
        loaded = await books.load(conn, account, history=False)
    assert (loaded.state.total_minor, loaded.version) == (1_000, 4)
    assert folds.events == 1  # the new event when deciding on it; nothing was read again


async def test_a_state_remembered_from_a_write_that_rolled_back_is_not_built_on(
    pool: asyncpg.Pool,
) -> None:
    _, account, books = await a_book(pool, 100)
    async with pool.acquire() as conn:
        assert (await books.load(conn, account, history=False)).version == 1  # remembered
        tx = conn.transaction()
        await tx.start()
        await books.execute(
            conn, account, lambda _: [issued(account, 999)], subject=lambda _: account
        )
        assert (await books.load(conn, account, history=False)).state.total_minor == 1_099
        await tx.rollback()
        after = await books.load(conn, account, history=False)
    assert (after.state.total_minor, after.version) == (100, 1)


async def test_a_rolled_back_write_whose_version_another_writer_took_is_not_built_on(
    pool: asyncpg.Pool,
) -> None:
    """The remembered state's version exists again, but holds another event: fold afresh."""
    _, account, books = await a_book(pool, 100)
    others = repository(Folds(), remember=0)  # another process writing the same stream
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await books.execute(
            conn, account, lambda _: [issued(account, 999)], subject=lambda _: account
        )
        await tx.rollback()
    await add(pool, others, account, 5)  # version 2, as the rolled-back event was
    async with pool.acquire() as conn:
        after = await books.load(conn, account, history=False)
    assert (after.state.total_minor, after.version) == (105, 2)


async def test_without_remembering_every_load_folds_the_whole_stream(pool: asyncpg.Pool) -> None:
    folds, account = Folds(), str(uuid4())
    books = repository(folds, remember=0)
    for total in (100, 200):
        await add(pool, books, account, total)
    async with pool.acquire() as conn:
        folds.events = 0
        await books.load(conn, account, history=False)
        await books.load(conn, account, history=False)
    assert folds.events == 4


async def test_a_write_takes_its_lock_and_reads_its_stream_in_one_round_trip(
    pool: asyncpg.Pool,
) -> None:
    """Issue 23: the lock and the read were two statements on every write."""
    _, account, _ = await a_book(pool, 100)
    fresh = repository(Folds(), remember=0)  # remembers nothing: reads the whole stream
    statements: list[str] = []
    async with pool.acquire() as conn:
        conn.add_query_logger(lambda record: statements.append(record.query))
        try:
            async with conn.transaction():
                loaded = await fresh.execute(
                    conn, account, lambda _: [issued(account, 5)], subject=lambda _: account
                )
        finally:
            conn.remove_query_logger(statements.append)
    written = [s for s in statements if not s.strip().upper().startswith(("BEGIN", "COMMIT"))]
    assert (loaded.state.total_minor, loaded.version) == (105, 2)
    assert len(written) == 2, [w[:60] for w in written]  # the locked read, then the append
    assert "events_of_locked_stream" in written[0]


async def test_a_writer_queued_on_the_lock_reads_what_the_holder_committed(
    pool: asyncpg.Pool,
) -> None:
    """The read runs after the lock is held, with a snapshot that includes the previous
    holder's commit: the second writer builds on it instead of failing its version check."""
    _, account, books = await a_book(pool, 100)
    other = repository(Folds(), remember=0)
    async with pool.acquire() as holder, pool.acquire() as waiter:
        tx = holder.transaction()
        await tx.start()
        await books.execute(
            holder, account, lambda _: [issued(account, 20)], subject=lambda _: account
        )
        queued = asyncio.create_task(
            other.execute(
                waiter, account, lambda _: [issued(account, 3)], subject=lambda _: account
            )
        )
        await asyncio.sleep(0.3)
        assert not queued.done()  # waiting for the holder's lock
        await tx.commit()
        loaded = await asyncio.wait_for(queued, 10)
    assert (loaded.state.total_minor, loaded.version) == (123, 3)
