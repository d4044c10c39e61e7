"""The consumer runner over real PostgreSQL and a real broker.

Each test feeds CloudEvents straight into Kafka (the relay is not involved)
and checks the `test_account_totals` read model, whose exact sums show any
event applied twice or missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from asyncpg.connection import LoggedQuery
from prometheus_client import REGISTRY

from receivables_devkit.infra.embedded_kafka import EmbeddedKafka
from receivables_devkit.testing.processes import consumer_process
from receivables_devkit.testing.totals import add_to_totals, read_totals
from receivables_platform.consumer import ConsumerRunner, Handler, PermanentError, handles
from receivables_platform.consumer import dead_letter as dlq
from receivables_platform.consumer.faults import EXIT_AFTER_DB_COMMIT, FAULT_EXIT_CODE
from receivables_platform.contracts.billing import InvoiceIssued
from receivables_platform.envelope import CloudEvent, to_kafka
from receivables_platform.kafka.end_offsets import partitions_of
from receivables_platform.kafka.topics import dead_letter_topic, ensure_topics
from receivables_platform.service import (
    ServiceSpec,
    Subscription,
    WithDependencies,
    consumer_worker,
)
from receivables_platform.settings import KafkaSettings, ServiceSettings
from receivables_platform.web.app import ServiceState

SOURCE = "urn:receivables:test-billing"
FAST_GROUP = {"session_timeout_ms": 3000, "heartbeat_interval_ms": 300}
Record = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]


def invoice(account: str, total_minor: int, **data: Any) -> CloudEvent:
    payload = {
        "invoice_id": str(uuid4()),
        "account_id": account,
        "external_id": f"INV-{uuid4().hex[:8]}",
        "currency": "EUR",
        "total_minor": total_minor,
        "issue_date": "2026-01-01",
        "due_date": "2026-01-31",
        **data,
    }
    return CloudEvent(
        source=SOURCE,
        type="billing.invoice.issued",
        subject=account,
        partitionkey=account,
        data=payload,
    )


def expected(events: Iterable[CloudEvent]) -> dict[str, tuple[int, int]]:
    totals: dict[str, tuple[int, int]] = {}
    for e in events:
        total, count = totals.get(e.subject, (0, 0))
        totals[e.subject] = (total + e.data["total_minor"], count + 1)
    return totals


def accounts(n: int) -> list[str]:
    return [str(uuid4()) for _ in range(n)]


async def produce(
    bootstrap: str, topic: str, items: Iterable[CloudEvent | Record], partition: int | None = None
) -> list[tuple[int, int]]:
    """Send in order and wait for each ack; returns (partition, offset) per item."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        placed = []
        for item in items:
            key, value, headers = to_kafka(item) if isinstance(item, CloudEvent) else item
            meta = await producer.send_and_wait(
                topic, value=value, key=key, headers=headers, partition=partition
            )
            placed.append((meta.partition, meta.offset))
        return placed
    finally:
        await producer.stop()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.1)


async def totals_of(pool: asyncpg.Pool) -> dict[str, tuple[int, int]]:
    async with pool.acquire() as conn:
        return await read_totals(conn)


async def wait_for_totals(
    pool: asyncpg.Pool, want: dict[str, tuple[int, int]], timeout: float = 30.0
) -> None:
    """Until the read model has every wanted account's event count, then compare exactly."""

    async def counted() -> bool:
        have = await totals_of(pool)
        return all(have.get(a, (0, 0))[1] >= n for a, (_, n) in want.items())

    with contextlib.suppress(TimeoutError):
        await eventually(counted, timeout)
    assert await totals_of(pool) == want


@contextlib.asynccontextmanager
async def running(runner: ConsumerRunner) -> AsyncIterator[ConsumerRunner]:
    task = asyncio.create_task(runner.run())
    try:
        yield runner
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def runner_for(
    pool: asyncpg.Pool,
    bootstrap: str,
    topic: str,
    group: str,
    handler: Handler = add_to_totals,
    **options: Any,
) -> ConsumerRunner:
    options = {"loss_check_interval": 1.0, "max_retry_wait": 0.5, **FAST_GROUP, **options}
    return ConsumerRunner(
        pool,
        KafkaSettings(bootstrap_servers=bootstrap),
        group_id=group,
        topics=[topic],
        handler=handler,
        **options,
    )


