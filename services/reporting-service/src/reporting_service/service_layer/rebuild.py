"""Rebuilding a projection from its topic into new tables while the live ones keep serving.

The topics keep every event (unlimited retention), so a projection can always
be built again: into new tables beside the live ones (`shadow_tables`), by a
consumer group of its own reading the topic from the earliest offset. The API
and the projection's own consumers go on with the live tables meanwhile. Once
the new tables hold everything the topic held when the rebuild began, and at
least what the live consumers have applied since, one transaction swaps them
in and hands the live consumer group the rebuild's positions and processed
event ids: a live consumer still holding older positions reads those events
again and skips them as duplicates. If the live consumers keep moving ahead,
the rebuild catches up again and retries; a failed rebuild leaves the live
tables as they were and removes what it made.

One process decodes and applies about ten thousand events a second; a
rebuild with `workers` > 1 runs that many processes (`rebuild_workers`), a
worker per partition at most. They write the same new tables, each its own
partitions' positions and processed ids, and the swap waits until all of them
are done. This module orchestrates; the shadow tables, the groups' positions
and the workers are each their own module.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import uuid4

import asyncpg
import structlog

from receivables_platform.db.pool import create_pool
from receivables_platform.settings import KafkaSettings
from reporting_service.adapters import consumer_groups as groups
from reporting_service.adapters import shadow_tables
from reporting_service.adapters.consumer_groups import Positions
from reporting_service.consumers.projections import PROJECTIONS, Projection
from reporting_service.service_layer.rebuild_workers import (
    Build,
    RebuildFailed,
    building,
    collect_for_rebuilding,
    surface_failure,
)

__all__ = [
    "Build",
    "Progress",
    "RebuildFailed",
    "collect_for_rebuilding",
    "rebuild",
    "reset_projection",
]

log = structlog.get_logger("reporting_service.rebuild")

Report = Callable[["Progress"], Awaitable[None] | None]


@dataclass(frozen=True)
class Progress:
    projection: str
    applied: int  # records read past, of
    total: int  # the records the topic held when the rebuild began
    seconds: float
    swapped: bool = False

    @property
    def per_second(self) -> float:
        return self.applied / self.seconds if self.seconds > 0 else 0.0


async def reset_projection(conn: asyncpg.Connection, projection: Projection, group: str) -> None:
    """Forget a projection in place: its rows, its group's positions and processed ids."""
    async with conn.transaction():
        await groups.run_statements(conn, projection.reset_sql)
        await groups.forget(conn, group)


async def rebuild(
    database_url: str,
    kafka: KafkaSettings,
    projection: Projection,
    group: str,
    report: Report,
    *,
    interval: float = 1.0,
    workers: int = 1,
    session_timeout_ms: int = 10_000,
    swap_attempts: int = 20,
) -> Progress:
    """Build `projection` again and swap it in; `workers` > 1 reads in that many processes.

    Worker processes find the projection's handler by name in PROJECTIONS
    (a handler cannot be sent to another process), so only the service's own
    projections, possibly on another topic, can be rebuilt by more than one worker.
    """
    build = Build(projection, group, uuid4().hex[:10])
    ends = await groups.topic_ends(kafka, projection.topic)
    workers = max(1, min(workers, len(ends)))
    if (
        workers > 1
        and PROJECTIONS.get(projection.name, projection).handler is not projection.handler
    ):
        raise ValueError(f"{projection.name}: worker processes only run PROJECTIONS' handlers")
    admin = await create_pool(database_url, min_size=1, max_size=2)
    swapped = False
    try:
        async with admin.acquire() as conn:
            await shadow_tables.prepare(
                conn, build.schema, projection.tables, [table for table, _ in projection.shared]
            )
        started = time.monotonic()
        async with building(database_url, kafka, build, session_timeout_ms, workers) as runner:
            progress = await _catch_up(admin, build, ends, runner, report, started, interval)
        for _ in range(swap_attempts):
            if await _swap(admin, build):
                swapped = True
                break
            async with building(database_url, kafka, build, session_timeout_ms, workers) as runner:
                await _overtake(admin, build, runner, interval)
        if not swapped:
            raise RebuildFailed(
                f"the live consumers of {projection.name} stayed ahead of the "
                f"rebuild for {swap_attempts} attempts"
            )
        done = Progress(
            projection.name,
            progress.applied,
            progress.total,
            time.monotonic() - started,
            swapped=True,
        )
        await _tell(report, done)
        return done
    finally:
        if not swapped:
            async with admin.acquire() as conn:
                await shadow_tables.drop(conn, build.schema)
                await groups.forget(conn, build.builder_group)
        await admin.close()


async def _catch_up(
    admin: asyncpg.Pool,
    build: Build,
    ends: Positions,
    runner: asyncio.Task[None],
    report: Report,
    started: float,
    interval: float,
) -> Progress:
    total = sum(ends.values())
    while True:
        positions = await groups.positions(admin, build.builder_group)
        applied = sum(min(positions.get(tp, 0), end) for tp, end in ends.items())
        progress = Progress(build.projection.name, applied, total, time.monotonic() - started)
        await _tell(report, progress)
        if applied >= total:
            return progress
        surface_failure(runner)
        await asyncio.sleep(interval)


async def _overtake(
    admin: asyncpg.Pool, build: Build, runner: asyncio.Task[None], interval: float
) -> None:
    """Run the rebuild's consumer until it is at or past the live consumers everywhere."""
    while not groups.at_or_past(
        await groups.positions(admin, build.builder_group),
        await groups.positions(admin, build.group),
    ):
        surface_failure(runner)
        await asyncio.sleep(interval)


async def _swap(admin: asyncpg.Pool, build: Build) -> bool:
    """One try: lock the live group's positions and the live tables, swap if not behind.
    A deadlock or lock wait that still ends the try is only busy."""
    async with admin.acquire() as conn:
        try:
            async with conn.transaction():
                await groups.lock_for_swap(conn, build.group, build.tables)
                built = await groups.positions(conn, build.builder_group)
                live = await groups.positions(conn, build.group)
                if not groups.at_or_past(built, live):
                    log.info("rebuild.behind_live", projection=build.projection.name)
                    return False
                await shadow_tables.swap(
                    conn,
                    build.schema,
                    build.retired,
                    build.projection.tables,
                    build.projection.shared,
                )
                await groups.run_statements(
                    conn, build.projection.after_swap, retired=f'"{build.retired}"'
                )
                await shadow_tables.drop(conn, build.retired, build.schema)
                await groups.hand_over(conn, build.builder_group, build.group)
        except (asyncpg.LockNotAvailableError, asyncpg.TransactionRollbackError) as exc:
            log.info(
                "rebuild.swap_lock_busy", projection=build.projection.name, error=type(exc).__name__
            )
            return False
    log.info("rebuild.swapped", projection=build.projection.name)
    return True


async def _tell(report: Report, progress: Progress) -> None:
    """`report` may be a plain function (the CLI prints) or a coroutine function."""
    told = report(progress)
    if told is not None:
        await told
