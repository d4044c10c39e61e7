"""Faults while the whole system is under load; afterwards reporting is exact to the cent.

The four services run as processes over their own PostgreSQL server and their
own broker (both of which this test breaks). Billing's outbox relay and
reporting's consumers run as separate processes (`RUN_RELAY=false`,
`RUN_CONSUMERS=false` and the platform's relay and consumer CLIs) so each can
be killed on its own. While the mixed workload drives every service's API at a
fixed rate, the test SIGKILLs and restarts billing-adapter, the relay, the
reporting consumer, reporting-service itself and case-service, freezes and
thaws the broker, and restarts PostgreSQL. Requests fail during the faults;
that is expected and reported.

Then the expected aging and AR figures are recomputed here, independently,
from billing-adapter's own event store (its `events` table, every stored
event whether or not its request's answer got through), and reporting's
HTTP answers must equal them to the cent: per invoice and bucket for several
as-of dates, and the KPI report's opening/closing AR and credit sales.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from receivables_devkit.infra.apache_kafka import ApacheKafka, KafkaCluster
from receivables_devkit.infra.embedded_kafka import EmbeddedKafka
from receivables_devkit.infra.embedded_postgres import EmbeddedPostgres
from receivables_devkit.testing.load import MixedWorkload, Recorder, report
from receivables_devkit.testing.processes import (
    PlatformProcess,
    consumer_process,
    relay_process,
)
from receivables_devkit.testing.system import RunningSystem
from receivables_platform.consumer.faults import FAULT_EXIT_CODE

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # `make test-faults`

BILLING_TOPIC = "billing.events.v1"
BOUNDS = (0, 30, 60, 90, 120)
# Load runs until the last fault is over: bounded by MAX_SECONDS, loopback only.
RATE, MAX_SECONDS = 15.0, 400.0


def bucket_key(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "current"
    for lower, upper in pairwise(BOUNDS):
        if days_past_due <= upper:
            return f"{lower + 1}-{upper}"
    return f"{BOUNDS[-1]}+"


@dataclass
class InvoiceFacts:
    account_id: str
    currency: str
    total_minor: int
    issue_date: date
    due_date: date
    changes: list[tuple[date, int]] = field(default_factory=list)

    def open_as_of(self, day: date) -> int:
        return self.total_minor + sum(amount for when, amount in self.changes if when <= day)


def d(text: str) -> date:
    return date.fromisoformat(text)


def recompute(rows: list[asyncpg.Record]) -> dict[str, InvoiceFacts]:
    """Every invoice's dated balance changes, from billing's stored events
    (docs/architecture.md#metrics)."""
    invoices: dict[str, InvoiceFacts] = {}
    changes: list[tuple[str, date, int]] = []
    for row in rows:
        data: dict[str, Any] = (
            json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]
        )
        kind = row["type"]
        if kind == "billing.invoice.issued":
            invoices[data["invoice_id"]] = InvoiceFacts(
                data["account_id"],
                data["currency"],
                data["total_minor"],
                d(data["issue_date"]),
                d(data["due_date"]),
            )
        elif kind == "billing.invoice.adjusted":
            sign = -1 if data["kind"] == "credit" else 1
            changes.append(
                (data["invoice_id"], d(data["effective_date"]), sign * data["amount_minor"])
            )
        elif kind == "billing.invoice.voided":
            changes.append((data["invoice_id"], d(data["voided_on"]), -data["voided_amount_minor"]))
        elif kind == "billing.invoice.written_off":
            changes.append((data["invoice_id"], d(data["written_off_on"]), -data["amount_minor"]))
        elif kind == "billing.payment.applied":
            changes.append((data["invoice_id"], d(data["applied_on"]), -data["amount_minor"]))
        elif kind == "billing.payment.reversed":
            changes.extend(
                (r["invoice_id"], d(data["reversed_on"]), r["amount_minor"])
                for r in data["reopened"]
            )
    for invoice_id, when, amount in changes:
        invoices[invoice_id].changes.append((when, amount))
    return invoices


def expected_aging(invoices: dict[str, InvoiceFacts], as_of: date) -> dict[str, dict[str, int]]:
    """invoice id -> {bucket: open minor}, only open invoices issued by `as_of`."""
    result = {}
    for invoice_id, facts in invoices.items():
        open_minor = facts.open_as_of(as_of)
        if facts.issue_date <= as_of and open_minor > 0:
            result[invoice_id] = {bucket_key((as_of - facts.due_date).days): open_minor}
    return result


