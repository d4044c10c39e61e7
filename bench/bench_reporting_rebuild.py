"""Reporting rebuild benchmark: the billing projection rebuilt from a topic, Kafka included.

Produces `--events` billing CloudEvents (accounts registered, invoices issued,
payments received and applied, some invoices adjusted; keyed by account, in
the platform's Kafka binding) to a topic of its own, then runs the real
`rebuild()` for the billing projection against that topic: new tables in a
shadow schema, a consumer group of its own reading from the earliest offset
through the platform's ConsumerRunner (fetch, decoding, the duplicate claim,
positions in the read model's transaction), then the swap. The topic is read
by `--workers` processes (default: one per CPU, as `reporting-service rebuild`).
Prints the projection throughput (records read past per second, from the
rebuild's own Progress), how long the swap took, and the CPU an event took in
the rebuild's processes, in PostgreSQL and in the broker, since
wall-clock rates swing with whatever else the machine runs. Issue 6 asks for
at least 20,000 events/s. Not a timed test.

    make bench            # or: .venv/bin/python bench/bench_reporting_rebuild.py --help
Uses DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS when set, else embedded servers.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import asyncpg
import psutil
from aiokafka import AIOKafkaProducer
from process_cpu import CpuMeter, broker_processes, postmaster, process_tree

from receivables_devkit.infra.embedded_postgres import ensure_database
from receivables_devkit.infra.servers import servers
from receivables_platform import event_loop
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import (
    AccountRegistered,
    AdjustmentKind,
    InvoiceAdjusted,
    InvoiceIssued,
    PaymentApplied,
    PaymentMethod,
    PaymentReceived,
)
from receivables_platform.db.migrate import upgrade_async
from receivables_platform.envelope import to_kafka
from receivables_platform.ids import new_id
from receivables_platform.kafka.topics import ensure_topics
from receivables_platform.settings import KafkaSettings
from reporting_service.consumers.projections import PROJECTIONS
from reporting_service.service_layer.rebuild import Progress, collect_for_rebuilding, rebuild
from reporting_service.spec import SPEC
from reporting_service.testing import cloud

TARGET = 20_000  # events/s, issue 6 item 9


@contextmanager
def infrastructure() -> Iterator[tuple[str, str]]:
    with (
        tempfile.TemporaryDirectory(prefix="rx-bench-rebuild-") as tmp,
        servers(Path(tmp)) as found,
    ):
        yield found


def rebuild_processes() -> list[psutil.Process]:
    """This process and its rebuild workers, listed afresh: workers start during the run."""
    me = psutil.Process()
    return [me, *(child for child in me.children() if "python" in child.name())]


def account_history(account: UUID, invoices: int, today: date) -> Iterator[EventContract]:
    """One account's life: registered, then invoices issued, paid in part, now and then credited."""
    yield AccountRegistered(
        account_id=account,
        external_id=f"A-{account.hex[:12]}",
        name="Bench Customer Ltd",
        contacts=[],
        payment_terms_days=30,
        segment=("smb", "enterprise", "public")[account.int % 3],
        currency="USD",
    )
    for i in range(invoices):
        invoice, payment = new_id(), new_id()
        issued = today - timedelta(30 + (account.int + i) % 300)
        total = 10_000 + (account.int + 7919 * i) % 500_000
        yield InvoiceIssued(
            invoice_id=invoice,
            account_id=account,
            external_id=f"B-{i}",
            currency="USD",
            total_minor=total,
            issue_date=issued,
            due_date=issued + timedelta(30),
        )
        yield PaymentReceived(
            payment_id=payment,
            account_id=account,
            external_id=f"P-{i}",
            amount_minor=total // 2,
            currency="USD",
            method=PaymentMethod.ACH,
            received_on=issued + timedelta(25),
        )
        yield PaymentApplied(
            payment_id=payment,
            account_id=account,
            invoice_id=invoice,
            amount_minor=total // 2,
            currency="USD",
            remaining_minor=total - total // 2,
            applied_on=issued + timedelta(25),
        )
        if i % 4 == 3:
            yield InvoiceAdjusted(
                invoice_id=invoice,
                account_id=account,
                adjustment_id=new_id(),
                kind=AdjustmentKind.CREDIT,
                amount_minor=100,
                currency="USD",
                reason_code="goodwill",
                effective_date=issued + timedelta(40),
            )


def billing_events(count: int) -> Iterator[EventContract]:
    """`count` events over accounts of eight invoices each (about 29 events an account)."""
    today = date.today()
    produced = 0
    while True:
        for contract in account_history(new_id(), 8, today):
            if produced == count:
                return
            produced += 1
            yield contract


async def produce(bootstrap: str, topic: str, count: int) -> tuple[float, Counter[str]]:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=20,
        max_batch_size=1_000_000,
        compression_type=None,
    )
    await producer.start()
    started = time.perf_counter()
    types: Counter[str] = Counter()
    try:
        pending = []
        for contract in billing_events(count):
            types[contract.event_type] += 1
            key, value, headers = to_kafka(cloud(contract))
            pending.append(await producer.send(topic, value, key=key, headers=headers))
            if len(pending) >= 5_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started, types