@pytest.fixture
def topic() -> str:
    return f"test.consumer.{uuid4().hex[:12]}.v1"


@pytest.fixture
def group() -> str:
    return f"test-consumer-{uuid4().hex[:12]}"


@pytest.fixture
async def topics_ready(kafka_bootstrap: str, topic: str) -> str:
    await ensure_topics(KafkaSettings(bootstrap_servers=kafka_bootstrap), [topic])
    return topic


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# -- 1. killed between the database commit and the Kafka commit --------------------------------


FAST = ("--max-batch", "3", "--loss-check-interval", "1")


def log_events(log: Path) -> list[str]:
    events = []
    for line in log.read_text().splitlines():
        with contextlib.suppress(ValueError):
            events.append(json.loads(line)["event"])
    return events


async def kafka_committed(bootstrap: str, topic: str, group: str) -> int:
    """What the group committed to Kafka, asked without joining the group."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = (await partitions_of(consumer, [topic]))[topic]
        committed = [await consumer.committed(TopicPartition(topic, p)) for p in partitions]
        return sum(offset or 0 for offset in committed)
    finally:
        await consumer.stop()


async def db_committed(pool: asyncpg.Pool, group: str) -> int:
    async with pool.acquire() as conn:
        return int(
            await conn.fetchval(
                "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets "
                "WHERE consumer_group = $1",
                group,
            )
        )


async def test_a_consumer_killed_between_db_and_kafka_commit_applies_nothing_twice(
    pool: asyncpg.Pool,
    platform_db: str,
    kafka_bootstrap: str,
    topics_ready: str,
    group: str,
    tmp_path: Path,
) -> None:
    topic = topics_ready
    events = [invoice(a, 100 + i) for i, a in enumerate(accounts(3) * 4)]
    await produce(kafka_bootstrap, topic, events)

    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    crashing = consumer_process(
        platform_db,
        kafka_bootstrap,
        group,
        topic,
        first_log,
        *FAST,
        env={EXIT_AFTER_DB_COMMIT: "2"},
    ).start()
    assert await asyncio.to_thread(crashing.wait, 45) == FAULT_EXIT_CODE, first_log.read_text()
    applied = sum(n for _, n in (await totals_of(pool)).values())
    assert 0 < applied < len(events)
    # the crash window was hit: the database is ahead of what Kafka was told
    told_kafka = await kafka_committed(kafka_bootstrap, topic, group)
    assert 0 < told_kafka < await db_committed(pool, group)

    restarted = consumer_process(
        platform_db, kafka_bootstrap, group, topic, second_log, *FAST
    ).start()
    try:
        await wait_for_totals(pool, expected(events), timeout=45)
    finally:
        await asyncio.to_thread(restarted.stop)
    resumed = log_events(second_log)
    assert "consumer.partitions_positioned" in resumed
    # resumed from the database's offsets, not re-read from Kafka's and deduplicated
    assert "consumer.duplicates_skipped" not in resumed


# -- 2. duplicate delivery ------------------------------------------------------------------------


async def test_the_same_cloudevent_delivered_twice_changes_the_read_model_once(
    pool: asyncpg.Pool, kafka_bootstrap: str, topics_ready: str, group: str
) -> None:
    topic = topics_ready
    a, b = accounts(2)
    first, second = invoice(a, 1_000), invoice(b, 2_000)
    async with running(runner_for(pool, kafka_bootstrap, topic, group)):
        # a relay re-send right behind the original: both in one batch
        await produce(kafka_bootstrap, topic, [first, first, second])
        await wait_for_totals(pool, expected([first, second]))
        # and one much later, at a new offset, after the original was committed
        later = invoice(a, 5)
        await produce(kafka_bootstrap, topic, [second, first, later])
        await wait_for_totals(pool, expected([first, second, later]))
    assert metric("consumer_duplicates_skipped_total", group=group, topic=topic) == 3


async def test_records_from_before_the_padded_sequence_are_read_and_deduplicated(
    pool: asyncpg.Pool, kafka_bootstrap: str, topics_ready: str, group: str
) -> None:
    """Envelope 1.x wrote `ce_sequence` unpadded and those records stay on the topics: they
    are applied like new ones, and the relay re-sending one in the padded form is the same
    event to deduplication."""
    topic = topics_ready
    account = accounts(1)[0]
    old, new = (invoice(account, 100).model_copy(update={"sequence": v}) for v in (9, 10))
    key, value, headers = to_kafka(old)
    unpadded = [(n, b"9" if n == "ce_sequence" else v) for n, v in headers]
    async with running(runner_for(pool, kafka_bootstrap, topic, group)):
        await produce(kafka_bootstrap, topic, [(key, value, unpadded), new, old])
        await wait_for_totals(pool, expected([old, new]))
    assert metric("consumer_duplicates_skipped_total", group=group, topic=topic) == 1


# -- 3. poison messages ---------------------------------------------------------------------------


async def read_dead_letters(bootstrap: str, topic: str, n: int, timeout: float = 20.0) -> list[Any]:
    consumer = AIOKafkaConsumer(
        dead_letter_topic(topic),
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            while len(found) < n:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found.extend(records)
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return sorted(found, key=lambda r: int(dict(r.headers)[dlq.ORIGINAL_OFFSET]))


def refusing(account: str) -> Handler:
    async def handler(conn: asyncpg.Connection, event: CloudEvent) -> None:
        await add_to_totals(conn, event)  # partial work that must not survive the refusal
        if event.subject == account:
            raise PermanentError("this account is closed")

    return handler


async def test_poison_messages_go_to_the_dead_letter_topic_and_the_partition_moves_on(
    pool: asyncpg.Pool, kafka_bootstrap: str, topics_ready: str, group: str
) -> None:
    topic = topics_ready
    good, closed = accounts(2)
    key, _, headers = to_kafka(invoice(good, 1))
    before, after = invoice(good, 10), invoice(good, 20)
    unknown = CloudEvent(
        source=SOURCE,
        type="billing.invoice.teleported",
        subject=good,
        partitionkey=good,
        data={"where": "mars"},
    )
    poison: list[CloudEvent | Record] = [
        before,
        (key, b"{not json", headers),  # not JSON
        (key, b'{"total_minor": 5}', [("content-type", b"application/json")]),  # no CloudEvent
        unknown,  # unknown type
        invoice(good, -5),  # invalid payload
        CloudEvent(**{**invoice(good, 7).model_dump(), "subject": closed}),  # handler refuses
        after,
    ]
    placed = await produce(kafka_bootstrap, topic, poison)
    assert len({p for p, _ in placed}) == 1  # one key, one partition: "after" comes last

    async with running(runner_for(pool, kafka_bootstrap, topic, group, refusing(closed))):
        await wait_for_totals(pool, expected([before, after]))
        letters = await read_dead_letters(kafka_bootstrap, topic, 5)

    assert [int(dict(r.headers)[dlq.ORIGINAL_OFFSET]) for r in letters] == [
        offset for _, offset in placed[1:6]
    ]
    classes = [dict(r.headers)[dlq.ERROR_CLASS].decode() for r in letters]
    assert classes == [
        "receivables_platform.envelope.InvalidEnvelope",
        "receivables_platform.envelope.InvalidEnvelope",
        "receivables_platform.contracts.base.UnknownEventType",
        "pydantic_core._pydantic_core.ValidationError",
        "receivables_platform.consumer.errors.PermanentError",
    ]
    for letter, (partition, offset) in zip(letters, placed[1:6], strict=True):
        h = dict(letter.headers)
        assert h[dlq.ORIGINAL_TOPIC].decode() == topic
        assert (int(h[dlq.ORIGINAL_PARTITION]), int(h[dlq.ORIGINAL_OFFSET])) == (partition, offset)
        assert h[dlq.CONSUMER_GROUP].decode() == group
        assert h[dlq.ERROR_MESSAGE]
    original = poison[1]
    assert isinstance(original, tuple)
    assert (letters[0].key, letters[0].value) == (original[0], original[1])
    assert all(h in letters[0].headers for h in original[2])
    assert b"not JSON" in dict(letters[0].headers)[dlq.ERROR_MESSAGE]
    assert b"closed" in dict(letters[4].headers)[dlq.ERROR_MESSAGE]


@handles(InvoiceIssued)
async def totals_of_invoices(conn: asyncpg.Connection, event: CloudEvent, deps: object) -> None:
    await add_to_totals(conn, event)


@contextlib.asynccontextmanager
async def through_a_service_spec(
    pool: asyncpg.Pool, bootstrap: str, topic: str, group: str
) -> AsyncIterator[None]:
    """The consumer a ServiceSpec runs for a subscription whose handler declares its types."""
    subscription = Subscription("default", [topic], WithDependencies(totals_of_invoices))
    assert subscription.event_types == frozenset({"billing.invoice.issued"})
    spec = ServiceSpec(
        name="test-service",
        title="test",
        default_port=0,
        database="test",
        versions_dir=Path("."),
        subscriptions=[subscription],
    )
    settings = ServiceSettings(
        service_name=spec.name,
        consumer_group=group,
        kafka=KafkaSettings(bootstrap_servers=bootstrap),
    )
    worker = consumer_worker(spec, subscription)
    task = asyncio.create_task(worker(ServiceState(settings, pool, dependencies=object())))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def given_the_types(
    pool: asyncpg.Pool, bootstrap: str, topic: str, group: str
) -> contextlib.AbstractAsyncContextManager[Any]:
    return running(
        runner_for(pool, bootstrap, topic, group, event_types={"billing.invoice.issued"})
    )


PAYMENT = "billing.payment.received"  # a type the invoice-totalling groups here do not handle


def retyped(account: str, event_type: str | None = None, value: bytes | None = None) -> Record:
    """An invoice's record under another `ce_type` header, with another body when given."""
    key, body, headers = to_kafka(invoice(account, 1))
    if event_type is not None:
        headers = [(n, v) for n, v in headers if n != "ce_type"] + [
            ("ce_type", event_type.encode())
        ]
    return key, body if value is None else value, headers


