"""A rebuild read by two worker processes builds what one process builds.

Two workers share the topic's partitions through the rebuild's consumer
group and write the same new tables at once (the aging sums of both meet in
the same per-due-date rows). The tables, the positions and the processed
event ids handed to the live group must be those of a rebuild by one
process, and the live consumers must go on from them.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

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
from receivables_platform.envelope import to_kafka
from receivables_platform.kafka.topics import ensure_topics
from receivables_platform.settings import KafkaSettings
from reporting_service.consumers.projections import PROJECTIONS
from reporting_service.service_layer.rebuild import rebuild
from reporting_service.spec import SPEC
from reporting_service.testing import cloud

GROUP = "reporting-service"
# compared without the row's write time, which is when the rebuild wrote it
UNTIMED = "to_jsonb(t) - 'updated_at' - 'created_at'"


def account_history(account: UUID, n: int) -> list[EventContract]:
    issued_on = date(2026, 6, 1) + timedelta(n % 40)
    invoice, payment = uuid4(), uuid4()
    total = 10_000 + 97 * n
    return [
        AccountRegistered(
            account_id=account,
            external_id=f"A-{n}",
            name="Customer",
            contacts=[],
            payment_terms_days=30,
            segment="smb",
            currency="USD",
        ),
        InvoiceIssued(
            invoice_id=invoice,
            account_id=account,
            external_id=f"B-{n}",
            currency="USD",
            total_minor=total,
            issue_date=issued_on,
            due_date=issued_on + timedelta(30),
        ),
        PaymentReceived(
            payment_id=payment,
            account_id=account,
            external_id=f"P-{n}",
            amount_minor=total // 2,
            currency="USD",
            method=PaymentMethod.ACH,
            received_on=issued_on + timedelta(20),
        ),
        PaymentApplied(
            payment_id=payment,
            account_id=account,
            invoice_id=invoice,
            amount_minor=total // 2,
            currency="USD",
            remaining_minor=total - total // 2,
            applied_on=issued_on + timedelta(20),
        ),
        InvoiceAdjusted(
            invoice_id=invoice,
            account_id=account,
            adjustment_id=uuid4(),
            kind=AdjustmentKind.CREDIT,
            amount_minor=100,
            currency="USD",
            reason_code="goodwill",
            effective_date=issued_on + timedelta(25),
        ),
    ]


async def produce(bootstrap: str, topic: str, contracts: list[EventContract]) -> None:
    """One record a batch: the embedded broker's end offset counts a batch of several as one."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for contract in contracts:
            key, value, headers = to_kafka(cloud(contract))
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def snapshot(conn: asyncpg.Connection) -> dict[str, list[str]]:
    """Every row the billing projection owns, and the consumer state handed to the live group."""
    rows = {
        table: sorted(
            json.dumps(json.loads(r[0]), sort_keys=True)
            for r in await conn.fetch(f"SELECT {UNTIMED} FROM {table} t")
        )
        for table in PROJECTIONS["billing"].tables
    }
    rows["consumer_offsets"] = [
        f"{r['partition']}:{r['next_offset']}"
        for r in await conn.fetch(
            "SELECT partition, next_offset FROM consumer_offsets WHERE consumer_group = $1 "
            "ORDER BY partition",
            GROUP,
        )
    ]
    rows["processed_events"] = [
        r["event_id"]
        for r in await conn.fetch(
            "SELECT event_id FROM processed_events WHERE consumer_group = $1 ORDER BY event_id",
            GROUP,
        )
    ]
    return rows


@pytest.mark.timeout(240)
async def test_two_workers_rebuild_the_tables_one_worker_builds(
    fresh_database, kafka_bootstrap: str
):
    url = await fresh_database(SPEC.versions_dir)
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_partitions=3)
    billing = replace(PROJECTIONS["billing"], topic=f"t{uuid4().hex[:10]}.billing.v1")
    await ensure_topics(kafka, [billing.topic])
    accounts = [uuid4() for _ in range(30)]
    await produce(
        kafka_bootstrap,
        billing.topic,
        [c for n, account in enumerate(accounts) for c in account_history(account, n)],
    )

    by_one = await rebuild(
        url, kafka, billing, GROUP, lambda _: None, interval=0.2, session_timeout_ms=3_000
    )
    conn = await asyncpg.connect(url)
    try:
        one = await snapshot(conn)
        by_two = await rebuild(
            url,
            kafka,
            billing,
            GROUP,
            lambda _: None,
            interval=0.2,
            workers=2,
            session_timeout_ms=3_000,
        )
        two = await snapshot(conn)
        assert by_one.swapped and by_two.swapped and by_two.applied == by_one.applied == 150
        assert len(one["ar_invoices"]) == 30 and len(one["ar_aging_by_due_date"]) > 0
        assert len(one["processed_events"]) == 150 and len(one["consumer_offsets"]) == 3
        assert two == one
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rebuild%' "
                "OR nspname LIKE 'retired%'"
            )
            == 0
        )
    finally:
        await conn.close()


async def test_worker_processes_only_run_the_handlers_of_the_services_projections(
    fresh_database, kafka_bootstrap: str
):
    """A worker finds its handler by the projection's name, so another handler is refused."""
    url = await fresh_database(SPEC.versions_dir)
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_partitions=3)
    unknown = replace(
        PROJECTIONS["billing"],
        topic=f"t{uuid4().hex[:10]}.billing.v1",
        handler=PROJECTIONS["cases"].handler,
    )
    with pytest.raises(ValueError, match="PROJECTIONS"):
        await rebuild(url, kafka, unknown, GROUP, lambda _: None, workers=2)
