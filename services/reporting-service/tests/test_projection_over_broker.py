"""Real CloudEvents through the real broker into the read model, and a rebuild from the topic.

Events are produced with the platform's Kafka binding (binary mode), some of
them twice and out of order across topics (an application before its
invoice, a promise before the account is known to billing); the service runs
its consumers and the aging API must show the result. Then the read model is
damaged and rebuilt from the topic into new tables while the service keeps
serving the damaged ones and its consumers keep applying new events, and the
new tables are swapped in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from receivables_platform.contracts.billing import InvoiceIssued, PaymentApplied
from receivables_platform.contracts.cases import (
    CaseOpened,
    CaseOrigin,
    CasePriority,
    CaseType,
)
from receivables_platform.contracts.collections import (
    AccountAssigned,
    AssignmentBasis,
    Channel,
    CommitmentMade,
    HoldPlaced,
    HoldSource,
)
from receivables_platform.db.pool import create_pool
from receivables_platform.envelope import CloudEvent, to_kafka
from receivables_platform.kafka.topics import ensure_topics
from receivables_platform.service import build_app
from receivables_platform.settings import KafkaSettings, ServiceSettings
from receivables_platform.web.auth import issue_token
from receivables_platform.web.testserver import running_server
from reporting_service.consumers.projections import PROJECTIONS
from reporting_service.service_layer.rebuild import Progress, rebuild
from reporting_service.spec import SPEC
from reporting_service.testing import cloud

SECRET = "test-secret-for-reporting-broker-012345"
AUTH = {"Authorization": f"Bearer {issue_token(SECRET, 'sue', ['supervisor'])}"}


async def produce(bootstrap: str, records: list[tuple[str, CloudEvent]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for topic, event in records:
            key, value, headers = to_kafka(event)
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


def reporting_settings(url: str, kafka: KafkaSettings) -> ServiceSettings:
    """A deployment of its own: the session's topics are shared, so a test's consumers join a
    group of their own (else a member of an earlier test's group, not yet expired, holds
    partitions this test's events are on, and they never reach its database)."""
    return SPEC.settings(
        database_url=url, jwt_secret=SECRET, kafka=kafka, consumer_group=f"rx-{uuid4().hex[:12]}"
    )


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the read model did not catch up"
        await asyncio.sleep(0.3)


@pytest.mark.timeout(240)
async def test_events_from_the_broker_reach_aging_and_a_rebuild_restores_them(
    fresh_database, kafka_bootstrap: str
):
    url = await fresh_database(SPEC.versions_dir)
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    billing, collections = PROJECTIONS["billing"].topic, PROJECTIONS["collections"].topic
    await ensure_topics(kafka, [billing, collections, PROJECTIONS["cases"].topic])
    account, invoice = uuid4(), uuid4()
    issued = cloud(
        InvoiceIssued(
            invoice_id=invoice,
            account_id=account,
            external_id="INV-B",
            currency="EUR",
            total_minor=9_000,
            issue_date=date(2026, 9, 1),
            due_date=date(2026, 10, 1),
        )
    )
    paid = cloud(
        PaymentApplied(
            payment_id=uuid4(),
            account_id=account,
            invoice_id=invoice,
            amount_minor=2_000,
            currency="EUR",
            remaining_minor=7_000,
            applied_on=date(2026, 10, 20),
        )
    )
    assigned = cloud(
        AccountAssigned(
            account_id=account,
            collector_id="bea",
            basis=AssignmentBasis.RULE,
            assigned_by="rules",
            effective_on=date(2026, 10, 2),
        ),
        source="urn:collections",
    )
    promised = cloud(
        CommitmentMade(
            commitment_id=uuid4(),
            account_id=account,
            collector_id="bea",
            amount_minor=7_000,
            currency="EUR",
            promised_date=date(2026, 11, 30),
            grace_days=0,
            invoice_ids=[invoice],
            channel=Channel.CALL,
            made_on=date(2026, 11, 2),
            made_at=issued.time,
        ),
        source="urn:collections",
    )
    # collections first, the payment before its invoice, and two redeliveries
    await produce(
        kafka_bootstrap,
        [
            (collections, assigned),
            (collections, promised),
            (billing, paid),
            (billing, issued),
            (billing, paid),
            (collections, assigned),
        ],
    )

    settings = reporting_settings(url, kafka)
    params = {"as_of": "2026-11-20", "account_id": str(account), "group_by": "collector"}
    async with (
        running_server(build_app(SPEC, settings)) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):

        async def aging_total() -> int | None:
            rows = (await client.get("/v1/aging", headers=AUTH, params=params)).json()["rows"]
            return sum(r["total_minor"] for r in rows) if rows else None

        async def projected() -> bool:
            # two consumers read the billing and collections topics: the invoice may be
            # projected before its assignment, as a row without a collector (the report
            # leaves a null out) until the assignment arrives
            rows = (await client.get("/v1/aging", headers=AUTH, params=params)).json()["rows"]
            return [(r.get("collector_id"), r["total_minor"]) for r in rows] == [("bea", 7_000)]

        await eventually(projected)
        status = (await client.get("/v1/status", headers=AUTH)).json()
        groups = {p["consumer_group"] for p in status["partitions"]}
        group = settings.consumer_group
        assert {group, f"{group}.collections", f"{group}.cases"} <= groups

        pool = await create_pool(url, max_size=4)
        try:
            indexes = await index_names(pool)
            await pool.execute(
                "DELETE FROM ar_balance_changes; UPDATE ar_invoices SET total_minor = 1"
            )
            served_while_building: list[int | None] = []
            later = issued_on(account, 4_000)

            async def report(progress: Progress) -> None:
                if not progress.swapped and not served_while_building:
                    served_while_building.append(await aging_total())
                    # an event the live consumer applies while the rebuild runs
                    await produce(kafka_bootstrap, [(billing, later)])
                    await eventually(lambda: live_has(pool, later))
                seen.append(progress)

            seen: list[Progress] = []
            done = await rebuild(
                url,
                kafka,
                PROJECTIONS["billing"],
                group,
                report,
                interval=0.2,
                session_timeout_ms=3_000,
            )
            assert served_while_building == [1]  # the damaged live tables kept serving
            assert done.swapped and done.applied == done.total and seen[-1] == done
            assert await aging_total() == 7_000 + 4_000  # rebuilt, and the later invoice too
            open_minor = await pool.fetchval(
                "SELECT sum(open_minor) FROM reporting.open_invoices_as_of('2026-11-20') "
                "WHERE account_id = $1",
                account,
            )
            assert open_minor == 11_000
            assert (
                await pool.fetchval(
                    "SELECT count(*) FROM reporting.invoices WHERE account_id = $1", account
                )
                == 2
            )
            assert (
                await pool.fetchval(
                    "SELECT count(*) FROM ar_balance_changes WHERE invoice_id = $1", invoice
                )
                == 1
            )
            assert await index_names(pool) == indexes
            assert (
                await pool.fetchval(
                    "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rebuild%' "
                    "OR nspname LIKE 'retired%'"
                )
                == 0
            )
            assert (
                await pool.fetchval(
                    "SELECT count(*) FROM consumer_offsets WHERE consumer_group LIKE '%.rebuild-%'"
                )
                == 0
            )
            # the other projections kept their rows
            assert (
                await pool.fetchval(
                    "SELECT collector_id FROM col_assignments WHERE account_id = $1", account
                )
                == "bea"
            )
            # the live consumer goes on, on the new tables
            await produce(kafka_bootstrap, [(billing, issued_on(account, 500))])
            await eventually(lambda: total_is(aging_total, 11_500))
        finally:
            await pool.close()


ANALYST_EXAMPLES = [  # from docs/analysts.md: each failed once one infinity was projected
    "SELECT currency, sum(open_minor) FILTER (WHERE days_past_due > 120) AS over_120, "
    "sum(open_minor) AS total FROM reporting.open_invoices GROUP BY currency",
    "SELECT currency, sum(open_minor) FILTER (WHERE DATE '2026-11-20' - due_date <= 0), "
    "sum(open_minor) FROM reporting.aging_movements WHERE effective_date <= DATE '2026-11-20' "
    "GROUP BY currency",
    "SELECT account_id, sum(open_minor) FROM reporting.open_invoices_as_of(DATE '2026-11-20') "
    "GROUP BY account_id",
]


@pytest.mark.timeout(180)
async def test_events_dated_outside_the_business_dates_are_set_aside_and_aging_keeps_answering(
    fresh_database, kafka_bootstrap: str
):
    """Issue 16: an invoice issued 0001-01-01 and due 9999-12-31, and a payment applied on
    9999-12-31, published as a deployment that stored them before the API refused such dates
    would publish them. Aging, snapshots and the analyst views made 500s and errors of them;
    now they are listed for an operator and everything else is reported."""
    url = await fresh_database(SPEC.versions_dir)
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    billing = PROJECTIONS["billing"].topic
    await ensure_topics(
        kafka, [billing, PROJECTIONS["collections"].topic, PROJECTIONS["cases"].topic]
    )
    sound, placeholder_account = uuid4(), uuid4()
    owed = cloud(
        InvoiceIssued(
            invoice_id=uuid4(),
            account_id=sound,
            external_id="INV-OK",
            currency="USD",
            total_minor=9_000,
            issue_date=date(2026, 9, 1),
            due_date=date(2026, 10, 1),
        )
    )
    far_payment = cloud(
        PaymentApplied(
            payment_id=uuid4(),
            account_id=sound,
            invoice_id=UUID(owed.data["invoice_id"]),
            amount_minor=1_000,
            currency="USD",
            remaining_minor=8_000,
            applied_on=date.max,
        )
    )
    placeholder = cloud(
        InvoiceIssued(
            invoice_id=uuid4(),
            account_id=placeholder_account,
            external_id="INV-DOTNET",
            currency="USD",
            total_minor=5_000,
            issue_date=date.min,
            due_date=date.max,
        )
    )
    later = cloud(
        InvoiceIssued(
            invoice_id=uuid4(),
            account_id=placeholder_account,
            external_id="INV-LATER",
            currency="USD",
            total_minor=700,
            issue_date=date(2026, 11, 2),
            due_date=date(2026, 12, 2),
        )
    )
    await produce(
        kafka_bootstrap,
        [(billing, e) for e in (owed, placeholder, far_payment, later, placeholder)],
    )

    settings = reporting_settings(url, kafka)
    async with (
        running_server(build_app(SPEC, settings)) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        pool = await create_pool(url, max_size=2)
        try:
            await eventually(lambda: live_has(pool, later))  # the last one published
            for group_by in ("invoice", "account", "currency", "collector", "segment"):
                for as_of in ("2026-11-20", "1990-01-01", "2099-12-31"):
                    aging = await client.get(
                        "/v1/aging",
                        headers=AUTH,
                        params={"currency": "USD", "as_of": as_of, "group_by": group_by},
                    )
                    assert aging.status_code == 200, (group_by, as_of, aging.text)
            # the topic is the session's: other tests' accounts are on it too
            by_account = (
                await client.get(
                    "/v1/aging",
                    headers=AUTH,
                    params={"currency": "USD", "as_of": "2026-11-20", "group_by": "account"},
                )
            ).json()
            assert {
                r["account_id"]: r["total_minor"]
                for r in by_account["rows"]
                if r["account_id"] in (str(sound), str(placeholder_account))
            } == {str(sound): 9_000, str(placeholder_account): 700}
            total = (
                await client.get(
                    "/v1/aging",
                    headers=AUTH,
                    params={"currency": "USD", "as_of": "2026-11-20", "group_by": "currency"},
                )
            ).json()
            snapshot = await client.post(
                "/v1/aging/snapshots", headers=AUTH, json={"date": "2026-11-20"}
            )
            assert snapshot.status_code == 201, snapshot.text
            assert snapshot.json()["totals_minor"]["USD"] == total["rows"][0]["total_minor"]
            for query in ANALYST_EXAMPLES:
                await pool.fetch(query)
            assert (
                await pool.fetchval(
                    "SELECT count(*) FROM reporting.set_aside_events WHERE event_id = ANY($1)",
                    [placeholder.id, far_payment.id],
                )
                == 2
            )
        finally:
            await pool.close()

        mine = {placeholder.id, far_payment.id}
        listed = (await client.get("/v1/admin/set-aside-events", headers=AUTH)).json()
        # two accounts, two partitions: the order they were set aside in is the consumer's
        assert {i["event_id"]: i["dates"] for i in listed["items"] if i["event_id"] in mine} == {
            placeholder.id: {
                "issue_date": "0001-01-01",
                "due_date": "9999-12-31",
                "instalments.0.due_date": "9999-12-31",
            },
            far_payment.id: {"applied_on": "9999-12-31"},
        }
        first = next(i for i in listed["items"] if i["event_id"] == placeholder.id)
        assert first["subject"] == str(placeholder_account)
        assert "outside the business dates" in first["reason"]
        paged: list[str] = []
        cursor = None
        while True:  # a page at a time, oldest first
            page = (
                await client.get(
                    "/v1/admin/set-aside-events",
                    headers=AUTH,
                    params={"limit": 1, **({"cursor": cursor} if cursor else {})},
                )
            ).json()
            paged += [i["event_id"] for i in page["items"]]
            if not (cursor := page["next_cursor"]):
                break
        assert paged == [i["event_id"] for i in listed["items"]]
        assert mine <= set(paged)
        collector = {"Authorization": f"Bearer {issue_token(SECRET, 'kim', ['collector'])}"}
        assert (
            await client.get("/v1/admin/set-aside-events", headers=collector)
        ).status_code == 403
        metrics = (await client.get("/metrics")).text
        assert f'consumer_events_set_aside_total{{group="{settings.consumer_group}",' in metrics


def issued_on(account: UUID, total: int) -> CloudEvent:
    return cloud(
        InvoiceIssued(
            invoice_id=uuid4(),
            account_id=account,
            external_id="INV-L",
            currency="EUR",
            total_minor=total,
            issue_date=date(2026, 9, 1),
            due_date=date(2026, 10, 1),
        )
    )


async def live_has(pool: asyncpg.Pool, event: CloudEvent) -> bool:
    invoice_id = UUID(str(event.data["invoice_id"]))
    return bool(
        await pool.fetchval("SELECT count(*) FROM ar_invoices WHERE invoice_id = $1", invoice_id)
    )


async def total_is(total: Callable[[], Awaitable[int | None]], expected: int) -> bool:
    return await total() == expected


async def index_names(pool: asyncpg.Pool) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT tablename, indexname FROM pg_indexes "
        "WHERE schemaname = 'public' AND tablename LIKE 'ar\\_%' "
        "ORDER BY 1, 2"
    )
    return [(r["tablename"], r["indexname"]) for r in rows]


async def test_resetting_a_projection_forgets_only_its_own_rows_and_positions(fresh_database):
    url = await fresh_database(SPEC.versions_dir)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("""
            INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset)
            VALUES ('reporting-service', 'billing.events.v1', 0, 5),
                   ('reporting-service.cases', 'cases.events.v1', 0, 7);
            INSERT INTO ar_invoice_flags (flag_id, invoice_id, flag, source, since_date)
            VALUES ('h', gen_random_uuid(), 'hold', 'x', current_date),
                   ('d', gen_random_uuid(), 'dispute', 'y', current_date);
            INSERT INTO col_assignments VALUES (gen_random_uuid(), 'ann', current_date)""")
        from reporting_service.service_layer.rebuild import reset_projection

        await reset_projection(conn, PROJECTIONS["cases"], "reporting-service.cases")
        assert await conn.fetchval("SELECT array_agg(flag) FROM ar_invoice_flags") == ["hold"]
        assert await conn.fetchval("SELECT array_agg(consumer_group) FROM consumer_offsets") == [
            "reporting-service"
        ]
        assert await conn.fetchval("SELECT count(*) FROM col_assignments") == 1
    finally:
        await conn.close()


@pytest.mark.timeout(240)
async def test_rebuilding_the_cases_projection_keeps_the_rows_it_shares_with_collections(
    fresh_database, kafka_bootstrap: str
):
    url = await fresh_database(SPEC.versions_dir)
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    cases_topic = f"t{uuid4().hex[:10]}.cases.v1"  # this test's own cases topic
    cases = replace(PROJECTIONS["cases"], topic=cases_topic)
    account, disputed, held = uuid4(), uuid4(), uuid4()
    opened_at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    case = CaseOpened(
        case_id=uuid4(),
        case_number="CASE-000007",
        account_id=account,
        type=CaseType.DISPUTE,
        origin=CaseOrigin.INBOUND_PHONE,
        priority=CasePriority.NORMAL,
        subject="Wrong seats",
        description="d",
        invoice_ids=[disputed],
        opened_by="agent",
        opened_at=opened_at,
        sla_target_days=14,
        sla_due_at=opened_at,
    )
    hold = HoldPlaced(
        hold_id=uuid4(),
        account_id=account,
        invoice_ids=[held],
        source=HoldSource.MANUAL,
        reason="promised by phone",
        placed_by="kim",
        placed_on=date(2026, 11, 3),
    )
    issued = [
        cloud(
            InvoiceIssued(
                invoice_id=i,
                account_id=account,
                external_id=f"INV-{n}",
                currency="EUR",
                total_minor=5_000,
                issue_date=date(2026, 9, 1),
                due_date=date(2026, 10, 1),
            )
        )
        for n, i in enumerate((disputed, held))
    ]
    conn = await asyncpg.connect(url)
    try:
        for event in issued:
            await PROJECTIONS["billing"].handler(conn, event)
        await PROJECTIONS["collections"].handler(conn, cloud(hold, source="urn:collections"))
        await produce(kafka_bootstrap, [(cases_topic, cloud(case, source="urn:cases"))])
        await conn.execute("DELETE FROM cases")  # damaged: the case must come back
        done = await rebuild(
            url,
            kafka,
            cases,
            "reporting-service.cases",
            lambda _: None,
            interval=0.2,
            session_timeout_ms=3_000,
        )
        assert done.swapped
        assert await conn.fetchval("SELECT case_number FROM cases") == "CASE-000007"
        flags = await conn.fetch("SELECT invoice_id, flag FROM ar_invoice_flags ORDER BY flag")
        assert [(f["invoice_id"], f["flag"]) for f in flags] == [
            (disputed, "dispute"),
            (held, "hold"),
        ]
        steps = await conn.fetchrow(
            "SELECT sum(in_dispute_minor) AS disputed, sum(on_hold_minor) AS held "
            "FROM ar_aging_steps WHERE effective_date <= '2026-11-20'"
        )
        assert (steps["disputed"], steps["held"]) == (5_000, 5_000)
    finally:
        await conn.close()
