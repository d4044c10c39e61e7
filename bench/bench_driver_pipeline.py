"""Would a pipelining driver make a write cheaper? asyncpg against psycopg 3's pipeline mode.

A billing write's transaction is six statements, each a round trip with asyncpg
(BEGIN, the Idempotency-Key's claim, the stream's lock and read, the append, the
stored response, COMMIT). psycopg 3's pipeline mode sends them in two flights
(BEGIN, claim and read; then append, response and COMMIT: the decision in
between needs the read), which is what issue 23's notes proposed as the design
that could halve a write's round trips. This runs that statement shape on both
drivers, `--clients` writes at a time on a connection each, rounds alternating,
and prints the CPU milliseconds a write costs the client process and the
PostgreSQL backends. `--busy N` runs N niced busy loops beside it, for a machine
whose cores are taken, as under the load mix.

psycopg is not one of the platform's dependencies; run it with
    .tools/bin/uv run --no-sync --with 'psycopg[binary]==3.3.9' python \\
        bench/bench_driver_pipeline.py --count 5000
Starts an embedded PostgreSQL of its own and reaches it over its unix socket, as
the services beside their database do.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from process_cpu import CpuMeter, process_tree, the_process

from receivables_devkit.infra.embedded_postgres import EmbeddedPostgres
from receivables_platform import event_loop

SCHEMA = """
DROP TABLE IF EXISTS shape_events, shape_keys;
CREATE TABLE shape_events (
    position bigserial PRIMARY KEY, stream_id text NOT NULL, version int NOT NULL,
    type text NOT NULL, data jsonb NOT NULL, UNIQUE (stream_id, version));
CREATE TABLE shape_keys (
    principal text, key text, request_hash text NOT NULL, body bytea NOT NULL,
    PRIMARY KEY (principal, key));