@pytest.mark.parametrize("consuming", [given_the_types, through_a_service_spec])
async def test_a_group_passes_over_types_it_does_not_handle_without_decoding_them(
    pool: asyncpg.Pool,
    kafka_bootstrap: str,
    topics_ready: str,
    group: str,
    consuming: Callable[..., contextlib.AbstractAsyncContextManager[Any]],
) -> None:
    """Issue 23: given to the runner, or declared by a subscription's handler (`handles`)."""
    topic = topics_ready
    account = accounts(1)[0]
    before, after = invoice(account, 10), invoice(account, 20)
    placed = await produce(
        kafka_bootstrap,
        topic,
        [
            before,
            # not this group's type: never parsed, so no dead letter
            retyped(account, PAYMENT, b"{not json"),
            retyped(account, value=b"{not json"),  # this group's type: parsed, dead-lettered
            after,
        ],
        partition=0,
    )

    async with consuming(pool, kafka_bootstrap, topic, group):
        await wait_for_totals(pool, expected([before, after]))
        letters = await read_dead_letters(kafka_bootstrap, topic, 1)
        await eventually(lambda: stored_offset_is(pool, group, topic, placed[-1][1] + 1))

    assert [int(dict(r.headers)[dlq.ORIGINAL_OFFSET]) for r in letters] == [placed[2][1]]