async def fresh_database(server_url: str) -> str:
    url = await ensure_database(server_url, f"bench_rebuild_{new_id().hex[:12]}")
    await upgrade_async(url, SPEC.versions_dir)
    return url


async def bench(server_url: str, bootstrap: str, args: argparse.Namespace) -> None:
    kafka = KafkaSettings(bootstrap_servers=bootstrap, topic_partitions=args.partitions)
    topic = f"bench.rebuild.{new_id().hex[:12]}"
    await ensure_topics(kafka, [topic])
    seconds, types = await produce(bootstrap, topic, args.events)
    print(
        f"produced {args.events:,} billing events to {topic} ({args.partitions} partitions) "
        f"in {seconds:.1f} s: " + ", ".join(f"{n:,} {t}" for t, n in types.items()),
        flush=True,
    )
    url = await fresh_database(server_url)
    billing = dataclasses.replace(PROJECTIONS["billing"], topic=topic)
    built: list[Progress] = []
    meter = CpuMeter(
        {
            "rebuild": rebuild_processes,
            "broker": broker_processes,
            "postgres": process_tree(await postmaster(server_url)),
        }
    )
    # CPU seconds each group had used when each progress report was made
    spent: dict[int, dict[str, float]] = {}

    def report(progress: Progress) -> None:
        if not progress.swapped:
            built.append(progress)
            spent[id(progress)] = meter.used()
            print(
                f"  building: {progress.applied:,}/{progress.total:,} records, "
                f"{progress.seconds:.1f} s",
                flush=True,
            )

    load = os.getloadavg()[0]
    meter.start()
    cpu = _cpu_seconds()
    done = await rebuild(
        url, kafka, billing, f"bench-{topic}", report, interval=0.5, workers=args.workers
    )
    cpu = _cpu_seconds() - cpu
    caught_up = built[-1]
    conn = await asyncpg.connect(url)
    try:
        invoices = await conn.fetchval("SELECT count(*) FROM ar_invoices")
        changes = await conn.fetchval("SELECT count(*) FROM ar_balance_changes")
    finally:
        await conn.close()
    issued = types[InvoiceIssued.event_type]
    print(
        f"rebuilt: {invoices:,} invoices ({issued:,} issued), {changes:,} balance changes; "
        f"the broker reported {caught_up.total:,} records at the start",
        flush=True,
    )
    first = next(p for p in built if p.applied > 0)
    if caught_up.seconds > first.seconds:
        steady = (caught_up.applied - first.applied) / (caught_up.seconds - first.seconds)
    else:  # the whole topic was applied before the first report: a run too small to tell
        steady = caught_up.per_second
    print(
        f"projection throughput while rebuilding: {steady:,.0f} events/s (target {TARGET:,}) "
        f"from the first progress report with records applied ({first.applied:,} at "
        f"{first.seconds:.1f} s) to the one that saw the topic's end ({caught_up.applied:,} at "
        f"{caught_up.seconds:.1f} s)",
        flush=True,
    )
    if caught_up.applied > first.applied:
        events = caught_up.applied - first.applied
        used = {
            name: (spent[id(caught_up)][name] - seconds) / events * 1e6
            for name, seconds in spent[id(first)].items()
        }
        print(
            f"  CPU over the same stretch, an event: {used['rebuild']:.0f} us in the rebuild's "
            f"processes, {used['postgres']:.0f} us in PostgreSQL, {used['broker']:.0f} us in "
            f"the broker (0: not on this machine)",
            flush=True,
        )
    print(
        f"  counting the consumer's start (joining its group): {caught_up.per_second:,.0f} "
        f"events/s; swap: {done.seconds - caught_up.seconds:.2f} s after catching up",
        flush=True,
    )
    where = "this process" if args.workers == 1 else f"this process and {args.workers} workers"
    print(
        f"  the rebuild used {cpu:.1f} s of CPU in {where} ({cpu / args.events * 1e6:.0f} us an "
        f"event, starting the workers included) in {done.seconds:.1f} s; load average "
        f"{load:.2f} on {os.cpu_count()} CPUs when it began",
        flush=True,
    )


def _cpu_seconds() -> float:
    """This process's CPU and that of its children that have ended (the rebuild's workers;
    the embedded servers are still running, so they are not in it)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="rebuild worker processes (default: one per CPU, as the CLI)",
    )
    args = parser.parse_args()
    print(f"rebuilding with {args.workers} worker(s)", flush=True)
    collect_for_rebuilding()  # as `reporting-service rebuild` does for its one worker
    with infrastructure() as (server_url, bootstrap):
        event_loop.run(bench(server_url, bootstrap, args))


if __name__ == "__main__":
    main()
