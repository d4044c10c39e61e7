"""Corrections asked by cases: applied as `invoice.adjusted` or answered `correction.rejected`.

Over real PostgreSQL (the use case in the consumer's transaction), and once
through the real broker: a `case.correction_requested` CloudEvent on
`cases.events.v1`, consumed by the platform's runner with billing's handler.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from billing_adapter.domain.commands import IssueInvoice, RegisterAccount
from billing_adapter.service_layer import accounts
from billing_adapter.service_layer.corrections import answer_case_event
from billing_adapter.settings import BillingDependencies, StripeSettings
from billing_adapter.spec import SPEC
from receivables_platform.business_dates import business_dates
from receivables_platform.consumer.runner import ConsumerRunner
from receivables_platform.contracts.billing import CorrectionRejected, InvoiceAdjusted
from receivables_platform.contracts.cases import TOPIC as CASES
from receivables_platform.contracts.cases import CaseCorrectionRequested, CorrectionDirection
from receivables_platform.db.pool import create_pool
from receivables_platform.envelope import CloudEvent, to_kafka
from receivables_platform.kafka.topics import ensure_topics
from receivables_platform.service import WithDependencies
from receivables_platform.settings import KafkaSettings

DEPENDENCIES = BillingDependencies(StripeSettings())

CASE_SOURCE = "urn:receivables:case-service"


@pytest.fixture
async def pool(fresh_database) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(await fresh_database(SPEC.versions_dir))
    yield pool
    await pool.close()


async def open_invoice(
    pool: asyncpg.Pool, total: int = 10_000, currency: str = "USD"
) -> tuple[UUID, UUID]:
    account_id, invoice_id = uuid4(), uuid4()
    async with pool.acquire() as conn:
        await accounts.register_account(
            conn,
            RegisterAccount(
                account_id=account_id,
                external_id=f"CUS-{account_id.hex[:8]}",
                name="Acme",
                currency=currency,
                payment_terms_days=30,
            ),
        )
        await accounts.issue_invoice(
            conn,
            IssueInvoice(
                invoice_id=invoice_id,
                account_id=account_id,
                external_id=f"INV-{invoice_id.hex[:8]}",
                total_minor=total,
                issue_date=date(2026, 10, 1),
                due_date=date(2026, 10, 31),
            ),
        )
    return account_id, invoice_id


def request_event(
    account_id: UUID,
    invoice_id: UUID,
    *,
    amount: int = 2_500,
    direction: CorrectionDirection = CorrectionDirection.CREDIT,
    currency: str = "USD",
    correction_id: UUID | None = None,
    requested_at: datetime = datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
) -> CloudEvent:
    request = CaseCorrectionRequested(
        case_id=uuid4(),
        case_number="CASE-000042",
        account_id=account_id,
        correction_id=correction_id or uuid4(),
        invoice_id=invoice_id,
        amount_minor=amount,
        direction=direction,
        currency=currency,
        reason="billed the wrong plan",
        reason_code="account_setup",
        requested_by="agent-7",
        requested_at=requested_at,
    )
    return CloudEvent(
        source=CASE_SOURCE,
        type=request.event_type,
        subject=str(account_id),
        partitionkey=str(account_id),
        correlationid=str(uuid4()),
        data=request.model_dump(mode="json"),
    )


async def answer(pool: asyncpg.Pool, event: CloudEvent) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await answer_case_event(conn, event, DEPENDENCIES)


async def billing_events(pool: asyncpg.Pool, *types: str) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return await conn.fetch(
            "SELECT stream_id, type, data, causation_id, correlation_id FROM events "
            "WHERE type = ANY($1::text[]) ORDER BY position",
            list(types),
        )


async def open_balance(pool: asyncpg.Pool, invoice_id: UUID) -> int:
    async with pool.acquire() as conn:
        loaded = await accounts.get_invoice(conn, invoice_id)
    return loaded.state.invoices[invoice_id].open_minor


async def test_a_credit_is_applied_as_an_adjustment_caused_by_the_request(pool):
    account_id, invoice_id = await open_invoice(pool)
    event = request_event(account_id, invoice_id, amount=2_500)
    await answer(pool, event)

    assert await open_balance(pool, invoice_id) == 7_500
    [adjusted] = await billing_events(pool, InvoiceAdjusted.event_type)
    data = InvoiceAdjusted.model_validate(adjusted["data"])
    assert data.adjustment_id == UUID(event.data["correction_id"])
    assert data.case_id == event.data["case_id"]
    assert (data.kind, data.amount_minor, data.reason_code) == ("credit", 2_500, "account_setup")
    assert data.actor == "agent-7"
    assert adjusted["causation_id"] == event.id
    assert adjusted["correlation_id"] == event.correlationid


async def test_a_debit_raises_the_balance(pool):
    account_id, invoice_id = await open_invoice(pool)
    await answer(
        pool, request_event(account_id, invoice_id, amount=900, direction=CorrectionDirection.DEBIT)
    )
    assert await open_balance(pool, invoice_id) == 10_900


@pytest.mark.parametrize(
    ("change", "reason_code"),
    [
        ({"amount": 10_001}, "credit_exceeds_open_balance"),
        ({"currency": "EUR"}, "currency_mismatch"),
        ({"invoice_id": uuid4()}, "not_found"),
        ({"account_id": uuid4()}, "invoice_of_another_account"),
    ],
)
async def test_an_invalid_request_is_rejected_with_the_reason_and_changes_nothing(
    pool, change, reason_code
):
    account_id, invoice_id = await open_invoice(pool)
    event = request_event(
        change.get("account_id", account_id),
        change.get("invoice_id", invoice_id),
        amount=change.get("amount", 2_500),
        currency=change.get("currency", "USD"),
    )
    await answer(pool, event)

    assert await open_balance(pool, invoice_id) == 10_000
    assert await billing_events(pool, InvoiceAdjusted.event_type) == []
    [rejected] = await billing_events(pool, CorrectionRejected.event_type)
    data = CorrectionRejected.model_validate(rejected["data"])
    assert data.reason_code == reason_code
    assert data.correction_id == event.data["correction_id"]
    assert data.case_id == event.data["case_id"]
    assert data.detail
    assert data.actor == "agent-7"  # the case's requester, as on an applied correction
    assert rejected["causation_id"] == event.id


@pytest.mark.parametrize(
    "requested_at",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        datetime(1989, 12, 31, 12, tzinfo=UTC),
    ],
)
async def test_a_request_dated_outside_the_business_dates_is_rejected_not_left_waiting(
    pool, requested_at, monkeypatch
):
    """A case stored before instants were range-checked still gets its answer: the
    adjustment would be dated outside the range, so billing refuses it with the reason."""
    monkeypatch.setenv("TEAM_TIMEZONE", "America/New_York")  # year 1 at midnight UTC is year 0
    business_dates.cache_clear()
    try:
        account_id, invoice_id = await open_invoice(pool)
        event = request_event(account_id, invoice_id, requested_at=requested_at)
        await answer(pool, event)
    finally:
        business_dates.cache_clear()

    assert await open_balance(pool, invoice_id) == 10_000
    assert await billing_events(pool, InvoiceAdjusted.event_type) == []
    [rejected] = await billing_events(pool, CorrectionRejected.event_type)
    data = CorrectionRejected.model_validate(rejected["data"])
    assert data.correction_id == event.data["correction_id"]
    assert data.reason_code == "outside_the_business_dates", data.detail
    assert "requested_at" in data.detail


async def test_the_same_correction_sent_again_is_answered_once(pool):
    account_id, invoice_id = await open_invoice(pool)
    first = request_event(account_id, invoice_id, amount=1_000)
    again = first.model_copy(update={"id": str(uuid4())})  # a new event id, same correction
    await answer(pool, first)
    await answer(pool, again)
    assert await open_balance(pool, invoice_id) == 9_000
    assert len(await billing_events(pool, InvoiceAdjusted.event_type)) == 1

    refused = request_event(account_id, invoice_id, amount=99_999)
    await answer(pool, refused)
    await answer(pool, refused.model_copy(update={"id": str(uuid4())}))
    assert len(await billing_events(pool, CorrectionRejected.event_type)) == 1


async def test_other_case_events_are_ignored(pool):
    account_id, invoice_id = await open_invoice(pool)
    other = request_event(account_id, invoice_id).model_copy(
        update={"type": "cases.case.note_added", "data": {"anything": True}}
    )
    await answer(pool, other)
    assert (
        await billing_events(pool, InvoiceAdjusted.event_type, CorrectionRejected.event_type) == []
    )


@pytest.mark.timeout(120)
async def test_a_request_on_the_cases_topic_is_applied_once_even_when_delivered_twice(
    pool, kafka_bootstrap: str
):
    account_id, invoice_id = await open_invoice(pool)
    event = request_event(account_id, invoice_id, amount=3_000)
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    await ensure_topics(kafka, [CASES])
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        key, value, headers = to_kafka(event)
        for _ in range(2):  # a producer retry: the same CloudEvent twice on the topic
            await producer.send_and_wait(CASES, value=value, key=key, headers=headers)
    finally:
        await producer.stop()

    runner = ConsumerRunner(
        pool,
        kafka,
        group_id=f"billing-corrections-{uuid4().hex[:8]}",
        topics=[CASES],
        loss_check_interval=1.0,
        handler=WithDependencies(answer_case_event).bind(DEPENDENCIES),
        session_timeout_ms=3000,
        heartbeat_interval_ms=300,
    )
    task = asyncio.create_task(runner.run())
    try:
        async with asyncio.timeout(60):
            while await open_balance(pool, invoice_id) != 7_000:
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)  # time for a second application, were there one
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert await open_balance(pool, invoice_id) == 7_000
    mine = [
        r
        for r in await billing_events(pool, InvoiceAdjusted.event_type)
        if r["causation_id"] == event.id
    ]
    assert len(mine) == 1