async def passed_over_or_stored(
    pool: asyncpg.Pool, group: str, topic: str, n: int, offset: int
) -> None:
    """Until the runner counted `n` records passed over, or stored the offset past them."""

    async def done() -> bool:
        value = REGISTRY.get_sample_value("consumer_records_passed_over_total", {"group": group})
        return (value or 0) >= n or await stored_offset_is(pool, group, topic, offset)

    await eventually(done)


async def test_records_only_passed_over_cost_no_transaction_of_their_own(
    pool: asyncpg.Pool, kafka_bootstrap: str, topics_ready: str, group: str
) -> None:
    """Issue 23: a batch holding only types the group does not handle changes no read model,
    so its position rides along with the next batch's transaction instead of opening one."""
    topic = topics_ready
    account = accounts(1)[0]
    first, last = invoice(account, 10), invoice(account, 20)
    async with running(
        runner_for(
            pool,
            kafka_bootstrap,
            topic,
            group,
            event_types={"billing.invoice.issued"},
            store_passed_over=3600,
        )
    ):
        [(_, at)] = await produce(kafka_bootstrap, topic, [first], partition=0)
        await eventually(lambda: stored_offset_is(pool, group, topic, at + 1))
        placed = await produce(
            kafka_bootstrap, topic, [retyped(account, PAYMENT) for _ in range(3)], partition=0
        )
        await passed_over_or_stored(pool, group, topic, 3, placed[-1][1] + 1)
        assert await stored_offset_is(pool, group, topic, at + 1)
        [(_, end)] = await produce(kafka_bootstrap, topic, [last], partition=0)
        await wait_for_totals(pool, expected([first, last]))
        await eventually(lambda: stored_offset_is(pool, group, topic, end + 1))


