"""A consumer process that dies once in the middle of a batch, for the fault tests only.

`python -m crash_mid_batch --crash-marker PATH [--positions-first] <consumer CLI options>`
runs the platform's consumer CLI with a runner that exits (code 86) just before it
applies the first `InvoiceIssued` after a few events, once: the marker file says it
already did, so the restarted process runs normally. That is the "member killed
mid-batch" fault at the one moment that matters, instead of wherever a SIGKILL lands.

`--positions-first` takes away the mechanism that makes such a crash harmless: the
batch's positions, claims and read-model writes in one transaction. Each statement then
commits on its own, so the positions (stored first in a batch) are in the database
before the events they cover are applied, as in a consumer that commits its offsets
before processing. The fault tests run both ways: the check from billing's event store
must pass with the mechanism and catch the lost invoice without it. Only this module
knows the switch; the platform has no setting for it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import asyncpg

from receivables_platform.consumer import cli
from receivables_platform.consumer.faults import FAULT_EXIT_CODE
from receivables_platform.consumer.runner import ConsumerRunner, Handler
from receivables_platform.contracts.billing import InvoiceIssued
from receivables_platform.envelope import CloudEvent

APPLIED_BEFORE_CRASH = 10
"""Events applied before the crash may come: the load is running by then."""


class _EachStatementCommits:
    """A pool whose connections ignore `transaction()`: every statement commits alone."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        async with self._pool.acquire() as conn:
            yield _NoTransaction(conn)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


class _NoTransaction:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    def transaction(self, **_: Any) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def crashing_runner(marker: Path, positions_first: bool) -> type[ConsumerRunner]:
    class CrashMidBatch(ConsumerRunner):
        def __init__(self, pool: asyncpg.Pool, *args: Any, handler: Handler, **kwargs: Any) -> None:
            if positions_first:
                pool = cast(asyncpg.Pool, _EachStatementCommits(pool))
            super().__init__(pool, *args, handler=self._crashing(handler), **kwargs)

        @staticmethod
        def _crashing(handler: Handler) -> Handler:
            applied = 0

            async def apply(conn: asyncpg.Connection, event: CloudEvent) -> None:
                nonlocal applied
                if (
                    applied >= APPLIED_BEFORE_CRASH
                    and event.type == InvoiceIssued.event_type
                    and not marker.exists()
                ):
                    marker.write_text(event.id)
                    print(f"crash_mid_batch: exit before applying {event.id}", flush=True)
                    os._exit(FAULT_EXIT_CODE)
                await handler(conn, event)
                applied += 1

            return apply

    return CrashMidBatch


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--crash-marker", type=Path, required=True)
    parser.add_argument("--positions-first", action="store_true")
    ours, rest = parser.parse_known_args(argv)
    # the CLI builds its runner from this module global: the one seam a test needs
    cli.ConsumerRunner = crashing_runner(ours.crash_marker, ours.positions_first)
    cli.app(rest, prog_name="crash_mid_batch")


if __name__ == "__main__":
    main(sys.argv[1:])