def expected_ar(invoices: dict[str, InvoiceFacts], start: date, end: date) -> dict[str, int]:
    """The AR figures behind DSO and CEI for a period (docs/architecture.md#metrics)."""
    opening = closing = current = sales = 0
    for facts in invoices.values():
        if facts.issue_date > end:
            continue
        if facts.issue_date < start and (before := facts.open_as_of(start - timedelta(1))) > 0:
            opening += before
        if facts.issue_date >= start:
            sales += facts.total_minor
        if (after := facts.open_as_of(end)) > 0:
            closing += after
            current += after if facts.due_date >= end else 0
    return {
        "opening_ar_minor": opening,
        "credit_sales_minor": sales,
        "closing_ar_minor": closing,
        "closing_current_ar_minor": current,
    }


@dataclass
class Faults:
    """What was injected, in order, with how long the system took to take it."""

    log: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    async def inject(self, what: str, action: Callable[[], Awaitable[None]]) -> None:
        began = time.perf_counter()
        await action()
        self.log.append(
            f"t+{began - self.started:5.1f}s {what} ({time.perf_counter() - began:.1f}"
            f" s until back)"
        )


@dataclass
class Harness:
    system: RunningSystem
    pg: EmbeddedPostgres
    broker: EmbeddedKafka
    relay: PlatformProcess
    consumers: dict[str, PlatformProcess]
    billing_consumer: str  # the consumer feeding the AR read model
    cluster: KafkaCluster | None = None


@asynccontextmanager
async def running_harness(
    logs: Path, pg: EmbeddedPostgres, broker: EmbeddedKafka, bootstrap: str
) -> AsyncIterator[Harness]:
    from reporting_service.spec import SPEC as REPORTING

    system = RunningSystem(
        pg.url,
        bootstrap,
        logs,
        service_env={
            "billing-adapter": {"RUN_RELAY": "false"},
            "reporting-service": {"RUN_CONSUMERS": "false"},
        },
    )
    consumers: dict[str, PlatformProcess] = {}
    relay: PlatformProcess | None = None
    try:
        await system.start(ready_within=240)  # generous: CI machines are shared
        relay = relay_process(
            system.databases["billing-adapter"],
            bootstrap,
            "billing-adapter",
            logs / "billing-relay.log",
            "--topic",
            BILLING_TOPIC,
            "--poll-interval",
            "0.2",
            "--request-timeout",
            "5",
            "--loss-check-interval",
            "1",
        )
        billing_consumer = ""
        for sub in REPORTING.subscriptions:
            group = REPORTING.group_id(sub)
            consumers[group] = reporting_consumer(
                system, bootstrap, group, sub.topics[0], logs / f"{group}-consumer.log"
            )
            if BILLING_TOPIC in sub.topics:
                billing_consumer = group
        await asyncio.gather(
            started(relay, "relay.leading"),
            *(started(c, "consumer.partitions_assigned") for c in consumers.values()),
        )
        yield Harness(system, pg, broker, relay, consumers, billing_consumer)
    finally:
        for proc in [relay, *consumers.values()]:
            if proc is not None:
                proc.stop()
        problems = await system.stop(drop_databases=False)
    assert not problems, problems


def reporting_consumer(
    system: RunningSystem,
    bootstrap: str,
    group: str,
    topic: str,
    log: Path,
    *extra: str,
    module: str = "receivables_platform.consumer",
) -> PlatformProcess:
    return consumer_process(
        system.databases["reporting-service"],
        bootstrap,
        group,
        topic,
        log,
        "--loss-check-interval",
        "1",
        *extra,
        handler=f"reporting_subscriptions:{group}",
        env={"PYTHONPATH": str(Path(__file__).parent)},
        module=module,
    )


@pytest.fixture
async def harness(
    tmp_path: Path, own_postgres: EmbeddedPostgres, own_broker: EmbeddedKafka
) -> AsyncIterator[Harness]:
    async with running_harness(
        tmp_path / "logs", own_postgres, own_broker, own_broker.bootstrap_servers
    ) as harness:
        yield harness