async def test_positions_past_passed_over_records_are_stored_before_long(
    pool: asyncpg.Pool, kafka_bootstrap: str, topics_ready: str, group: str
) -> None:
    """With no batch of the group's own types to carry it, the position is stored on its own
    within `store_passed_over` seconds; a runner started afterwards begins there."""
    topic = topics_ready
    account = accounts(1)[0]
    first, after = invoice(account, 10), invoice(account, 30)
    async with running(
        runner_for(
            pool,
            kafka_bootstrap,
            topic,
            group,
            event_types={"billing.invoice.issued"},
            store_passed_over=0.2,
        )
    ):
        await produce(kafka_bootstrap, topic, [first], partition=0)
        await wait_for_totals(pool, expected([first]))
        placed = await produce(
            kafka_bootstrap, topic, [retyped(account, PAYMENT) for _ in range(3)], partition=0
        )
        await eventually(lambda: stored_offset_is(pool, group, topic, placed[-1][1] + 1))
    async with running(
        runner_for(pool, kafka_bootstrap, topic, group, event_types={"billing.invoice.issued"})
    ):
        await produce(kafka_bootstrap, topic, [after], partition=0)
        await wait_for_totals(pool, expected([first, after]))


async def test_an_event_dated_outside_the_business_dates_is_set_aside_and_the_partition_moves_on(
    pool: asyncpg.Pool, kafka_bootstrap: str, topics_ready: str, group: str
) -> None:
    """Issue 16: stored before the edges refused it, such an event made every read of the
    read model fail; it is recorded for an operator, counted, and the rest is applied."""
    topic = topics_ready
    good = accounts(1)[0]
    before, after = invoice(good, 10), invoice(good, 20)
    placeholder = invoice(good, 7, issue_date="0001-01-01", due_date="9999-12-31")
    counted = metric(
        "consumer_events_set_aside_total", group=group, topic=topic, type="billing.invoice.issued"
    )
    await produce(kafka_bootstrap, topic, [before, placeholder, placeholder, after], partition=0)
    async with running(runner_for(pool, kafka_bootstrap, topic, group, AtOnce("nobody"))):
        await wait_for_totals(pool, expected([before, after]))
    [row] = await pool.fetch("SELECT * FROM set_aside_events")
    assert (row["event_id"], row["source"], row["consumer_group"], row["topic"]) == (
        placeholder.id,
        SOURCE,
        group,
        topic,
    )
    assert row["dates"] == {
        "issue_date": "0001-01-01",
        "due_date": "9999-12-31",
        "instalments.0.due_date": "9999-12-31",
    }
    assert "outside the business dates 1990-01-01 to 2099-12-31" in row["reason"]
    assert row["data"]["total_minor"] == 7 and row["kafka_offset"] == 1
    assert (
        metric(
            "consumer_events_set_aside_total",
            group=group,
            topic=topic,
            type="billing.invoice.issued",
        )
        == counted + 1
    )  # the redelivery is a duplicate


