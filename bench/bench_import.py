"""Bulk import benchmark: a CSV of invoices -> event store -> outbox relay -> Kafka.

Generates the files (accounts, then `--invoices` invoice rows spread over
`--per-account` invoices per customer), imports the accounts untimed, then
times `billing-adapter import invoices FILE.csv` run as a user runs it, with
the service's outbox relay running as its own process. Prints the import's
rows/s and seconds, and the time until the last event was acknowledged by the
broker (the relay marks an outbox row only after the broker's ack).

    make bench            # or: .venv/bin/python bench/bench_import.py --help
Uses DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS when set, else embedded servers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
from bench_pipeline import infrastructure
from process_cpu import CpuMeter, broker_processes, postmaster, process_tree, the_process

from billing_adapter.spec import SPEC
from receivables_devkit.infra.embedded_postgres import database_url
from receivables_platform import event_loop
from receivables_platform.contracts.billing import TOPIC
from receivables_platform.db.migrate import upgrade_async
from receivables_platform.ids import new_id
from receivables_platform.relay.relay import DEFAULT_BATCH_SIZE


async def fresh_database(server_url: str) -> str:
    name = f"bench_import_{new_id().hex[:12]}"
    conn = await asyncpg.connect(server_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = database_url(server_url, name)
    await upgrade_async(url, SPEC.versions_dir)
    return url


def write_files(folder: Path, invoices: int, per_account: int, shuffle: bool) -> tuple[Path, Path]:
    """Customers, and their invoices grouped by customer (as AR exports list them) or shuffled."""
    customers = max(1, invoices // per_account)
    accounts = folder / "accounts.csv"
    with accounts.open("w", encoding="utf-8") as out:
        out.write("external_id,name,currency,payment_terms_days,segment\n")
        for c in range(customers):
            out.write(f"CUS-{c:07d},Customer {c},USD,30,smb\n")
    order = list(range(invoices))
    if shuffle:
        random.Random(7).shuffle(order)
    path = folder / "invoices.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("external_id,account_external_id,total_minor,tax_minor,issue_date,due_date\n")
        for i in order:  # issued last year: billing refuses an issue date after today
            out.write(
                f"INV-{i:08d},CUS-{i * customers // invoices:07d},{1000 + i % 9000},"
                f"{i % 100},2025-{1 + i % 12:02d}-{1 + i % 28:02d},\n"
            )
    return accounts, path


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli(db: str, kind: str, path: Path, batch_size: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "billing_adapter.cli",
            "import",
            kind,
            str(path),
            "--quiet",
            "--batch-size",
            str(batch_size),
        ],
        env={**os.environ, "DATABASE_URL": db},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def relay(db: str, bootstrap: str, batch_size: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "receivables_platform.relay",
            "--database-url",
            db,
            "--bootstrap-servers",
            bootstrap,
            "--service",
            SPEC.name,
            "--topic",
            TOPIC,
            "--batch-size",
            str(batch_size),
            "--poll-interval",
            "0.2",
        ],
        env={**os.environ, "LOG_LEVEL": "WARNING"},
    )


async def drained(db: str, timeout: float = 1800) -> float:
    """When the outbox had nothing left unacknowledged.

    Asks whether one row is left, not how many: counting a million-row backlog
    twenty times a second took a core from the very PostgreSQL being measured.
    """
    conn = await asyncpg.connect(db)
    try:
        started = time.perf_counter()
        while await conn.fetchval("SELECT EXISTS (SELECT FROM outbox WHERE published_at IS NULL)"):
            if time.perf_counter() - started > timeout:
                raise TimeoutError("the relay did not drain the outbox")
            await asyncio.sleep(0.05)
        return time.perf_counter()
    finally:
        await conn.close()


async def counts(db: str) -> tuple[int, int]:
    conn = await asyncpg.connect(db)
    try:
        return (
            await conn.fetchval(
                "SELECT count(*) FROM events WHERE type = 'billing.invoice.issued'"
            ),
            await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL"),
        )
    finally:
        await conn.close()


async def main(args: argparse.Namespace) -> None:
    with (
        infrastructure() as (server, bootstrap),
        tempfile.TemporaryDirectory(prefix="rx-bench-import-") as tmp,
    ):
        print(
            f"import benchmark on {os.cpu_count()} cores: {args.invoices:,} invoices, "
            f"{args.per_account} per customer, {'shuffled' if args.shuffle else 'grouped'}",
            flush=True,
        )
        started = time.perf_counter()
        accounts, invoices = write_files(Path(tmp), args.invoices, args.per_account, args.shuffle)
        print(
            f"generated {invoices.stat().st_size / 1e6:.0f} MB of CSV in "
            f"{time.perf_counter() - started:.1f}s",
            flush=True,
        )
        db = await fresh_database(server)
        worker = relay(db, bootstrap, args.relay_batch)
        try:
            seconds = cli(db, "accounts", accounts, args.batch_size)
            await drained(db)
            print(f"accounts imported and published in {seconds:.1f}s (untimed)", flush=True)
            meter = CpuMeter(
                {
                    "postgres": process_tree(await postmaster(server)),
                    "broker": broker_processes,
                    "relay": the_process(worker.pid),
                }
            )
            meter.start()
            importer = children_cpu()
            started = time.perf_counter()
            seconds = cli(db, "invoices", invoices, args.batch_size)
            importer = children_cpu() - importer
            print(
                f"invoices: {args.invoices:,} rows imported in {seconds:.1f}s "
                f"({args.invoices / seconds:,.0f} rows/s)",
                flush=True,
            )
            on_kafka = await drained(db) - started
            stored, published = await counts(db)
            print(
                f"invoices: last event acknowledged by the broker {on_kafka:.1f}s after the "
                f"import started ({args.invoices / on_kafka:,.0f} rows/s end to end); "
                f"{stored:,} invoice.issued stored, {published:,} events published",
                flush=True,
            )
            used = {"importer": importer, **meter.used()}
            print(
                "CPU per row: "
                + ", ".join(
                    f"{name} {seconds / args.invoices * 1e6:.0f} µs"
                    for name, seconds in used.items()
                )
                + f"; total {sum(used.values()) / args.invoices * 1e6:.0f} µs "
                f"({sum(used.values()):.1f} CPU s; load average {os.getloadavg()[0]:.1f})",
                flush=True,
            )
        finally:
            worker.terminate()
            worker.wait(30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--per-account", type=int, default=20)
    parser.add_argument("--shuffle", action="store_true", help="invoices in random order")
    parser.add_argument("--batch-size", type=int, default=2000, help="import batch size")
    parser.add_argument(
        "--relay-batch",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"relay batch (the service's default is {DEFAULT_BATCH_SIZE})",
    )
    event_loop.run(main(parser.parse_args()))
