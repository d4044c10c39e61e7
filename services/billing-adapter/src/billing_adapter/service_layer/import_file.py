"""Import a whole file: read rows, decide them in batches, report after each batch.

One batch is in the database while the next is read and validated, so the
Python work and PostgreSQL's overlap on two cores. Batches run one after the
other (a later batch sees what an earlier one created: a file may name the
same external id twice). Memory holds at most two batches, whatever the size
of the file; rejected rows go to `on_batch` and are not kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import asyncpg

from billing_adapter.adapters.import_files import Kind, SourceRow, entity_kind, incoming
from billing_adapter.service_layer.bulk_import import (
    BatchResult,
    Incoming,
    Rejection,
    Tally,
    import_batch,
)

OnBatch = Callable[[BatchResult], Awaitable[None]]
BATCH_SIZE = 2000
_YIELD_EVERY = 200


@dataclass
class _Pending:
    rows: list[Incoming] = field(default_factory=list)
    unreadable: list[Rejection] = field(default_factory=list)
    read: int = 0


async def import_file(pool: asyncpg.Pool, kind: Kind, rows: Iterable[SourceRow], *,
                      on_batch: OnBatch, batch_size: int = BATCH_SIZE,
                      correlation_id: str | None = None) -> Tally:
    """Import every row; returns the totals. `on_batch` sees each batch's counts and rejections."""
    total = Tally()
    in_flight: asyncio.Task[BatchResult] | None = None
    pending = _Pending()

    async def finish(task: asyncio.Task[BatchResult] | None) -> None:
        if task is not None:
            result = await task
            total.add(result.tally)
            await on_batch(result)

    async def run(batch: _Pending) -> BatchResult:
        if batch.rows:
            async with pool.acquire() as conn:
                result = await import_batch(conn, entity_kind(kind), batch.rows,
                                            correlation_id=correlation_id)
        else:
            result = BatchResult()
        result.tally.read = batch.read
        result.tally.rejected += len({r.row for r in batch.unreadable})
        result.rejections = sorted([*batch.unreadable, *result.rejections], key=lambda r: r.row)
        return result

    try:
        for source in rows:
            pending.read += 1
            if source.value is None:
                pending.unreadable.extend(source.errors)
            else:
                pending.rows.append(incoming(source))
            if pending.read % _YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let the batch in flight take its next round trip
            if pending.read >= batch_size:
                await finish(in_flight)
                in_flight, pending = asyncio.create_task(run(pending)), _Pending()
        await finish(in_flight)
        in_flight = None
        if pending.read:
            await finish(asyncio.create_task(run(pending)))
    finally:
        if in_flight is not None and not in_flight.done():
            in_flight.cancel()
    return total