class AtOnce:
    """Applies a batch in one call; refuses the whole batch (after writing) if one is refused."""

    def __init__(self, closed: str) -> None:
        self.one = refusing(closed)
        self.closed = closed
        self.accepted: list[int] = []  # sizes of the batches applied at once
        self.refused = 0

    async def __call__(self, conn: asyncpg.Connection, event: CloudEvent) -> None:
        await self.one(conn, event)

    async def many(self, conn: asyncpg.Connection, events: Sequence[CloudEvent]) -> None:
        for event in events:
            await add_to_totals(conn, event)
        if any(e.subject == self.closed for e in events):
            self.refused += 1
            raise PermanentError("a closed account in the batch")
        self.accepted.append(len(events))


async def test_a_handler_that_applies_many_gets_the_batch_and_a_refused_one_goes_event_by_event(
    pool: asyncpg.Pool, kafka_bootstrap: str, topics_ready: str, group: str
) -> None:
    topic = topics_ready
    good, closed = accounts(2)
    kept = [invoice(good, 1), invoice(good, 20), invoice(good, 300), invoice(good, 4_000)]
    refused = invoice(closed, 7)
    # one partition, all there before the runner starts: its first poll holds them all
    await produce(
        kafka_bootstrap, topic, [kept[0], kept[0], kept[1], refused, *kept[2:]], partition=0
    )
    handler = AtOnce(closed)
    async with running(runner_for(pool, kafka_bootstrap, topic, group, handler)):
        await wait_for_totals(pool, expected(kept))
        [letter] = await read_dead_letters(kafka_bootstrap, topic, 1)
    assert b"closed" in dict(letter.headers)[dlq.ERROR_MESSAGE]
    assert max(handler.accepted) > 1
    assert handler.refused >= 1  # the batch with the closed account was refused, none of it kept