async def started(proc: PlatformProcess, up_when: str, timeout: float = 180) -> None:
    """Start a relay or consumer process and wait for the log line saying it works."""
    offset = proc.log.stat().st_size if proc.log.exists() else 0
    proc.start()
    deadline = time.monotonic() + timeout
    while up_when not in proc.log.read_bytes()[offset:].decode(errors="replace"):
        assert proc.running, f"{proc.args} exited; see {proc.log}"
        assert time.monotonic() < deadline, f"no {up_when!r} in {proc.log} within {timeout}s"
        await asyncio.sleep(0.2)


async def restart_postgres(pg: EmbeddedPostgres) -> None:
    """Crash-stop (no checkpoint, every connection cut) and start on the same port."""
    await asyncio.to_thread(pg.stop, "immediate")
    await asyncio.sleep(2)
    await asyncio.to_thread(pg.start)


async def drive_faults(h: Harness, faults: Faults) -> None:
    system = h.system

    async def kill_and_restart(service: str) -> None:
        system.kill(service)
        await asyncio.sleep(1)
        await system.restart(service, ready_within=240)

    async def bounce(proc: PlatformProcess, up_when: str, down: float = 2) -> None:
        proc.kill()
        await asyncio.sleep(down)
        await started(proc, up_when)

    async def freeze_broker() -> None:
        h.broker.freeze()
        await asyncio.sleep(6)
        h.broker.thaw()

    await asyncio.sleep(8)
    await faults.inject(
        "SIGKILL billing-adapter (API and its cases consumer), restart",
        lambda: kill_and_restart("billing-adapter"),
    )
    await asyncio.sleep(4)
    await faults.inject(
        "SIGKILL billing's outbox relay for 2 s, restart", lambda: bounce(h.relay, "relay.leading")
    )
    await asyncio.sleep(4)
    await faults.inject(
        f"SIGKILL reporting's billing consumer ({h.billing_consumer}), restart",
        lambda: bounce(h.consumers[h.billing_consumer], "consumer.partitions_assigned"),
    )
    await asyncio.sleep(4)
    await faults.inject("SIGSTOP the broker for 6 s, SIGCONT", freeze_broker)
    await asyncio.sleep(4)
    await faults.inject(
        "PostgreSQL stopped (immediate) and restarted on its port", lambda: restart_postgres(h.pg)
    )
    await asyncio.sleep(4)
    await faults.inject(
        "SIGKILL reporting-service API, restart", lambda: kill_and_restart("reporting-service")
    )
    await faults.inject(
        "SIGKILL case-service (API, relay, billing consumer), restart",
        lambda: kill_and_restart("case-service"),
    )


async def get_json(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str], params: dict[str, str]
) -> Any:
    async with http.get(url, params=params, headers=headers) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def reported_aging(
    http: aiohttp.ClientSession, system: RunningSystem, as_of: date
) -> dict[str, dict[str, int]]:
    """Reporting's invoice-level aging, every page, as invoice id -> non-zero buckets."""
    url = f"{system.url('reporting-service')}/v1/aging"
    params = {"group_by": "invoice", "as_of": as_of.isoformat(), "limit": "1000"}
    rows: list[dict[str, Any]] = []
    while True:
        page = await get_json(http, url, system.auth("supervisor"), params)
        rows.extend(page["rows"])
        if not page.get("next_cursor"):
            break
        params = {**params, "after": page["next_cursor"]}
    return {row["invoice_id"]: {k: v for k, v in row["buckets"].items() if v} for row in rows}


async def billing_events(system: RunningSystem) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(system.databases["billing-adapter"])
    try:
        return await conn.fetch("SELECT type, data::text AS data FROM events ORDER BY position")
    finally:
        await conn.close()