"""
CLAIM = (
    "SELECT pg_try_advisory_xact_lock($1::bigint) AS claimed, "
    "(SELECT request_hash FROM shape_keys WHERE principal = $2 AND key = $3) AS stored"
)
READ = (
    "SELECT pg_advisory_xact_lock(hashtext($1)) AS locked, "
    "(SELECT count(*) FROM shape_events WHERE stream_id = $2 AND version > $3) AS newer"
)
APPEND = (
    "INSERT INTO shape_events (stream_id, version, type, data) "
    "VALUES ($1, $2, 'InvoiceIssued', $3::jsonb) RETURNING position"
)
STORE = "INSERT INTO shape_keys (principal, key, request_hash, body) VALUES ($1, $2, $3, $4)"
EVENT = json.dumps(
    {
        "invoice_id": "0193b7c2-5a61-7e1c-9d3f-2b4a6c8e0f12",
        "lines": [{"description": "Monthly service", "quantity": 1, "amount_minor": 12_345}],
        "currency": "EUR",
        "due_date": "2027-01-04",
    }
)
RESPONSE = b'{"invoice_id":"0193b7c2-5a61-7e1c-9d3f-2b4a6c8e0f12","status":"open"}' * 4

Write = Callable[[Any, int], Awaitable[None]]


def _psycopg_text(statement: str) -> str:
    return re.sub(r"\$\d+", "%s", statement)


# psycopg's placeholders, rewritten once rather than on every measured write
PSYCOPG_CLAIM, PSYCOPG_READ, PSYCOPG_APPEND, PSYCOPG_STORE = map(
    _psycopg_text, (CLAIM, READ, APPEND, STORE)
)


async def asyncpg_write(conn: asyncpg.Connection, i: int) -> None:
    """As the platform writes: one round trip a statement."""
    stream = f"account-{i % 500}"
    async with conn.transaction():
        await conn.fetchrow(CLAIM, i, "integration", f"key-{i}")
        await conn.fetchrow(READ, stream, stream, 0)
        await conn.fetchrow(APPEND, f"invoice-{i}", 1, EVENT)
        await conn.execute(STORE, "integration", f"key-{i}", "fingerprint", RESPONSE)


async def psycopg_write(conn: Any, i: int) -> None:
    """The same statements in two flights: what the decision needs, then the write."""
    stream = f"account-{i % 500}"
    async with conn.pipeline() as pipeline:
        await conn.execute("BEGIN")
        claim = await conn.execute(PSYCOPG_CLAIM, (i, "integration", f"key-{i}"))
        read = await conn.execute(PSYCOPG_READ, (stream, stream, 0))
        await pipeline.sync()
        await claim.fetchone()
        await read.fetchone()
        append = await conn.execute(PSYCOPG_APPEND, (f"invoice-{i}", 1, EVENT))
        await conn.execute(PSYCOPG_STORE, ("integration", f"key-{i}", "fingerprint", RESPONSE))
        await conn.execute("COMMIT")
        await pipeline.sync()
        await append.fetchone()


async def asyncpg_connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url)


async def psycopg_connect(url: str) -> Any:
    import psycopg

    return await psycopg.AsyncConnection.connect(url, autocommit=True)


DRIVERS: dict[str, tuple[Callable[[str], Awaitable[Any]], Write]] = {
    "asyncpg": (asyncpg_connect, asyncpg_write),
    "psycopg 3 pipeline": (psycopg_connect, psycopg_write),
}


async def _writes(write: Write, connections: list[Any], numbers: Iterator[int]) -> None:
    async def one_client(conn: Any) -> None:
        for i in numbers:
            await write(conn, i)

    await asyncio.gather(*(one_client(conn) for conn in connections))


async def run_once(
    driver: str, server: EmbeddedPostgres, count: int, clients: int, start: int
) -> tuple[float, float, float]:
    """Client and backend CPU milliseconds a write, and writes a second."""
    connect, write = DRIVERS[driver]
    connections = [await connect(server.socket_url) for _ in range(clients)]
    try:
        await _writes(write, connections, iter(range(start, start + 200)))  # prepared, warm
        meter = CpuMeter(
            {
                "client": the_process(os.getpid()),
                "backends": process_tree(psutil.Process(server.pid)),
            }
        )
        meter.start()
        began = time.perf_counter()
        await _writes(write, connections, iter(range(start + 200, start + 200 + count)))
        wall = time.perf_counter() - began
        used = meter.used()
        return used["client"] * 1000 / count, used["backends"] * 1000 / count, count / wall
    finally:
        for conn in connections:
            await conn.close()


async def measure(server: EmbeddedPostgres, count: int, clients: int, rounds: int) -> None:
    admin = await asyncpg.connect(server.socket_url)
    try:
        await admin.execute(SCHEMA)
    finally:
        await admin.close()
    print(
        f"{count} writes a run, {clients} at a time; CPU ms a write "
        f"(load average {psutil.getloadavg()[0]:.2f})"
    )
    print(f"{'driver':24} {'client':>7} {'backend':>8} {'both':>6} {'writes/s':>9}")
    start = 0
    for _ in range(rounds):
        for driver in DRIVERS:
            client, backend, rate = await run_once(driver, server, count, clients, start)
            start += count + 200
            print(f"{driver:24} {client:7.3f} {backend:8.3f} {client + backend:6.3f} {rate:9.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=5_000, help="writes a run")
    parser.add_argument("--clients", type=int, default=4, help="writes in flight at once")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each driver, alternating")
    parser.add_argument("--busy", type=int, default=0, help="niced busy loops beside it")
    args = parser.parse_args()
    if importlib.util.find_spec("psycopg") is None:
        sys.exit("psycopg is not installed: run this with uv's --with 'psycopg[binary]'")
    burners = [
        subprocess.Popen(["nice", "-n", "19", sys.executable, "-c", "while True: pass"])
        for _ in range(args.busy)
    ]
    try:
        with tempfile.TemporaryDirectory(prefix="rx-driver-") as tmp:
            server = EmbeddedPostgres(Path(tmp) / "pg").start()
            try:
                event_loop.run(measure(server, args.count, args.clients, args.rounds))
            finally:
                server.stop("immediate")
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


if __name__ == "__main__":
    main()