async def test_a_batch_applied_at_once_takes_no_savepoint(
    platform_db: str, kafka_bootstrap: str, topics_ready: str, group: str
) -> None:
    """Issue 23: a refused batch is redone event by event after a rollback of its whole
    transaction (the test above), so the batches that go through pay for no SAVEPOINT and
    RELEASE around the handler."""
    sent: list[str] = []

    def log(record: LoggedQuery) -> None:
        sent.append(record.query)

    async def logged(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(log)

    topic = topics_ready
    events = [invoice(a, 100 * n) for n, a in enumerate(accounts(4), start=1)]
    await produce(kafka_bootstrap, topic, events, partition=0)
    handler = AtOnce(closed="nobody")
    watched = await asyncpg.create_pool(platform_db, min_size=1, max_size=2, init=logged)
    try:
        async with running(runner_for(watched, kafka_bootstrap, topic, group, handler)):
            await wait_for_totals(watched, expected(events))
    finally:
        await watched.close()
    assert max(handler.accepted) > 1
    assert not [q for q in sent if "SAVEPOINT" in q.upper()], sent


# -- 4. transient failures ------------------------------------------------------------------------


def flaky(failures: int, sqlstate: str) -> tuple[Handler, list[int]]:
    """Writes, then has PostgreSQL raise `sqlstate`, the first `failures` times."""
    left = [failures]

    async def handler(conn: asyncpg.Connection, event: CloudEvent) -> None:
        await add_to_totals(conn, event)
        if left[0] > 0:
            left[0] -= 1
            await conn.execute(
                f"DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '{sqlstate}'; END $$"
            )

    return handler, left


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"])  # serialization failure, deadlock
async def test_a_transient_failure_is_retried_and_applied_exactly_once(
    pool: asyncpg.Pool, kafka_bootstrap: str, topics_ready: str, group: str, sqlstate: str
) -> None:
    topic = topics_ready
    handler, left = flaky(3, sqlstate)
    events = [invoice(a, 250) for a in accounts(2)]
    await produce(kafka_bootstrap, topic, events)
    async with running(runner_for(pool, kafka_bootstrap, topic, group, handler)):
        await wait_for_totals(pool, expected(events))
    assert left == [0]
    assert (
        metric(
            "consumer_retries_total",
            group=group,
            error_class="SerializationError" if sqlstate == "40001" else "DeadlockDetectedError",
        )
        == 3
    )
    assert metric("consumer_events_processed_total", group=group, topic=topic) == 2


# -- 5. broker restarted with all its data gone -------------------------------------------------


async def test_a_broker_that_lost_its_data_is_read_again_and_the_read_model_stays_exact(
    pool: asyncpg.Pool, own_broker: EmbeddedKafka, topic: str, group: str
) -> None:
    """Each old log holds a relay re-send, so the re-published log is shifted by one record.

    Everything goes to partition 0: any client's metadata request may re-create
    the lost topic with the broker's default partition count before the test does.
    """
    bootstrap = own_broker.bootstrap_servers
    kafka = KafkaSettings(bootstrap_servers=bootstrap, topic_partitions=1)
    await ensure_topics(kafka, [topic])
    account = accounts(1)[0]
    old = [invoice(account, 10 * (i + 1)) for i in range(6)]
    await produce(bootstrap, topic, [*old[:3], old[2], *old[3:]], partition=0)
    async with running(runner_for(pool, bootstrap, topic, group)):
        await wait_for_totals(pool, expected(old))

    # consumer stopped: the broker loses everything, the relay re-publishes, plus new events
    own_broker.restart()
    await ensure_topics(kafka, [topic])
    new = [invoice(account, 1_000), invoice(account, 2_000)]
    await produce(bootstrap, topic, [*old, *new], partition=0)  # new[0] where old[5] was
    async with running(runner_for(pool, bootstrap, topic, group)):
        await wait_for_totals(pool, expected([*old, *new]))
        assert metric("consumer_partition_restarts_total", group=group, topic=topic) == 1
        [(_, resent_at)] = await produce(bootstrap, topic, [new[1]], partition=0)  # a re-send
        await eventually(lambda: stored_offset_is(pool, group, topic, resent_at + 1))

        # consumer running: the same again, re-published as fast as it can be
        own_broker.restart()
        await ensure_topics(kafka, [topic])
        newer = [invoice(account, 30_000), invoice(account, 40_000)]
        await produce(bootstrap, topic, [*old, *new, *newer], partition=0)
        await wait_for_totals(pool, expected([*old, *new, *newer]))
        assert metric("consumer_partition_restarts_total", group=group, topic=topic) == 2


async def stored_offset_is(pool: asyncpg.Pool, group: str, topic: str, offset: int) -> bool:
    async with pool.acquire() as conn:
        return bool(
            await conn.fetchval(
                "SELECT next_offset = $3 FROM consumer_offsets"
                " WHERE consumer_group = $1 AND topic = $2 AND partition = 0",
                group,
                topic,
                offset,
            )
        )


async def recreate_topic(kafka: KafkaSettings, topic: str) -> None:
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()
    await ensure_topics(kafka, [topic], with_dead_letters=False)


async def test_records_fetched_after_a_quiet_spell_are_checked_before_they_are_applied(
    pool: asyncpg.Pool, kafka_bootstrap: str, topic: str, group: str
) -> None:
    """The relay re-published before anyone looked: no timer, no rebalance, no fetch error."""
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_partitions=1)
    await ensure_topics(kafka, [topic])
    account = accounts(1)[0]
    old = [invoice(account, 10 * (i + 1)) for i in range(5)]
    await produce(kafka_bootstrap, topic, [*old[:3], old[2], *old[3:]])  # one relay re-send
    entered, release = asyncio.Event(), asyncio.Event()

    async def held_at_old_3(conn: asyncpg.Connection, event: CloudEvent) -> None:
        if event.id == old[3].id and not release.is_set():
            entered.set()
            await release.wait()
        await add_to_totals(conn, event)

    runner = runner_for(
        pool, kafka_bootstrap, topic, group, held_at_old_3, max_batch=1, loss_check_interval=600
    )
    async with running(runner):
        async with asyncio.timeout(30):
            await entered.wait()
        # old[4] was fetched with old[3] and waits in the consumer while the log is rewritten
        await recreate_topic(kafka, topic)
        new = [invoice(account, 1_000), invoice(account, 2_000)]
        await produce(kafka_bootstrap, topic, [*old, *new])  # new[0] now sits where old[4] was
        await asyncio.sleep(runner.verify_after_quiet * 2)
        release.set()
        await wait_for_totals(pool, expected([*old, *new]))
    assert metric("consumer_partition_restarts_total", group=group, topic=topic) == 1


