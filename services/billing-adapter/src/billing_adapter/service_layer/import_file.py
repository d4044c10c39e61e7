"""Import a whole file: read rows, decide them in batches, report after each batch.

Two tasks share the event loop. The reader parses and validates rows (the work
that needs no database) into batches, at most `AHEAD` of them waiting; the
importer takes them in file order and decides and saves each in its own
transaction (a later batch sees what an earlier one created: a file may name
the same external id twice). The reader runs whenever the importer awaits
PostgreSQL, so the next batches are ready when a save ends instead of being read
only then. Memory holds at most `AHEAD + 2` batches (waiting, being read, being
imported), whatever the size of the file; rejected rows go to `on_batch` and are
not kept.

Either side failing stops both: a reader error (a malformed file) reaches the
importer after the batches read before it, in file order; an importer error (the
database) cancels the reader. No task outlives `import_file`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import asyncpg

from billing_adapter.service_layer.bulk_import import (
    BatchResult,
    Incoming,
    Kind,
    Rejection,
    SourceRow,
    Tally,
    entity_kind,
    import_batch,
)

OnBatch = Callable[[BatchResult], Awaitable[None]]
BATCH_SIZE = 2000
AHEAD = 2
"""Batches read ahead of the one being imported: enough to fill every wait on PostgreSQL,
few enough to keep memory flat."""
_YIELD_EVERY = 200
"""Rows the reader parses between chances for the importer to take a reply from PostgreSQL."""


@dataclass
class _Pending:
    rows: list[Incoming] = field(default_factory=list)
    unreadable: list[Rejection] = field(default_factory=list)
    read: int = 0

    def add(self, source: SourceRow) -> None:
        self.read += 1
        if source.value is None:
            self.unreadable.extend(source.errors)
        else:
            self.rows.append(source.value)


_Next = _Pending | Exception | None
"""What the reader hands on: a batch, the error that stopped it, or None at the end."""


async def import_file(
    pool: asyncpg.Pool,
    kind: Kind,
    rows: Iterable[SourceRow],
    *,
    on_batch: OnBatch,
    batch_size: int = BATCH_SIZE,
    correlation_id: str | None = None,
    actor: str | None = None,
) -> Tally:
    """Import every row; returns the totals. `on_batch` sees each batch's counts and rejections."""
    total = Tally()
    batches: asyncio.Queue[_Next] = asyncio.Queue(maxsize=AHEAD)
    reader = asyncio.create_task(_read(rows, batch_size, batches), name="import-reader")
    try:
        while (batch := await batches.get()) is not None:
            if isinstance(batch, Exception):
                raise batch
            result = await _import(pool, kind, batch, correlation_id, actor)
            total.add(result.tally)
            await on_batch(result)
    finally:
        reader.cancel()
        await asyncio.wait([reader])  # gone before we return or raise; wait never raises its error
    return total


async def _read(rows: Iterable[SourceRow], batch_size: int, batches: asyncio.Queue[_Next]) -> None:
    """Parse `rows` into batches; an error is handed on in its place, for the importer to raise."""
    try:
        pending = _Pending()
        for source in rows:
            pending.add(source)
            if pending.read % _YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let the importer take its next round trip
            if pending.read >= batch_size:
                await batches.put(pending)
                pending = _Pending()
        if pending.read:
            await batches.put(pending)
        await batches.put(None)
    except Exception as exc:  # raised again by import_file, with its traceback
        await batches.put(exc)


async def _import(
    pool: asyncpg.Pool, kind: Kind, batch: _Pending, correlation_id: str | None, actor: str | None
) -> BatchResult:
    """One batch decided and saved; the rows it could not read join its rejections in order."""
    if batch.rows:
        async with pool.acquire() as conn:
            result = await import_batch(
                conn, entity_kind(kind), batch.rows, correlation_id=correlation_id, actor=actor
            )
    else:
        result = BatchResult()
    result.tally.read = batch.read
    result.tally.rejected += len({r.row for r in batch.unreadable})
    result.rejections = sorted([*batch.unreadable, *result.rejections], key=lambda r: r.row)
    return result