async def explain(system: RunningSystem, invoice_ids: list[str]) -> str:
    """For invoices reporting disagrees on: billing's events of each with their outbox
    state, and what reporting applied and claimed, so a failure says where one was lost."""
    billing = await asyncpg.connect(system.databases["billing-adapter"])
    reporting = await asyncpg.connect(system.databases["reporting-service"])
    lines = []
    try:
        for invoice_id in invoice_ids:
            events = await billing.fetch(
                """
                SELECT e.event_id::text AS event_id, e.type, e.position, o.published_at,
                       o.kafka_partition, o.kafka_offset
                FROM events e LEFT JOIN outbox o ON o.event_position = e.position
                WHERE strpos(e.data::text, $1) > 0 ORDER BY e.position""",
                invoice_id,
            )
            applied = await reporting.fetch(
                "SELECT event_id, kind, amount_minor FROM ar_balance_changes "
                "WHERE invoice_id = $1::uuid",
                invoice_id,
            )
            claimed = await reporting.fetch(
                "SELECT consumer_group, event_id FROM processed_events "
                "WHERE event_id = ANY($1::text[])",
                [e["event_id"] for e in events],
            )
            lines.append(f"invoice {invoice_id}:")
            lines += [f"  billing {dict(e)}" for e in events]
            lines += [f"  reporting applied {dict(a)}" for a in applied]
            lines += [f"  reporting claimed {dict(c)}" for c in claimed]
    except Exception as exc:  # the explanation must never hide the failure it explains
        lines.append(f"(could not explain: {exc!r})")
    finally:
        await billing.close()
        await reporting.close()
    return "\n".join(lines)


async def converge(
    http: aiohttp.ClientSession, system: RunningSystem, today: date, timeout: float
) -> dict[str, InvoiceFacts]:
    """Wait until reporting shows what billing stored (the caller's comparison then fails
    with the difference if it never does)."""
    deadline = time.monotonic() + timeout
    while True:
        invoices = recompute(await billing_events(system))
        expected = expected_aging(invoices, today)
        shown = await reported_aging(http, system, today)
        if shown == expected or time.monotonic() > deadline:
            return invoices
        await asyncio.sleep(1)