# -- 6. stored offsets win over the group's state in Kafka ----------------------------------------


async def test_a_consumer_starts_from_the_offsets_stored_in_the_database(
    pool: asyncpg.Pool, kafka_bootstrap: str, topics_ready: str, group: str
) -> None:
    topic = topics_ready
    account = accounts(1)[0]
    events = [invoice(account, 1 + i) for i in range(6)]
    placed = await produce(kafka_bootstrap, topic, events)
    partition, third = placed[3]
    # the database says the first three were applied; Kafka has never heard of this group
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset,"
            " last_event_id) VALUES ($1, $2, $3, $4, $5)",
            group,
            topic,
            partition,
            third,
            events[2].id,
        )
    sentinel = invoice(account, 1_000_000)
    async with running(runner_for(pool, kafka_bootstrap, topic, group)):
        await produce(kafka_bootstrap, topic, [sentinel])
        await wait_for_totals(pool, expected([*events[3:], sentinel]))
        assert (
            REGISTRY.get_sample_value(
                "consumer_lag_records",
                {"group": group, "topic": topic, "partition": str(partition)},
            )
            == 0
        )
    async with pool.acquire() as conn:
        stored = await conn.fetchrow(
            "SELECT next_offset, last_event_id FROM consumer_offsets"
            " WHERE consumer_group = $1 AND topic = $2 AND partition = $3",
            group,
            topic,
            partition,
        )
    assert (stored["next_offset"], stored["last_event_id"]) == (placed[-1][1] + 2, sentinel.id)


# -- 9. a database that lost the consumer's latest commits ----------------------------------------


async def forget_last_commits(
    pool: asyncpg.Pool, group: str, topic: str, lost: Sequence[CloudEvent], back_to: tuple[int, int]
) -> None:
    """What a failover to a replica that missed the last commits leaves: no claims, no
    read-model changes and the stored position from before those events."""
    partition, offset = back_to
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "DELETE FROM processed_events WHERE consumer_group = $1 AND event_id = ANY($2::text[])",
            group,
            [e.id for e in lost],
        )
        for event in lost:
            await conn.execute(
                "UPDATE test_account_totals SET total_minor = total_minor - $2,"
                " events = events - 1 WHERE account = $1",
                event.subject,
                event.data["total_minor"],
            )
        await conn.execute(
            "UPDATE consumer_offsets SET next_offset = $4, last_event_id = NULL "
            "WHERE consumer_group = $1 AND topic = $2 AND partition = $3",
            group,
            topic,
            partition,
            offset,
        )


async def test_events_a_database_lost_are_read_again_not_skipped(
    pool: asyncpg.Pool, kafka_bootstrap: str, topics_ready: str, group: str
) -> None:
    topic = topics_ready
    account = accounts(1)[0]
    events = [invoice(account, 10**i) for i in range(4)]
    moved_before = metric("consumer_positions_moved_total", group=group, topic=topic)
    async with running(runner_for(pool, kafka_bootstrap, topic, group)):
        placed = await produce(kafka_bootstrap, topic, events[:3])
        await wait_for_totals(pool, expected(events[:3]))
        await forget_last_commits(pool, group, topic, events[1:3], back_to=placed[1])
        await produce(kafka_bootstrap, topic, events[3:])
        await wait_for_totals(pool, expected(events))
    assert metric("consumer_positions_moved_total", group=group, topic=topic) > moved_before
