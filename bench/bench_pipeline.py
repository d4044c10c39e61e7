"""Pipeline benchmark: append -> event store -> outbox relay -> broker -> consumer -> read model.

Single-event commands are appended by concurrent writers in this process; the
relay and the consumer run as their own processes, exactly as deployed. Two
runs: at saturation (events/s end to end), and at a fixed rate (append-to-
visible latency p50/p99, from the event's recorded_at to the read-model commit,
both in the database clock, and where it goes: to the relay's mark, then to the read
model). The read model takes a poll's events in one statement, as reporting's projection
of issued invoices does (`--read-model one-by-one`: a statement an event, the benchmark's
read model until 2026-12-07, which made the consumer what saturation measured).

    make bench            # or: .venv/bin/python bench/bench_pipeline.py --help
Uses DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS when set, else embedded servers. Both
brokers in one run by default (`--brokers tansu,kafka`: Tansu and Apache Kafka
from `make kafka`), one after the other on the same machine, then side by side:
figures from two separate runs on a shared machine would not compare.

To compare two versions of the platform code, alternate runs of this checkout with runs
of the other's: `PYTHONPATH=<other checkout>/shared/src .venv/bin/python
<other checkout>/bench/bench_pipeline.py` (the relay and consumer processes inherit it).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from uuid import uuid4

import asyncpg
import psutil
from process_cpu import CpuMeter, machine_speed, postmaster, process_tree, the_process

from receivables_devkit.infra.embedded_postgres import ensure_database
from receivables_devkit.infra.servers import add_database_transport, servers
from receivables_platform import event_loop
from receivables_platform.contracts.billing import InvoiceIssued
from receivables_platform.db.migrate import upgrade_async
from receivables_platform.db.pool import create_pool
from receivables_platform.ids import new_id
from receivables_platform.store import EventStore

HERE = Path(__file__).parent
# the consumer's handler (pipeline_handlers) for each --read-model
READ_MODELS = {"batched": "record_visibility", "one-by-one": "record_visibility_one_by_one"}
VERSIONS = HERE.parent / "shared" / "tests" / "migrations" / "versions"


@contextmanager
def infrastructure(broker: str, over_socket: bool) -> Iterator[tuple[str, str]]:
    os.environ["BROKER"] = broker  # what `servers()` starts when no bootstrap is given
    with (
        tempfile.TemporaryDirectory(prefix="rx-bench-") as tmp,
        servers(Path(tmp), over_socket=over_socket) as found,
    ):
        yield found


async def fresh_database(server_url: str) -> str:
    url = await ensure_database(server_url, f"bench_{new_id().hex[:12]}")
    await upgrade_async(url, VERSIONS)
    conn = await asyncpg.connect(url)
    from pipeline_handlers import CREATE

    await conn.execute(CREATE)
    await conn.close()
    return url


def start_workers(
    db: str, bootstrap: str, topic: str, handler: str
) -> list[subprocess.Popen[bytes]]:
    # the caller's PYTHONPATH kept: it is how another checkout's platform code is measured
    path = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "LOG_LEVEL": "WARNING"}
    python = sys.executable
    relay = subprocess.Popen(
        [
            python,
            "-m",
            "receivables_platform.relay",
            "--database-url",
            db,
            "--bootstrap-servers",
            bootstrap,
            "--service",
            "bench",
            "--topic",
            topic,
            "--poll-interval",
            "0.5",
        ],
        env=env,
    )
    consumer = subprocess.Popen(
        [
            python,
            "-m",
            "receivables_platform.consumer",
            "--database-url",
            db,
            "--bootstrap-servers",
            bootstrap,
            "--group",
            f"bench-{topic}",
            "--topic",
            topic,
            "--handler",
            f"pipeline_handlers:{handler}",
            "--session-timeout-ms",
            "6000",
            "--heartbeat-interval-ms",
            "1000",
        ],
        env=env,
    )
    return [relay, consumer]


WARM_UP_RATE = 200.0  # events/s for a second before each measured run


def invoice() -> InvoiceIssued:
    account = uuid4()
    return InvoiceIssued(
        invoice_id=uuid4(),
        account_id=account,
        external_id="B-1",
        currency="USD",
        total_minor=1000,
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
    )


async def append_one(pool: asyncpg.Pool, store: EventStore) -> None:
    event = invoice()
    await store.append_one(
        pool, f"invoice-{event.invoice_id}", 0, event, subject=str(event.account_id)
    )


async def saturate(pool: asyncpg.Pool, store: EventStore, count: int, writers: int) -> float:
    remaining = count

    async def writer() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await append_one(pool, store)

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    return time.perf_counter() - started


async def at_rate(pool: asyncpg.Pool, store: EventStore, rate: float, seconds: float) -> int:
    """Open loop: commands start on schedule whether or not earlier ones finished."""
    total = int(rate * seconds)
    started = time.perf_counter()
    # only the commands in flight are held: a list of every task ever started grew the
    # heap each full garbage collection walks, and stalled this process's appends for
    # up to 0.1 s, the benchmark's own artefact in the latency's tail
    in_flight: set[asyncio.Task[None]] = set()
    failed: list[BaseException] = []

    def settled(task: asyncio.Task[None]) -> None:
        in_flight.discard(task)
        error = None if task.cancelled() else task.exception()
        if error is not None:
            failed.append(error)

    for i in range(total):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(append_one(pool, store))
        in_flight.add(task)
        task.add_done_callback(settled)
    await asyncio.gather(*in_flight)
    if failed:
        raise failed[0]
    return total


async def wait_visible(pool: asyncpg.Pool, expected: int, timeout: float = 300) -> float:
    started = time.perf_counter()
    while await pool.fetchval("SELECT count(*) FROM bench_visibility") < expected:
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"fewer than {expected} events visible after {timeout}s")
        await asyncio.sleep(0.05)
    return time.perf_counter()


async def latencies(pool: asyncpg.Pool) -> list[float]:
    rows = await pool.fetch(
        "SELECT extract(epoch FROM visible_at - recorded_at) * 1000 AS ms FROM bench_visibility"
    )
    return sorted(float(r["ms"]) for r in rows)


async def stages(pool: asyncpg.Pool) -> str:
    """Where the latency's tail is: from the append to the relay's mark after the broker's ack
    (the relay's pacing, fetch, produce and ack), and from that mark to the read model (the
    consumer's fetch and transaction; below zero when it was quicker than the mark)."""
    rows = await pool.fetch(
        "SELECT extract(epoch FROM o.published_at - v.recorded_at) * 1000 AS relayed, "
        "extract(epoch FROM v.visible_at - o.published_at) * 1000 AS consumed "
        "FROM bench_visibility v JOIN events e ON e.event_id::text = v.event_id "
        "JOIN outbox o ON o.event_position = e.position"
    )
    relayed = sorted(float(r["relayed"]) for r in rows)
    consumed = sorted(float(r["consumed"]) for r in rows)
    return (
        f"  append to relayed (acked and marked) p50 {percentile(relayed, 50):.1f} ms, "
        f"p99 {percentile(relayed, 99):.1f} ms; relayed to visible "
        f"p50 {percentile(consumed, 50):.1f} ms, p99 {percentile(consumed, 99):.1f} ms"
    )


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


async def meter(server: str, workers: list[subprocess.Popen[bytes]]) -> CpuMeter:
    """Where an event's CPU goes: the writers (this process, with its polls for
    visibility), the relay, the consumer, PostgreSQL and the broker (a child of this
    process other than the two workers)."""
    relay, consumer = workers
    ours = {relay.pid, consumer.pid}

    def broker() -> list[psutil.Process]:
        return [
            c
            for c in psutil.Process().children()
            if c.pid not in ours and not c.name().startswith(("postgres", "pg_ctl"))
        ]

    return CpuMeter(
        {
            "writers": the_process(os.getpid()),
            "relay": the_process(relay.pid),
            "consumer": the_process(consumer.pid),
            "postgres": process_tree(await postmaster(server)),
            "broker": broker,
        }
    )


def cpu_line(used: dict[str, float], count: int) -> str:
    parts = [f"{name} {seconds * 1000 / count:.3f}" for name, seconds in used.items()]
    total = sum(used.values()) * 1000 / count
    return f"  CPU ms an event: {', '.join(parts)}; all {total:.3f}"


async def run_case(server: str, bootstrap: str, name: str, load, handler: str) -> str:  # type: ignore[no-untyped-def]
    topic = f"bench.{name}.{new_id().hex[:6]}"
    db = await fresh_database(server)
    store = EventStore(source="urn:bench", topic=topic)
    workers = start_workers(db, bootstrap, topic, handler)
    pool = await create_pool(db, min_size=4, max_size=40)
    try:
        await append_one(pool, store)  # warm-up: topic created, consumer assigned
        await wait_visible(pool, 1, timeout=60)
        # then a second at a moderate rate, so that what is measured is the pipeline
        # running, not its first statements prepared and first batches fetched
        await wait_visible(pool, 1 + await at_rate(pool, store, WARM_UP_RATE, 1.0), timeout=60)
        await pool.execute("TRUNCATE bench_visibility")
        # as a service does once its app is built (`heap.freeze_start_up`, which a checkout
        # measured through PYTHONPATH from before session 12 does not have)
        gc.freeze()
        cpu = await meter(server, workers)
        cpu.start()
        started = time.perf_counter()
        count, append_seconds = await load(pool, store)
        finished = await wait_visible(pool, count)
        used = cpu.used()
        ms = await latencies(pool)
        total = finished - started
        print(
            f"{name}: {count} single-event commands; appended in {append_seconds:.2f}s "
            f"({count / append_seconds:,.0f}/s); all visible after {total:.2f}s "
            f"(end to end {count / total:,.0f} events/s); append-to-visible latency "
            f"p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
            f"max {ms[-1]:.1f} ms",
            flush=True,
        )
        print(cpu_line(used, count), flush=True)
        print(await stages(pool), flush=True)
        return (
            f"{count / total:>9,.0f}/s  p50 {percentile(ms, 50):7.1f} ms  "
            f"p99 {percentile(ms, 99):7.1f} ms"
        )
    finally:
        await pool.close()
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait(30)


async def main(args: argparse.Namespace) -> None:
    summary: list[str] = []
    for broker in args.brokers.split(","):
        with infrastructure(broker, args.over == "socket") as (server, bootstrap):
            print(
                f"== {broker}: pipeline benchmark on {os.cpu_count()} cores; postgres "
                f"{server.split('@')[-1]}, broker {bootstrap}; machine speed "
                f"{machine_speed():.3f} s (CPU for a fixed loop, lower is faster); read "
                f"model {args.read_model}",
                flush=True,
            )

            async def saturation(pool: asyncpg.Pool, store: EventStore) -> tuple[int, float]:
                return args.events, await saturate(pool, store, args.events, args.writers)

            async def fixed_rate(pool: asyncpg.Pool, store: EventStore) -> tuple[int, float]:
                started = time.perf_counter()
                count = await at_rate(pool, store, args.rate, args.seconds)
                return count, time.perf_counter() - started

            for case, load in (
                ("saturation", saturation),
                (f"fixed-rate-{args.rate:g}", fixed_rate),
            ):
                figures = await run_case(
                    server, bootstrap, case, load, READ_MODELS[args.read_model]
                )
                summary.append(f"{broker:<6} {case:<16} {figures}")
    print(
        "== side by side (end to end events/s, append-to-visible latency)\n" + "\n".join(summary),
        flush=True,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000, help="saturation run size")
    parser.add_argument("--writers", type=int, default=32, help="concurrent appenders")
    parser.add_argument("--rate", type=float, default=500.0, help="fixed-rate events/s")
    parser.add_argument("--seconds", type=float, default=20.0, help="fixed-rate duration")
    parser.add_argument(
        "--brokers", default="tansu,kafka", help="comma-separated, run in this order: tansu, kafka"
    )
    parser.add_argument(
        "--read-model",
        choices=sorted(READ_MODELS),
        default="batched",
        help="the consumer's read model: a poll's events in one statement, as reporting's "
        "projection of issued invoices, or one statement an event",
    )
    add_database_transport(parser)
    event_loop.run(main(parser.parse_args()))
