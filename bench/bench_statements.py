"""PostgreSQL statements a request sets off, operation by operation, service by service.

CPU per request is mostly round trips to PostgreSQL (`bench_round_trip` says what
one costs: on the 2-core development machine more than the statement's own work),
and a write's round trips are spread over every service that hears of it: the
write's transaction, the relay publishing it, each consumer group projecting it.
This counts them with `pg_stat_statements` (BEGIN and COMMIT included) over each
service's database while the load mix's operations run as `bench_route_cpu` runs
them, the background's own rate (relay and consumer housekeeping) subtracted. A
count does not depend on how fast or busy the machine is, so two commits compare
across days where their CPU figures cannot. Consumers batch what arrives
together, so `--clients` changes the counts of what they project.

    .venv/bin/python bench/bench_statements.py --count 200
Starts its own embedded PostgreSQL (it needs `pg_stat_statements` preloaded); the
broker is `KAFKA_BOOTSTRAP_SERVERS` when set, else embedded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import asyncpg
from bench_route_cpu import (
    SHORT,
    Measured,
    add_mix_options,
    interleaved,
    ready_workload,
    run_against_servers,
    weighted,
)
from bench_route_cpu import cost as run_operation
from process_cpu import CpuMeter, stop

from receivables_devkit.testing.load import MixedWorkload, Operation
from receivables_devkit.testing.system import RunningSystem

PRELOAD = "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.max=10000"


class StatementCounter:
    """Top-level statements run in each service's database since the last `reset`."""

    def __init__(self, conn: asyncpg.Connection, services: dict[str, str]) -> None:
        self.conn = conn
        self.services = services  # database name -> service

    @classmethod
    async def open(cls, server: str, system: RunningSystem) -> StatementCounter:
        conn = await asyncpg.connect(server)
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        names = {urlsplit(url).path.lstrip("/"): name for name, url in system.databases.items()}
        return cls(conn, names)

    async def reset(self) -> None:
        await self.conn.execute("SELECT pg_stat_statements_reset()")

    async def counts(self) -> dict[str, int]:
        rows = await self.conn.fetch(
            "SELECT d.datname, sum(s.calls)::bigint AS calls FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid GROUP BY d.datname"
        )
        found = {
            self.services[r["datname"]]: r["calls"] for r in rows if r["datname"] in self.services
        }
        return {name: found.get(name, 0) for name in self.services.values()}

    async def most_called(self, limit: int) -> list[tuple[str, int, str]]:
        """(service, calls, statement) of the `limit` statements run most since `reset`."""
        rows = await self.conn.fetch(
            "SELECT d.datname, s.calls, s.query FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = ANY($2) "
            "ORDER BY s.calls DESC LIMIT $1",
            limit,
            list(self.services),
        )
        return [(self.services[r["datname"]], r["calls"], r["query"]) for r in rows]


async def idle_rates(counter: StatementCounter, seconds: float) -> dict[str, float]:
    """Statements a second each service runs with no requests (relay and consumer upkeep)."""
    await counter.reset()
    await asyncio.sleep(seconds)
    return {name: n / seconds for name, n in (await counter.counts()).items()}


async def statements_of(
    op: Operation,
    runs: int,
    clients: int,
    workload: MixedWorkload,
    counter: StatementCounter,
    idle: dict[str, float],
    args: argparse.Namespace,
) -> tuple[int, int, dict[str, float]]:
    """(requests, errors, statements per request by service) of `runs` runs of `op`."""
    await counter.reset()
    began = time.perf_counter()
    requests, errors, _, _ = await run_operation(
        op, workload, CpuMeter({}), {}, args, runs, clients
    )
    window = time.perf_counter() - began
    counts = await counter.counts()
    per = {name: max(0.0, n - idle[name] * window) / max(1, requests) for name, n in counts.items()}
    return requests, errors, per


async def print_most_called(counter: StatementCounter, limit: int, requests: int) -> None:
    """The statements behind the counts, most called first, per request of the run."""
    for service, calls, query in await counter.most_called(limit):
        text = " ".join(query.split())
        print(f"    {calls / max(1, requests):5.2f} {SHORT.get(service, service):11} {text[:110]}")


def row(name: str, requests: int, errors: int, per: dict[str, float]) -> str:
    return (
        f"{name[:36]:36} {requests:>5} {errors:>4} "
        + " ".join(f"{n:>11.1f}" for n in per.values())
        + f" {sum(per.values()):>7.1f}"
    )


async def measure(server: str, bootstrap: str, logs: Path, args: argparse.Namespace) -> None:
    system = RunningSystem(server, bootstrap, logs)
    try:
        await system.start()
        connector = aiohttp.TCPConnector(limit=100, keepalive_timeout=3)
        async with aiohttp.ClientSession(connector=connector) as http:
            workload = await ready_workload(system, http, args.seed)
            counter = await StatementCounter.open(server, system)
            idle = await idle_rates(counter, args.idle)
            print(
                f"{args.count} runs of each operation, {args.clients} at a time, "
                f"{args.settle:g} s to settle; PostgreSQL statements per request by service "
                f"(BEGIN and COMMIT count; idle rate subtracted: "
                + ", ".join(f"{SHORT.get(n, n)} {r:.1f}/s" for n, r in idle.items())
                + ")",
                flush=True,
            )
            print(
                f"{'operation':36} {'reqs':>5} {'err':>4} "
                + " ".join(f"{SHORT.get(n, n)[:11]:>11}" for n in idle)
                + f" {'all':>7}",
                flush=True,
            )
            measured: list[Measured] = []
            for op in workload.operations:
                if args.only and not any(part in op.name for part in args.only):
                    continue
                requests, errors, per = await statements_of(
                    op, args.count, args.clients, workload, counter, idle, args
                )
                print(row(op.name, requests, errors, per), flush=True)
                measured.append(Measured(op, requests, per))
            if args.only:
                return
            print(row("the mix, operations weighted", 0, 0, weighted(measured)))
            mix = interleaved(workload)
            for clients in (args.clients, 4 * args.clients):
                requests, errors, per = await statements_of(
                    mix, 4 * args.count, clients, workload, counter, idle, args
                )
                print(row(f"the mix interleaved, {clients} at a time", requests, errors, per))
                if args.top:
                    await print_most_called(counter, args.top, requests)
            await counter.conn.close()
    finally:
        await stop(system, logs)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_mix_options(parser, count=200)
    parser.add_argument(
        "--top",
        type=int,
        default=0,
        help="after each interleaved run, the statements run most, with calls per request",
    )
    os.environ.pop("DATABASE_URL", None)  # the count needs a server it can preload
    run_against_servers(measure, parser.parse_args(), "statements", postgres_settings=PRELOAD)
    return 0


if __name__ == "__main__":
    sys.exit(main())