async def test_reporting_equals_billing_events_after_faults_under_load(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    faults = await under_load(harness, drive_faults, capsys)
    assert len(faults.log) == 7


async def under_load(
    harness: Harness,
    drive: Callable[[Harness, Faults], Awaitable[None]],
    capsys: pytest.CaptureFixture[str],
    *,
    converge_within: float = 180,
    min_invoices: int = 100,
) -> Faults:
    """The mixed workload while `drive` injects its faults; then reporting must equal the
    recomputation from billing's event store, to the cent."""
    system, today = harness.system, date.today()
    recorder, faults = Recorder(), Faults()
    timeout = aiohttp.ClientTimeout(total=10)
    connector = aiohttp.TCPConnector(keepalive_timeout=3)  # below uvicorn's 5 s
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        workload = MixedWorkload(
            http,
            {name: system.url(name) for name in system.processes},
            lambda role, sub: system.token(role, sub=sub),
            recorder,
            today=today,
            seed=8,
            lag_sample_every=1e9,
        )
        await workload.discover()
        await workload.warm_up(accounts=30)
        load = asyncio.create_task(workload.run(RATE, MAX_SECONDS, max_in_flight=150))
        await drive(harness, faults)
        await asyncio.sleep(5)  # some load on the recovered system too
        workload.stop()
        seconds = await load
        assert recorder.requests > RATE * seconds * 0.5, "the load did not run"

        invoices = await converge(http, system, today, timeout=converge_within)
        checked = []
        for as_of in (
            today,
            today - timedelta(days=45),
            today - timedelta(days=100),
            today + timedelta(days=40),
        ):
            expected = expected_aging(invoices, as_of)
            shown = await reported_aging(http, system, as_of)
            differing = sorted(
                k for k in shown.keys() | expected.keys() if shown.get(k) != expected.get(k)
            )
            assert shown == expected, f"aging as of {as_of}\n{await explain(system, differing[:5])}"
            checked.append(
                f"aging as of {as_of}: {len(expected)} open invoices, "
                f"{sum(sum(b.values()) for b in expected.values())} cents, per bucket"
            )
        checked.extend(await check_kpis(http, system, workload, invoices, today))

    paid = sum(1 for f in invoices.values() if f.changes)
    with capsys.disabled():
        print("\n== load during the faults\n" + report(recorder, seconds, RATE, workload.skipped))
        print(f"== injected ({len(faults.log)})\n" + "\n".join(faults.log))
        print(
            f"== checked against billing's event store ({len(invoices)} invoices, {paid} with "
            f"payments or adjustments)\n" + "\n".join(checked)
        )
    assert paid > 0 and len(invoices) > min_invoices, (
        "the workload must have paid and adjusted invoices"
    )
    return faults


async def check_kpis(
    http: aiohttp.ClientSession,
    system: RunningSystem,
    workload: MixedWorkload,
    invoices: dict[str, InvoiceFacts],
    today: date,
) -> list[str]:
    """The KPI report's AR figures equal the recomputation, for a month and a quarter-ish."""
    if not any(op.name == "reporting: KPIs" for op in workload.operations):
        raise AssertionError("reporting-service offers no /v1/kpis")
    checked = []
    url = f"{system.url('reporting-service')}/v1/kpis"
    month_start = today.replace(day=1)
    for start, end in ((month_start, today), (today - timedelta(days=90), today)):
        body = await get_json(
            http,
            url,
            system.auth("supervisor"),
            {"currency": "EUR", "from": start.isoformat(), "to": end.isoformat()},
        )
        [group] = [g for g in body["groups"] if g["key"] == "all"]
        expected = expected_ar(invoices, start, end)
        assert group["ar"] == expected, f"KPI AR figures {start}..{end}"
        days = (end - start).days + 1
        dso = Fraction(expected["closing_ar_minor"], expected["credit_sales_minor"]) * days
        opening_plus_sales = expected["opening_ar_minor"] + expected["credit_sales_minor"]
        cei = (
            Fraction(
                opening_plus_sales - expected["closing_ar_minor"],
                opening_plus_sales - expected["closing_current_ar_minor"],
            )
            * 100
        )
        if dso > 365:  # the period sold too little to divide by: withheld, with the reason
            assert (group["dso"], group["dso_withheld"]) == (None, "credit_sales_too_small")
        else:
            assert group["dso"] == pytest.approx(float(dso), abs=0.006), "DSO"
        assert group["cei"] == pytest.approx(float(cei), abs=0.006), "CEI"
        checked.append(
            f"KPI AR figures {start}..{end}: {expected}; DSO {group['dso']}, CEI {group['cei']}"
        )
    return checked


# -- the same on a three-node Apache Kafka cluster (`make test-kafka`) -----------------------


@pytest.fixture
async def cluster_harness(
    tmp_path: Path,
    own_postgres: EmbeddedPostgres,
    kafka_cluster: KafkaCluster,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Harness]:
    # every topic the services create: one node may go without losing an acked write
    monkeypatch.setenv("KAFKA_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("KAFKA_MIN_INSYNC_REPLICAS", "2")
    async with running_harness(
        tmp_path / "logs", own_postgres, kafka_cluster.nodes[0], kafka_cluster.bootstrap_servers
    ) as harness:
        harness.cluster = kafka_cluster
        yield harness


async def billing_leader(bootstrap: str, partition: int = 0) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        [described] = await admin.describe_topics([BILLING_TOPIC])
    finally:
        await admin.close()
    return int(next(p["leader"] for p in described["partitions"] if p["partition"] == partition))


async def drive_cluster_faults(h: Harness, faults: Faults) -> None:
    cluster = h.cluster
    assert cluster is not None
    logs = h.relay.log.parent
    # a second member of reporting's billing group, so killing one hands its partitions over
    partner = reporting_consumer(
        h.system,
        cluster.bootstrap_servers,
        h.billing_consumer,
        BILLING_TOPIC,
        logs / "billing-consumer-partner.log",
    )
    await started(partner, "consumer.partitions_assigned")

    async def kill_leader() -> None:
        node = cluster.node(await billing_leader(cluster.bootstrap_servers))
        await asyncio.to_thread(node.kill)
        await asyncio.sleep(6)
        await asyncio.to_thread(node.start)

    async def stop_broker(node: ApacheKafka) -> None:
        await asyncio.to_thread(node.stop_keeping_log)
        await asyncio.sleep(5)
        await asyncio.to_thread(node.start)

    async def freeze(node: ApacheKafka) -> None:
        node.freeze()
        await asyncio.sleep(8)
        node.thaw()

    async def kill_member() -> None:
        h.consumers[h.billing_consumer].kill()
        await asyncio.sleep(4)
        await started(h.consumers[h.billing_consumer], "consumer.partitions_assigned")

    try:
        await asyncio.sleep(8)
        await faults.inject(
            "SIGKILL the leader of billing.events.v1[0], restart after 6 s", kill_leader
        )
        await asyncio.sleep(6)
        await faults.inject(
            "stop broker 2 (SIGTERM, log kept) for 5 s, start", lambda: stop_broker(cluster.node(2))
        )
        await asyncio.sleep(6)
        await faults.inject("SIGSTOP broker 3 for 8 s, SIGCONT", lambda: freeze(cluster.node(3)))
        await asyncio.sleep(6)
        await faults.inject(
            "SIGKILL a member of reporting's billing group mid-batch, restart", kill_member
        )
    finally:
        partner.stop()


@pytest.mark.apache_kafka
async def test_reporting_equals_billing_events_after_cluster_faults_under_load(
    cluster_harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    faults = await under_load(cluster_harness, drive_cluster_faults, capsys)
    assert len(faults.log) == 4


# -- the check above catches a consumer without its one-transaction batches ------------------


async def replace_billing_member_by_one_crashing_mid_batch(
    h: Harness, faults: Faults, *, positions_first: bool
) -> None:
    """Reporting's billing consumer swapped for one that exits once just before applying an
    invoice issue (`crash_mid_batch`), then restarted: the "member killed mid-batch" fault,
    landing where it matters every time rather than wherever a SIGKILL falls."""
    logs = h.relay.log.parent
    bootstrap = h.cluster.bootstrap_servers if h.cluster else h.broker.bootstrap_servers
    crashing = reporting_consumer(
        h.system,
        bootstrap,
        h.billing_consumer,
        BILLING_TOPIC,
        logs / "crash-mid-batch.log",
        "--crash-marker",
        str(logs / "crashed-mid-batch"),
        *(["--positions-first"] if positions_first else []),
        module="crash_mid_batch",
    )

    async def crash_and_restart() -> None:
        h.consumers[h.billing_consumer].stop()
        h.consumers[h.billing_consumer] = crashing  # the harness stops it at the end
        await started(crashing, "consumer.partitions_assigned")
        deadline = time.monotonic() + 60
        while crashing.running:
            assert time.monotonic() < deadline, "no invoice was issued to crash before"
            await asyncio.sleep(0.2)
        assert crashing.wait(5) == FAULT_EXIT_CODE
        await started(crashing, "consumer.partitions_assigned")

    await asyncio.sleep(4)
    await faults.inject("reporting's billing consumer exits mid-batch, restart", crash_and_restart)


@pytest.mark.apache_kafka
@pytest.mark.parametrize(
    "positions_first", [False, True], ids=["one-transaction-batches", "positions-committed-first"]
)
async def test_the_cluster_check_fails_when_positions_are_committed_before_the_batch(
    cluster_harness: Harness, capsys: pytest.CaptureFixture[str], positions_first: bool
) -> None:
    """The proof that the cluster fault test can fail: with each batch in one transaction
    a crash mid-batch changes nothing; with the positions committed before the events
    are applied, the same crash loses an invoice and the recomputation says which."""

    async def drive(h: Harness, faults: Faults) -> None:
        await replace_billing_member_by_one_crashing_mid_batch(
            h, faults, positions_first=positions_first
        )

    if not positions_first:
        faults = await under_load(cluster_harness, drive, capsys, min_invoices=10)
        assert len(faults.log) == 1
        return
    with pytest.raises(AssertionError, match=r"(aging as of|KPI AR figures) ") as caught:
        await under_load(cluster_harness, drive, capsys, converge_within=15, min_invoices=10)
    system = cluster_harness.system
    crashed_before = (cluster_harness.relay.log.parent / "crashed-mid-batch").read_text()
    billing = await asyncpg.connect(system.databases["billing-adapter"])
    reporting = await asyncpg.connect(system.databases["reporting-service"])
    try:
        invoice_id = await billing.fetchval(
            "SELECT (data->>'invoice_id')::uuid FROM events WHERE event_id = $1::uuid",
            crashed_before,
        )
        # claimed as processed, yet never applied: the loss the check caught
        assert (
            await reporting.fetchval(
                "SELECT count(*) FROM processed_events WHERE event_id = $1", crashed_before
            )
            == 1
        )
        assert (
            await reporting.fetchval(
                "SELECT count(*) FROM ar_invoices WHERE invoice_id = $1", invoice_id
            )
            == 0
        )
    finally:
        await billing.close()
        await reporting.close()
    with capsys.disabled():
        print(f"\n== caught: the issue of invoice {invoice_id} was lost\n{caught.value}")
