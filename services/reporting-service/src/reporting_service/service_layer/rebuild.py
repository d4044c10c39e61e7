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
rebuild with `workers` > 1 runs that many processes, each a member of the
rebuild's consumer group, so the broker shares the topic's partitions among
them (a worker per partition at most). They write the same new tables, each
its own partitions' positions and processed ids, and the swap waits until all
of them are done. A worker is a fresh interpreter running this module (it
imports only what it needs, not its parent's main module), told what to do
on its standard input, and collects garbage the way bulk work should
(`collect_for_rebuilding`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, replace
from uuid import uuid4

import asyncpg
import structlog
from aiokafka import TopicPartition

from receivables_platform.bulk_gc import collect_for_bulk_work
from receivables_platform.consumer import ConsumerRunner
from receivables_platform.db.pool import create_pool
from receivables_platform.kafka.end_offsets import EndOffsets
from receivables_platform.kafka.topics import ensure_topics
from receivables_platform.settings import KafkaSettings
from reporting_service.adapters import shadow_tables
from reporting_service.consumers.projections import PROJECTIONS, Projection

log = structlog.get_logger("reporting_service.rebuild")

# A rebuild reads a backlog, not a trickle: fewer, larger transactions (each set-based
# statement of a bulk handler covers more events) and fetches that bring a batch's worth.
REBUILD_BATCH = 5_000
REBUILD_FETCH = {"max_partition_fetch_bytes": 8 * 1024 * 1024, "fetch_max_bytes": 64 * 1024 * 1024}
# a worker told to stop leaves its group cleanly within this; then it is killed
WORKER_STOP_SECONDS = 10.0
# A batch keeps a few hundred thousand objects alive until it commits; collecting every
# 50,000 allocations (bulk_gc's default) walked them again and again: 43 -> 33 us an event.
REBUILD_YOUNG_COLLECTION_EVERY = 500_000


def collect_for_rebuilding() -> None:
    """Garbage collection for a process that rebuilds: call once, after start-up."""
    collect_for_bulk_work(young_every=REBUILD_YOUNG_COLLECTION_EVERY)

Positions = dict[TopicPartition, int]
Report = Callable[["Progress"], Awaitable[None] | None]


class RebuildFailed(Exception):
    """The new tables could not be swapped in; the live ones are as they were."""


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


@dataclass(frozen=True)
class _Build:
    projection: Projection
    group: str  # the live consumer group
    stamp: str

    @property
    def schema(self) -> str:
        return f"rebuild_{self.projection.name}_{self.stamp}"

    @property
    def retired(self) -> str:
        return f"retired_{self.projection.name}_{self.stamp}"

    @property
    def builder_group(self) -> str:
        return f"{self.group}.rebuild-{self.stamp}"

    @property
    def tables(self) -> list[str]:
        return [*self.projection.tables, *(table for table, _ in self.projection.shared)]


async def reset_projection(conn: asyncpg.Connection, projection: Projection, group: str) -> None:
    """Forget a projection in place: its rows, its group's positions and processed ids."""
    async with conn.transaction():
        for statement in projection.reset_sql:
            await conn.execute(statement)
        await _forget_group(conn, group)


async def rebuild(database_url: str, kafka: KafkaSettings, projection: Projection, group: str,
                  report: Report, *, interval: float = 1.0, workers: int = 1,
                  session_timeout_ms: int = 10_000, swap_attempts: int = 20) -> Progress:
    """Build `projection` again and swap it in; `workers` > 1 reads in that many processes.

    Worker processes find the projection's handler by name in PROJECTIONS
    (a handler cannot be sent to another process), so only the service's own
    projections, possibly on another topic, can be rebuilt by more than one worker.
    """
    build = _Build(projection, group, uuid4().hex[:10])
    ends = await _ends(kafka, projection.topic)
    workers = max(1, min(workers, len(ends)))
    if workers > 1 and PROJECTIONS.get(projection.name, projection).handler \
            is not projection.handler:
        raise ValueError(f"{projection.name}: worker processes only run PROJECTIONS' handlers")
    admin = await create_pool(database_url, min_size=1, max_size=2)
    swapped = False
    try:
        async with admin.acquire() as conn:
            await shadow_tables.prepare(conn, build.schema, projection.tables,
                                        [table for table, _ in projection.shared])
        started = time.monotonic()
        async with _building(database_url, kafka, build, session_timeout_ms,
                             workers) as runner:
            progress = await _catch_up(admin, build, ends, runner, report, started, interval)
        for _ in range(swap_attempts):
            if await _swap(admin, build):
                swapped = True
                break
            async with _building(database_url, kafka, build, session_timeout_ms,
                                 workers) as runner:
                await _overtake(admin, build, runner, interval)
        if not swapped:
            raise RebuildFailed(f"the live consumers of {projection.name} stayed ahead of the "
                                f"rebuild for {swap_attempts} attempts")
        done = Progress(projection.name, progress.applied, progress.total,
                        time.monotonic() - started, swapped=True)
        await _tell(report, done)
        return done
    finally:
        if not swapped:
            async with admin.acquire() as conn:
                await shadow_tables.drop(conn, build.schema)
                await _forget_group(conn, build.builder_group)
        await admin.close()


@asynccontextmanager
async def _building(database_url: str, kafka: KafkaSettings, build: _Build,
                    session_timeout_ms: int, workers: int) -> AsyncIterator[asyncio.Task[None]]:
    """The rebuild's consumers, here or in `workers` processes; the task ends if one fails."""
    if workers == 1:
        async with _consuming(database_url, kafka, build, session_timeout_ms) as task:
            yield task
        return
    order = _WorkOrder(database_url, kafka.model_dump_json(), build.projection.name,
                       build.projection.topic, build.group, build.stamp, session_timeout_ms)
    processes: list[asyncio.subprocess.Process] = []
    try:
        for _ in range(workers):
            processes.append(await _start_worker(order))
        task = asyncio.create_task(_first_exit(processes),
                                   name=f"rebuild-{build.projection.name}")
        try:
            yield task
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        await asyncio.gather(*(_stop(process) for process in processes))


@asynccontextmanager
async def _consuming(database_url: str, kafka: KafkaSettings, build: _Build,
                     session_timeout_ms: int) -> AsyncIterator[asyncio.Task[None]]:
    """A consumer of the rebuild's group, writing the new tables: its sessions look there first."""
    pool = await create_pool(database_url, max_size=4, server_settings={
        "search_path": f'"{build.schema}", public'})
    # The projection's handler decodes (and upcasts) every event it projects, so the runner
    # does not decode them beforehand only to copy each payload into its newest shape.
    runner = ConsumerRunner(pool, kafka, group_id=build.builder_group,
                            topics=[build.projection.topic], handler=build.projection.handler,
                            validate_contracts=False,
                            max_batch=REBUILD_BATCH, consumer_options=REBUILD_FETCH,
                            session_timeout_ms=session_timeout_ms,
                            heartbeat_interval_ms=max(session_timeout_ms // 3, 100))
    task = asyncio.create_task(runner.run(), name=f"rebuild-{build.projection.name}")
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pool.close()


@dataclass(frozen=True)
class _WorkOrder:
    """What a worker process needs, sent on its standard input (the URL may hold a password)."""

    database_url: str
    kafka: str  # KafkaSettings as JSON
    projection: str  # a name in PROJECTIONS: a handler cannot be sent
    topic: str
    group: str
    stamp: str
    session_timeout_ms: int


async def _start_worker(order: _WorkOrder) -> asyncio.subprocess.Process:
    """A fresh interpreter running this module: it imports only what a worker needs.

    Its standard input stays open after the order: a worker whose parent is
    gone (killed before it could stop them) sees it end and stops too.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", __name__, stdin=asyncio.subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(json.dumps(asdict(order)).encode() + b"\n")
    await process.stdin.drain()
    return process


async def _first_exit(processes: Sequence[asyncio.subprocess.Process]) -> None:
    """Ends (failing) when any worker process does: they only end when told to."""
    waits = {asyncio.create_task(process.wait()): process for process in processes}
    try:
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    ended = waits[done.pop()]
    raise RebuildFailed(f"rebuild worker {ended.pid} exited with {ended.returncode}")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.stdin is not None:
        process.stdin.close()
    if process.returncode is None:
        process.terminate()  # SIGTERM: the worker leaves its group cleanly
    try:
        async with asyncio.timeout(WORKER_STOP_SECONDS):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()


def _work() -> None:
    """A worker process: consumes for the rebuild until SIGTERM or the end of its input,
    then leaves the group."""
    order = _WorkOrder(**json.loads(sys.stdin.readline()))
    collect_for_rebuilding()
    build = _Build(replace(PROJECTIONS[order.projection], topic=order.topic), order.group,
                   order.stamp)
    kafka = KafkaSettings.model_validate_json(order.kafka)
    asyncio.run(_work_until_stopped(order.database_url, kafka, build, order.session_timeout_ms))


async def _work_until_stopped(database_url: str, kafka: KafkaSettings, build: _Build,
                              session_timeout_ms: int) -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    threading.Thread(target=_wait_for_end_of_input, args=(loop, stopped), daemon=True).start()
    async with _consuming(database_url, kafka, build, session_timeout_ms) as runner:
        told = asyncio.create_task(stopped.wait())
        await asyncio.wait([runner, told], return_when=asyncio.FIRST_COMPLETED)
        told.cancel()
        _surface_failure(runner)


async def _catch_up(admin: asyncpg.Pool, build: _Build, ends: Positions,
                    runner: asyncio.Task[None], report: Report, started: float,
                    interval: float) -> Progress:
    total = sum(ends.values())
    while True:
        positions = await _positions(admin, build.builder_group)
        applied = sum(min(positions.get(tp, 0), end) for tp, end in ends.items())
        progress = Progress(build.projection.name, applied, total, time.monotonic() - started)
        await _tell(report, progress)
        if applied >= total:
            return progress
        _surface_failure(runner)
        await asyncio.sleep(interval)


async def _overtake(admin: asyncpg.Pool, build: _Build, runner: asyncio.Task[None],
                    interval: float) -> None:
    """Run the rebuild's consumer until it is at or past the live consumers everywhere."""
    while not _at_or_past(await _positions(admin, build.builder_group),
                          await _positions(admin, build.group)):
        _surface_failure(runner)
        await asyncio.sleep(interval)


async def _swap(admin: asyncpg.Pool, build: _Build) -> bool:
    """One try: lock the live group's positions and the live tables, swap if not behind.

    Positions first, as a live consumer's batch takes them (its first statement moves
    them) before it writes the tables: the other order deadlocks with a batch caught
    between the two. A deadlock or lock wait that still ends the try is only busy."""
    async with admin.acquire() as conn:
        try:
            async with conn.transaction():
                await conn.execute("SET LOCAL lock_timeout = '10s'")
                await conn.execute("SELECT 1 FROM consumer_offsets WHERE consumer_group = $1 "
                                   "FOR UPDATE", build.group)
                await conn.execute(f"LOCK TABLE {', '.join(f'public.{t}' for t in build.tables)} "
                                   "IN ACCESS EXCLUSIVE MODE")
                built = await _positions(conn, build.builder_group)
                live = await _positions(conn, build.group)
                if not _at_or_past(built, live):
                    log.info("rebuild.behind_live", projection=build.projection.name)
                    return False
                await shadow_tables.swap(conn, build.schema, build.retired,
                                         build.projection.tables, build.projection.shared)
                for statement in build.projection.after_swap:
                    await conn.execute(statement.format(retired=f'"{build.retired}"'))
                await shadow_tables.drop(conn, build.retired, build.schema)
                await _hand_over(conn, build.builder_group, build.group)
        except (asyncpg.LockNotAvailableError, asyncpg.TransactionRollbackError) as exc:
            log.info("rebuild.swap_lock_busy", projection=build.projection.name,
                     error=type(exc).__name__)
            return False
    log.info("rebuild.swapped", projection=build.projection.name)
    return True


async def _hand_over(conn: asyncpg.Connection, builder: str, group: str) -> None:
    """The live group takes the rebuild's positions and processed ids as its own."""
    await _forget_group(conn, group)
    await conn.execute("UPDATE consumer_offsets SET consumer_group = $1 "
                       "WHERE consumer_group = $2", group, builder)
    await conn.execute("UPDATE processed_events SET consumer_group = $1 "
                       "WHERE consumer_group = $2", group, builder)


async def _forget_group(conn: asyncpg.Connection, group: str) -> None:
    await conn.execute("DELETE FROM consumer_offsets WHERE consumer_group = $1", group)
    await conn.execute("DELETE FROM processed_events WHERE consumer_group = $1", group)


async def _tell(report: Report, progress: Progress) -> None:
    """`report` may be a plain function (the CLI prints) or a coroutine function."""
    told = report(progress)
    if told is not None:
        await told


def _at_or_past(built: Mapping[TopicPartition, int], live: Mapping[TopicPartition, int]) -> bool:
    return all(built.get(tp, 0) >= offset for tp, offset in live.items())


def _surface_failure(runner: asyncio.Task[None]) -> None:
    if runner.done() and not runner.cancelled():
        runner.result()  # the runner only ends by failing: surface why
        raise RebuildFailed("the rebuild's consumer stopped")


async def _positions(db: asyncpg.Pool | asyncpg.Connection, group: str) -> Positions:
    rows = await db.fetch("SELECT topic, partition, next_offset FROM consumer_offsets "
                          "WHERE consumer_group = $1", group)
    return {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def _ends(kafka: KafkaSettings, topic: str) -> Positions:
    await ensure_topics(kafka, [topic])
    client = EndOffsets(kafka, timeout=10.0)
    try:
        return await client.ends(await client.partitions([topic]))
    finally:
        await client.close()


def _wait_for_end_of_input(loop: asyncio.AbstractEventLoop, stopped: asyncio.Event) -> None:
    """The parent closes a worker's input to stop it, and so does its end, however it ends."""
    sys.stdin.read()
    with contextlib.suppress(RuntimeError):  # the loop already ended: nothing left to stop
        loop.call_soon_threadsafe(stopped.set)


if __name__ == "__main__":
    _work()
