"""CPU per PostgreSQL round trip: the unit most of a request's cost is counted in.

A billing write sets off some twenty round trips across the platform (its own
transaction, the relay's, each consumer group's BEGIN, claim, projection and
COMMIT), so what one costs, in the client and in the server backend, says how
far fewer statements would go and how far faster code around them would not.
Runs `--count` one-row queries on one connection, over TCP (how services reach
PostgreSQL) and over the server's unix socket, and prints the CPU microseconds
each side spent per round trip.

    .venv/bin/python bench/bench_round_trip.py --count 20000
Starts an embedded PostgreSQL of its own (a unix socket is only there on this host).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import asyncpg
import psutil

from receivables_devkit.infra.embedded_postgres import EmbeddedPostgres
from receivables_platform import event_loop


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


async def round_trips(dsn: str, count: int) -> tuple[float, float, float]:
    """Wall, client CPU and backend CPU microseconds per round trip."""
    conn = await asyncpg.connect(dsn)
    try:
        backend = psutil.Process(await conn.fetchval("SELECT pg_backend_pid()"))
        client = psutil.Process()
        await conn.fetchval("SELECT $1::int", 0)  # prepared before the clock starts
        client_0, backend_0, wall_0 = _cpu(client), _cpu(backend), time.perf_counter()
        for i in range(count):
            await conn.fetchval("SELECT $1::int", i)
        wall = time.perf_counter() - wall_0
        per = 1e6 / count
        return wall * per, (_cpu(client) - client_0) * per, (_cpu(backend) - backend_0) * per
    finally:
        await conn.close()


async def measure(over: dict[str, str], count: int, rounds: int) -> None:
    print(f"{count} one-row queries a run; microseconds per round trip (wall, CPU)")
    print(f"{'over':12} {'wall':>6} {'client':>7} {'backend':>8} {'both':>6}")
    for _ in range(rounds):
        for name, dsn in over.items():
            wall, client, backend = await round_trips(dsn, count)
            print(f"{name:12} {wall:6.0f} {client:7.0f} {backend:8.0f} {client + backend:6.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=20_000, help="round trips a run")
    parser.add_argument("--rounds", type=int, default=2, help="runs over each transport")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rx-round-trip-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg").start()
        try:
            over = {"tcp": server.url, "unix socket": server.socket_url}
            event_loop.run(measure(over, args.count, args.rounds))
        finally:
            server.stop("immediate")


if __name__ == "__main__":
    main()
