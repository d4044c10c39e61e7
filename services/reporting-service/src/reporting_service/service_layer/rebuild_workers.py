"""The processes and consumers that read a topic into a rebuild's new tables.

A rebuild's consumer writes the new tables (its sessions look in their schema
first) with the projection's unchanged handler. With `workers` > 1 the reading
runs in that many processes, each a member of the rebuild's consumer group, so
the broker shares the topic's partitions among them. A worker is a fresh
interpreter running this module (it imports only what it needs, not its
parent's main module), told what to do on its standard input, and collects
garbage the way bulk work should (`collect_for_rebuilding`). It stops on
SIGTERM or when its input ends, however its parent ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, replace

from receivables_platform import event_loop
from receivables_platform.consumer import ConsumerRunner, handled_types
from receivables_platform.db.pool import create_pool
from receivables_platform.heap import collect_for_bulk_work
from receivables_platform.settings import KafkaSettings
from reporting_service.consumers.projections import PROJECTIONS, Projection

# A rebuild reads a backlog, not a trickle: fewer, larger transactions (each set-based
# statement of a bulk handler covers more events) and fetches that bring a batch's worth.
REBUILD_BATCH = 5_000
REBUILD_FETCH = {"max_partition_fetch_bytes": 8 * 1024 * 1024, "fetch_max_bytes": 64 * 1024 * 1024}
# a worker told to stop leaves its group cleanly within this; then it is killed
WORKER_STOP_SECONDS = 10.0
# A batch keeps a few hundred thousand objects alive until it commits; collecting every
# 50,000 allocations (`collect_for_bulk_work`'s default) walked them again and again:
# 43 -> 33 us an event.
REBUILD_YOUNG_COLLECTION_EVERY = 500_000


def collect_for_rebuilding() -> None:
    """Garbage collection for a process that rebuilds: call once, after start-up."""
    collect_for_bulk_work(young_every=REBUILD_YOUNG_COLLECTION_EVERY)


class RebuildFailed(Exception):
    """The new tables could not be swapped in; the live ones are as they were."""


@dataclass(frozen=True)
class Build:
    """One rebuild of a projection: the schema it builds in, the group it reads as."""

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


@asynccontextmanager
async def building(
    database_url: str, kafka: KafkaSettings, build: Build, session_timeout_ms: int, workers: int
) -> AsyncIterator[asyncio.Task[None]]:
    """The rebuild's consumers, here or in `workers` processes; the task ends if one fails."""
    if workers == 1:
        async with consuming(database_url, kafka, build, session_timeout_ms) as task:
            yield task
        return
    order = _WorkOrder(
        database_url,
        kafka.model_dump_json(),
        build.projection.name,
        build.projection.topic,
        build.group,
        build.stamp,
        session_timeout_ms,
    )
    processes: list[asyncio.subprocess.Process] = []
    try:
        for _ in range(workers):
            processes.append(await _start_worker(order))
        task = asyncio.create_task(_first_exit(processes), name=f"rebuild-{build.projection.name}")
        try:
            yield task
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        await asyncio.gather(*(_stop(process) for process in processes))


@asynccontextmanager
async def consuming(
    database_url: str, kafka: KafkaSettings, build: Build, session_timeout_ms: int
) -> AsyncIterator[asyncio.Task[None]]:
    """A consumer of the rebuild's group, writing the new tables: its sessions look there first."""
    pool = await create_pool(
        database_url, max_size=4, server_settings={"search_path": f'"{build.schema}", public'}
    )
    # The projection's handler decodes (and upcasts) every event it projects, so the runner
    # does not decode them beforehand only to copy each payload into its newest shape.
    runner = ConsumerRunner(
        pool,
        kafka,
        group_id=build.builder_group,
        topics=[build.projection.topic],
        handler=build.projection.handler,
        event_types=handled_types(build.projection.handler),
        validate_contracts=False,
        max_batch=REBUILD_BATCH,
        consumer_options=REBUILD_FETCH,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=max(session_timeout_ms // 3, 100),
    )
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
        sys.executable, "-m", __name__, stdin=asyncio.subprocess.PIPE
    )
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
    build = Build(
        replace(PROJECTIONS[order.projection], topic=order.topic), order.group, order.stamp
    )
    kafka = KafkaSettings.model_validate_json(order.kafka)
    event_loop.run(_work_until_stopped(order.database_url, kafka, build, order.session_timeout_ms))


async def _work_until_stopped(
    database_url: str, kafka: KafkaSettings, build: Build, session_timeout_ms: int
) -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    threading.Thread(target=_wait_for_end_of_input, args=(loop, stopped), daemon=True).start()
    async with consuming(database_url, kafka, build, session_timeout_ms) as runner:
        told = asyncio.create_task(stopped.wait())
        await asyncio.wait([runner, told], return_when=asyncio.FIRST_COMPLETED)
        told.cancel()
        surface_failure(runner)


def surface_failure(runner: asyncio.Task[None]) -> None:
    if runner.done() and not runner.cancelled():
        runner.result()  # the runner only ends by failing: surface why
        raise RebuildFailed("the rebuild's consumer stopped")


def _wait_for_end_of_input(loop: asyncio.AbstractEventLoop, stopped: asyncio.Event) -> None:
    """The parent closes a worker's input to stop it, and so does its end, however it ends."""
    sys.stdin.read()
    with contextlib.suppress(RuntimeError):  # the loop already ended: nothing left to stop
        loop.call_soon_threadsafe(stopped.set)


if __name__ == "__main__":
    _work()
