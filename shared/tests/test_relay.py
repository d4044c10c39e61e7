"""The outbox relay over real PostgreSQL and a real Kafka-protocol broker.

Each test uses its own topic on the shared broker, or a broker of its own
when it freezes or restarts it. The fault tests check outcomes a consumer
would see: every appended event id is on the topic (duplicates are allowed,
the relay is at-least-once), and one key's events are in order.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.structs import RecordMetadata
from prometheus_client import REGISTRY

from receivables_devkit.infra.apache_kafka import broker_choice
from receivables_devkit.infra.embedded_kafka import EmbeddedKafka
from receivables_devkit.testing.processes import PlatformProcess, relay_process
from receivables_platform.contracts.billing import InvoiceIssued
from receivables_platform.contracts.cases import Attachment, CaseNoteAdded
from receivables_platform.envelope import from_kafka, to_kafka
from receivables_platform.relay import OutboxRelay, broker
from receivables_platform.relay.admin import outbox_admin_router
from receivables_platform.relay.outbox import OutboxRow
from receivables_platform.relay.relay import WaitingLock
from receivables_platform.relay.settlement import InvalidRecordError, settle
from receivables_platform.settings import KafkaSettings, ServiceSettings
from receivables_platform.store import (
    OUTBOX_CHANNEL,
    RELAY_WAITING_LOCK,
    EventStore,
    EventTooLarge,
    PendingStream,
    RecordedEvent,
)
from receivables_platform.web.app import create_app
from receivables_platform.web.auth import issue_token
from receivables_platform.web.testserver import running_server

pytestmark = pytest.mark.timeout(90)

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


# ---------------------------------------------------------------- helpers


def new_store() -> EventStore:
    return EventStore(source="relay-test", topic=f"t{uuid4().hex[:12]}.events.v1")


def issued(account: str) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id=uuid4(),
        account_id=account,
        external_id="INV-1",
        currency="EUR",
        total_minor=1000,
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
    )


def invoice_stream(account: str, external_id: str = "INV-1") -> PendingStream:
    """A new invoice for the account: a new stream, keyed (and ordered) by the account."""
    event = issued(account).model_copy(update={"external_id": external_id})
    return PendingStream(f"invoice-{uuid4()}", 0, [event], subject=account)


async def append(
    pool: asyncpg.Pool,
    store: EventStore,
    accounts: list[str],
    per_transaction: int = 1,
    transactions: int = 1,
) -> list[RecordedEvent]:
    recorded: list[RecordedEvent] = []
    for t in range(transactions):
        streams = [
            invoice_stream(accounts[(t * per_transaction + i) % len(accounts)])
            for i in range(per_transaction)
        ]
        async with pool.acquire() as conn:
            recorded += await store.append(conn, streams)
    return recorded


def accounts(n: int) -> list[str]:
    return [str(uuid4()) for _ in range(n)]


@dataclass(frozen=True)
class Seen:
    event_id: str
    key: str
    partition: int
    offset: int
    traceparent: str | None


async def read_topic(
    bootstrap: str, topic: str, want: set[str], timeout: float = 20.0
) -> list[Seen]:
    """Everything on the topic, from the start, until every wanted id was seen or time is up."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: list[Seen] = []
    try:
        deadline = time.monotonic() + timeout
        while not want <= {s.event_id for s in seen} and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for r in records:
                    event = from_kafka(r.value, r.headers)
                    seen.append(
                        Seen(event.id, r.key.decode(), r.partition, r.offset, event.traceparent)
                    )
    finally:
        await consumer.stop()
    return seen


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(relay.run())
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def drained(relay: OutboxRelay) -> bool:
    return await relay.backlog() == 0


def ids(events: list[RecordedEvent]) -> set[str]:
    return {str(e.event_id) for e in events}


def relay_for(
    pool: asyncpg.Pool,
    bootstrap: str,
    service_name: str | None = None,
    *,
    request_timeout: float = 5.0,
    loss_check_interval: float = 1.0,
) -> OutboxRelay:
    return OutboxRelay(
        pool,
        KafkaSettings(bootstrap_servers=bootstrap),
        service_name=service_name or f"relay-test-{uuid4().hex[:8]}",
        batch_size=100,
        poll_interval=0.05,
        lock_retry_interval=0.1,
        request_timeout=request_timeout,
        loss_check_interval=loss_check_interval,
    )


# ------------------------------------------------------------ ordering


async def test_a_late_commit_is_neither_skipped_nor_overtaken(
    pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    store, account = new_store(), str(uuid4())
    async with relay_for(pool, kafka_bootstrap) as relay:
        async with pool.acquire() as conn_a:
            late = conn_a.transaction()
            await late.start()
            [a] = await store.append(conn_a, [invoice_stream(account)])
            [b] = await append(pool, store, [account])

            held = await relay.publish_once()
            assert (held.published, held.blocked) == (0, True), "B went out while A was open"

            await late.commit()
        async with pool.acquire() as conn:
            await conn.execute("UPDATE events SET traceparent = $1", TRACEPARENT)
        for _ in range(5):
            if not (await relay.publish_once()).published:
                break
        assert await relay.backlog() == 0

    seen = await read_topic(kafka_bootstrap, store.topic, {str(a.event_id), str(b.event_id)})
    assert [s.event_id for s in seen] == [str(a.event_id), str(b.event_id)]
    assert {s.key for s in seen} == {account}
    assert {s.traceparent for s in seen} == {TRACEPARENT}


# ------------------------------------------------------------ pacing


async def published_at(pool: asyncpg.Pool, event: RecordedEvent) -> datetime | None:
    return await pool.fetchval(
        "SELECT o.published_at FROM outbox o JOIN events e ON e.position = o.event_position "
        "WHERE e.event_id = $1",
        event.event_id,
    )


async def test_a_steady_stream_of_commits_goes_out_in_a_few_passes(
    pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    """Woken by each commit, the relay would publish (and every consumer apply) them one by
    one; passes spaced `pass_interval` apart take what came in between at once."""
    store, account = new_store(), str(uuid4())
    relay = relay_for(pool, kafka_bootstrap)
    relay.pass_interval = 0.25
    events: list[RecordedEvent] = []
    async with running(relay):
        began = time.monotonic()
        for _ in range(20):  # a commit every 25 ms or so
            events += await append(pool, store, [account])
            await asyncio.sleep(0.025)
        streamed = time.monotonic() - began
        await wait_until(partial(drained, relay), 10, "the relay to publish the stream")
    passes = await pool.fetchval(
        "SELECT count(DISTINCT published_at) FROM outbox WHERE topic = $1", store.topic
    )
    # one pass at the start, then one an interval while the stream lasts, one after it;
    # unpaced, a pass a commit: 20
    assert 2 <= passes <= 2 + math.ceil(streamed / relay.pass_interval) < 20
    seen = await read_topic(kafka_bootstrap, store.topic, ids(events))
    assert [s.event_id for s in seen] == [str(e.event_id) for e in events]


async def test_the_first_commit_after_a_quiet_spell_goes_out_at_once(
    pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    store, account = new_store(), str(uuid4())
    relay = relay_for(pool, kafka_bootstrap)
    relay.pass_interval = 2.0
    async with running(relay):
        await append(pool, store, [account])  # the producer and the topic, set up first
        await wait_until(partial(drained, relay), 10, "the warm-up event to go out")
        await asyncio.sleep(relay.pass_interval)  # quiet: no pass published for a while
        [first] = await append(pool, store, [account])
        began = time.monotonic()
        while await published_at(pool, first) is None:
            assert time.monotonic() - began < 1.0, "the first commit waited for the interval"
            await asyncio.sleep(0.01)
        [second] = await append(pool, store, [account])
        await asyncio.sleep(0.3)
        assert await published_at(pool, second) is None, "a pass right after one went out"
        await wait_until(partial(drained, relay), 10, "the next pass")
    first_at, second_at = await published_at(pool, first), await published_at(pool, second)
    assert first_at is not None and second_at is not None
    assert (second_at - first_at).total_seconds() >= 1.5  # passes end, not start, at these


async def test_a_stream_of_commits_goes_out_without_notifying_the_relay(
    pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    """Once a pass finds a stream (three commits or more since the last), the relay passes by
    itself and the commits in between skip their NOTIFY: one fewer wake-up of the relay
    and of its backend a commit, and no commit-time lock on the notify queue."""
    store, account = new_store(), str(uuid4())
    relay = relay_for(pool, kafka_bootstrap)
    relay.pass_interval = 0.05
    notified: list[str] = []
    async with pool.acquire() as listener:
        await listener.add_listener(OUTBOX_CHANNEL, lambda *args: notified.append(args[-1]))
        events = await append(pool, store, [account])  # the producer and topic, set up first
        async with running(relay):
            await wait_until(partial(drained, relay), 10, "the warm-up event to go out")
            await wait_until(partial(relay_waits, pool), 10, "the relay to wait for commits")
            notified.clear()
            for _ in range(40):  # a commit every 10 ms or so: about five a pass
                events += await append(pool, store, [account])
                await asyncio.sleep(0.01)
            await wait_until(partial(drained, relay), 10, "the relay to publish the stream")
        await listener.reset()
    # the first commits notify a waiting relay; every commit did before: 40
    assert 1 <= len(notified) < 20
    seen = await read_topic(kafka_bootstrap, store.topic, ids(events))
    assert [s.event_id for s in seen] == [str(e.event_id) for e in events]


async def test_no_commit_waits_for_the_poll_whatever_their_timing(
    pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    """Bursts, quiet spells and transactions held open across the relay's passes: the relay
    flips between passing by itself and waiting for a NOTIFY many times, and each commit
    still goes out within a pass or two. A wake-up lost in a flip would leave a commit for
    the poll, 30 s here."""
    store, rng = new_store(), random.Random(23)
    relay = relay_for(pool, kafka_bootstrap, loss_check_interval=30.0)
    relay.pass_interval, relay.poll_interval = 0.02, 30.0
    keys = accounts(4)

    async def writer(key: str) -> None:
        for _ in range(30):
            async with pool.acquire() as conn, conn.transaction():
                await store.append(conn, [invoice_stream(key)])
                await asyncio.sleep(rng.choice([0, 0, 0.005, 0.03]))  # open across a pass
            await asyncio.sleep(rng.choice([0, 0.001, 0.01, 0.03, 0.08]))

    async with running(relay):
        await wait_until(partial(relay_waits, pool), 10, "the relay to wait for commits")
        await asyncio.gather(*(writer(key) for key in keys))
        await wait_until(partial(drained, relay), 10, "every commit to go out")
        slowest = await pool.fetchval(
            "SELECT max(published_at - recorded_at) FROM outbox o "
            "JOIN events e ON e.position = o.event_position WHERE o.topic = $1",
            store.topic,
        )
    assert slowest.total_seconds() < 5.0


async def test_a_commit_landing_as_the_relay_starts_to_wait_goes_out_at_once(
    pool: asyncpg.Pool, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the lock closes: a pass finds nothing, a commit lands (no relay waited, so it
    did not notify), then the relay takes the lock to wait. The pass the relay makes after
    taking it reads that commit; without it the commit would wait for the poll (30 s)."""
    store, account = new_store(), str(uuid4())
    relay = relay_for(pool, kafka_bootstrap, loss_check_interval=30.0)
    relay.poll_interval = 30.0
    landed: list[RecordedEvent] = []
    take = WaitingLock.take

    async def take_after_a_commit(lock: WaitingLock) -> bool:
        if not landed:
            landed.extend(await append(pool, store, [account]))
        return await take(lock)

    monkeypatch.setattr(WaitingLock, "take", take_after_a_commit)
    async with running(relay):
        await wait_until(partial(relay_waits, pool), 10, "the relay to take the lock")
        assert landed, "the commit lands as the relay takes the lock"
        began = time.monotonic()
        while await published_at(pool, landed[0]) is None:
            assert time.monotonic() - began < 5.0, "the commit waited for the poll"
            await asyncio.sleep(0.01)


async def relay_waits(pool: asyncpg.Pool) -> bool:
    """Whether a relay holds the lock that makes commits notify it."""
    return bool(
        await pool.fetchval(
            "SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND mode = 'ExclusiveLock' AND ((classid::bigint << 32) | objid::bigint) = $1 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
            RELAY_WAITING_LOCK,
        )
    )


async def test_two_relays_for_one_service_publish_one_at_a_time(
    pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    store = new_store()
    first = relay_for(pool, kafka_bootstrap)
    second = relay_for(pool, kafka_bootstrap, first.service_name)
    tasks = {relay: asyncio.create_task(relay.run()) for relay in (first, second)}

    async def one_leader_drained() -> bool:
        leaders = [relay for relay in tasks if relay.is_leader]
        assert len(leaders) <= 1, "both relays lead at once"
        return len(leaders) == 1 and await drained(first)

    try:
        events = await append(pool, store, accounts(4), per_transaction=3, transactions=10)
        await wait_until(one_leader_drained, 20, "one leader to drain the outbox")
        leader, standby = (first, second) if first.is_leader else (second, first)
        assert (leader.published_rows, standby.published_rows) == (30, 0)

        tasks[leader].cancel()
        await asyncio.gather(tasks[leader], return_exceptions=True)
        events += await append(pool, store, accounts(2), transactions=5)
        await wait_until(one_leader_drained, 20, "the standby to take over and drain")
        assert (standby.is_leader, standby.published_rows) == (True, 5)
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
    seen = await read_topic(kafka_bootstrap, store.topic, ids(events))
    assert ids(events) <= {s.event_id for s in seen}


async def test_each_row_is_marked_with_the_offset_its_record_has_on_the_broker(
    pool: asyncpg.Pool, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records go out in batches per partition, several when one would be too large."""
    monkeypatch.setattr(broker, "MAX_BATCH_BYTES", 4096)
    store = new_store()
    events = await append(pool, store, accounts(7), per_transaction=40, transactions=4)
    async with relay_for(pool, kafka_bootstrap) as relay:
        while (await relay.publish_once()).published:
            pass
    async with pool.acquire() as conn:
        marked = {
            str(r["event_id"]): (r["kafka_partition"], r["kafka_offset"])
            for r in await conn.fetch(
                "SELECT e.event_id, o.kafka_partition, o.kafka_offset FROM outbox o "
                "JOIN events e ON e.position = o.event_position WHERE o.topic = $1",
                store.topic,
            )
        }
    seen = await read_topic(kafka_bootstrap, store.topic, ids(events))
    assert len(seen) == len(events) == 160
    assert {s.event_id: (s.partition, s.offset) for s in seen} == marked
    assert len({s.partition for s in seen}) > 1


async def test_a_published_record_is_the_stored_events_envelope(
    pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    """The relay builds records from the store's columns, not through `cloud_event`: the two
    must agree on every attribute and on the data, whose stored JSON text goes out as it is."""
    store, account = new_store(), str(uuid4())
    async with pool.acquire() as conn:
        [event] = await store.append(
            conn, [invoice_stream(account)], correlation_id="req-7", causation_id="cmd-3"
        )
        await conn.execute(
            "UPDATE events SET traceparent = $1 WHERE event_id = $2", TRACEPARENT, event.event_id
        )
    async with relay_for(pool, kafka_bootstrap) as relay:
        assert (await relay.publish_once()).published == 1
    consumer = AIOKafkaConsumer(
        store.topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 20)
    finally:
        await consumer.stop()
    expected = replace(event, traceparent=TRACEPARENT).cloud_event()
    assert from_kafka(record.value, record.headers).model_dump() == expected.model_dump()
    assert record.key == account.encode()
    # byte for byte, so the relay writes `ce_sequence` zero-padded as the envelope does
    assert list(record.headers) == to_kafka(expected)[2]


def emailed_note(account: str, attachments: int) -> CaseNoteAdded:
    """An inbound email's note: each attachment is a few hundred bytes of the event."""
    return CaseNoteAdded(
        case_id=uuid4(),
        account_id=account,
        note_id=uuid4(),
        body="see the attached",
        author="mail-gateway",
        added_at=datetime(2026, 1, 5, tzinfo=UTC),
        attachments=[
            Attachment(
                filename=f"scan-{n:05}.pdf",
                content_type="application/pdf",
                size_bytes=n,
                sha256="ab" * 32,
            )
            for n in range(attachments)
        ],
    )


async def test_an_event_over_the_limit_is_refused_and_nothing_of_the_append_is_stored(
    pool: asyncpg.Pool,
) -> None:
    small = EventStore(source="relay-test", topic="test.events.v1", max_event_bytes=20_000)
    account = str(uuid4())
    fits = PendingStream(f"case-{uuid4()}", 0, [emailed_note(account, 10)], account)
    too_large = PendingStream(f"case-{uuid4()}", 0, [emailed_note(account, 200)], account)
    async with pool.acquire() as conn:
        with pytest.raises(EventTooLarge) as refused:
            async with conn.transaction():
                await small.append(conn, [fits])
                await small.append(conn, [too_large])
        assert refused.value.limit == 20_000 and refused.value.size > 20_000
        assert refused.value.stream_id == too_large.stream_id
        assert await conn.fetchval("SELECT count(*) FROM events") == 0
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
        assert len(await small.append(conn, [fits])) == 1


async def test_the_event_size_limit_counts_the_record_the_relay_sends(
    pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    """The largest note the store accepts under a limit becomes a record within it, and a
    little more is refused: the store measures what the broker will be asked to take."""
    limit, account = 30_000, str(uuid4())
    store = EventStore(
        source="relay-test", topic=f"t{uuid4().hex[:12]}.events.v1", max_event_bytes=limit
    )
    attachments = 0
    async with pool.acquire() as conn:
        while attachments < 300:  # well past the limit, should the store never refuse
            note = emailed_note(account, attachments + 1)
            try:
                await store.append(conn, [PendingStream(f"case-{uuid4()}", 0, [note], account)])
            except EventTooLarge:
                break
            attachments += 1
        assert await conn.fetchval("SELECT count(*) FROM outbox") == attachments
    async with relay_for(pool, kafka_bootstrap) as relay:
        while (await relay.publish_once()).published:
            pass
    consumer = AIOKafkaConsumer(
        store.topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    sizes: list[int] = []
    try:
        async with asyncio.timeout(20):
            while len(sizes) < attachments:
                async for record in consumer:
                    sizes.append(
                        len(record.key)
                        + len(record.value)
                        + sum(len(name) + len(value) for name, value in record.headers)
                    )
                    break
    finally:
        await consumer.stop()
    assert max(sizes) <= limit, "a record the store let through is over the limit"
    assert max(sizes) > 0.9 * limit, "the limit is far stricter than the records it guards"


# ------------------------------------------------------------- faults


async def published_count(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return int(
            await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")
        )


async def test_a_relay_killed_mid_batch_and_restarted_delivers_every_event(
    platform_db: str, pool: asyncpg.Pool, kafka_bootstrap: str, tmp_path: Path
) -> None:
    store = new_store()
    events = await append(pool, store, accounts(20), per_transaction=100, transactions=30)
    relay = relay_process(
        platform_db,
        kafka_bootstrap,
        "relay-killed",
        tmp_path / "relay.log",
        "--batch-size",
        "25",
        "--poll-interval",
        "0.05",
    )
    kills = []
    try:
        # the thresholds leave the relay 1,500 rows (60 batches) after the last one, so a
        # busy machine that notices a threshold late still kills it before it has sent all
        for threshold in (300, 900, 1500):
            relay.start()
            await kill_right_after_a_mark(relay, pool, threshold)
            kills.append(await published_count(pool))
        assert all(k < len(events) for k in kills), f"killed too late to matter: {kills}"
        relay.start()
        await wait_until(_at_least(pool, len(events)), 30, "the restarted relay")
    finally:
        relay.stop()
    seen = await read_topic(kafka_bootstrap, store.topic, ids(events))
    assert ids(events) - {s.event_id for s in seen} == set()


async def kill_right_after_a_mark(
    relay: PlatformProcess, pool: asyncpg.Pool, threshold: int
) -> None:
    """Polls tightly so the kill lands while the next batch is on its way to the broker."""
    deadline = time.monotonic() + 30
    while await published_count(pool) < threshold:
        assert time.monotonic() < deadline, f"the relay never published {threshold} rows"
        await asyncio.sleep(0.001)
    relay.kill()


def _at_least(pool: asyncpg.Pool, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await published_count(pool) >= count

    return check


async def test_a_frozen_broker_holds_the_outbox_until_it_thaws(
    pool: asyncpg.Pool, own_broker: EmbeddedKafka
) -> None:
    store, keys = new_store(), accounts(5)
    relay = relay_for(pool, own_broker.bootstrap_servers, request_timeout=1.5)
    async with running(relay):
        events = await append(pool, store, keys, transactions=10)
        await wait_until(lambda: drained(relay), 20, "the first events to go out")
        own_broker.freeze()
        try:
            started = time.monotonic()
            frozen = await append(pool, store, keys, transactions=20)
            assert time.monotonic() - started < 5, "appends waited on the broker"
            await asyncio.sleep(4)  # past every client timeout
            assert await relay.backlog() == len(frozen), "rows marked sent without an ack"
        finally:
            own_broker.thaw()
        await wait_until(lambda: drained(relay), 40, "the backlog to drain after the thaw")
    events += frozen
    seen = await read_topic(own_broker.bootstrap_servers, store.topic, ids(events))
    assert ids(events) - {s.event_id for s in seen} == set()


async def test_a_broker_that_lost_all_data_gets_every_event_again(
    pool: asyncpg.Pool, own_broker: EmbeddedKafka
) -> None:
    store = new_store()
    relay = relay_for(
        pool, own_broker.bootstrap_servers, request_timeout=2.0, loss_check_interval=0.5
    )
    async with running(relay):
        events = await append(pool, store, accounts(6), per_transaction=5, transactions=6)
        await wait_until(lambda: drained(relay), 20, "the events to go out")
        before = await read_topic(own_broker.bootstrap_servers, store.topic, ids(events))
        assert ids(events) <= {s.event_id for s in before}

        own_broker.restart()

        async def republished() -> bool:
            return relay.published_rows >= 2 * len(events) and await drained(relay)

        await wait_until(republished, 40, "the relay to publish everything again")
    after = await read_topic(own_broker.bootstrap_servers, store.topic, ids(events))
    assert ids(events) - {s.event_id for s in after} == set()
    assert_in_order_per_key(after, events)


async def test_an_ack_below_the_acked_offset_sets_off_healing_at_once(
    pool: asyncpg.Pool, own_broker: EmbeddedKafka
) -> None:
    store, keys = new_store(), accounts(6)
    relay = relay_for(
        pool, own_broker.bootstrap_servers, request_timeout=2.0, loss_check_interval=120
    )
    async with running(relay):
        events = await append(pool, store, keys, per_transaction=5, transactions=6)
        await wait_until(lambda: drained(relay), 20, "the events to go out")
        own_broker.restart()
        events += await append(pool, store, keys[:1])

        async def republished() -> bool:
            return relay.published_rows >= 2 * len(events) - 1 and await drained(relay)

        # a restart takes ~5 s and the first sends after it may fail and back off
        await wait_until(republished, 45, "the relay to publish everything again")
    after = await read_topic(own_broker.bootstrap_servers, store.topic, ids(events))
    assert ids(events) - {s.event_id for s in after} == set()


def assert_in_order_per_key(seen: list[Seen], events: list[RecordedEvent]) -> None:
    """On each key, the first copy of each event appears in append order."""
    appended = {str(e.event_id): e.position for e in events}
    by_key: dict[str, list[int]] = {}
    for s in sorted(seen, key=lambda s: (s.partition, s.offset)):
        positions = by_key.setdefault(s.key, [])
        if appended[s.event_id] not in positions:
            positions.append(appended[s.event_id])
    for key, positions in by_key.items():
        assert positions == sorted(positions), f"key {key} out of order"


# ------------------------------------------------------ refused records

SECRET = "relay-test-secret-0123456789abcdef"
REFUSED_ID = "X" * 60  # over the broker's check below


def external_id_check(max_length: int) -> str:
    """The broker's own check of the topic's records (a JSON Schema): an invoice's external
    id at most this long. It stands in for `max.message.bytes`, which this broker ignores;
    either way the broker answers a record it will never take with a non-retriable error."""
    return json.dumps(
        {
            "type": "object",
            "properties": {
                "value": {
                    "type": "object",
                    "properties": {"external_id": {"type": "string", "maxLength": max_length}},
                }
            },
        }
    )


@pytest.fixture
def checking_broker(tmp_path: Path) -> Iterator[EmbeddedKafka]:
    broker = EmbeddedKafka(schema_registry=tmp_path).start()
    try:
        yield broker
    finally:
        broker.stop()


async def open_blocks(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT message_key, id FROM outbox_blocks WHERE resolved_at IS NULL")
    return {r["message_key"]: r["id"] for r in rows}


async def test_a_record_the_broker_refuses_blocks_its_key_until_an_operator_resolves_it(
    platform_db: str, pool: asyncpg.Pool, checking_broker: EmbeddedKafka, tmp_path: Path
) -> None:
    store = new_store()
    check = tmp_path / f"{store.topic}.json"
    check.write_text(external_id_check(40))
    blocked_a, blocked_c, others = str(uuid4()), str(uuid4()), accounts(6)
    plan = [
        (blocked_a, "A1"),
        *[(o, "O1") for o in others],
        (blocked_a, REFUSED_ID),
        (blocked_c, REFUSED_ID),
        *[(o, "O2") for o in others],
        (blocked_a, "A3"),
        (blocked_c, "C2"),
    ]
    events = [
        await append_one(pool, store, account, external_id)  # in this order
        for account, external_id in plan
    ]
    by_plan = dict(zip([f"{a}:{x}" for a, x in plan], events, strict=True))
    relay = relay_for(pool, checking_broker.bootstrap_servers, request_timeout=2.0)
    waiting = [
        by_plan[f"{blocked_a}:{REFUSED_ID}"],
        by_plan[f"{blocked_a}:A3"],
        by_plan[f"{blocked_c}:{REFUSED_ID}"],
        by_plan[f"{blocked_c}:C2"],
    ]

    async def set_aside() -> bool:
        return len(await open_blocks(pool)) == 2 and await relay.backlog() == len(waiting)

    app = create_app(
        ServiceSettings(database_url=platform_db, jwt_secret=SECRET),
        title="t",
        routers=[outbox_admin_router()],
    )
    admin = {"Authorization": f"Bearer {issue_token(SECRET, 'ops', ['admin'])}"}
    async with (
        running(relay),
        running_server(app) as base,
        httpx.AsyncClient(base_url=base, headers=admin) as http,
    ):
        await wait_until(set_aside, 30, "both keys blocked and every other row published")
        later = await append(pool, store, others[:1])
        await wait_until(lambda: drained_but(relay, len(waiting)), 20, "a later row of another key")
        assert (
            REGISTRY.get_sample_value("outbox_blocked_keys", {"service": relay.service_name}) == 2
        )

        listed = (await http.get("/v1/outbox/blocked")).json()["blocked"]
        assert [(b["key"], b["waiting_rows"], b["event_id"]) for b in listed] == [
            (blocked_a, 2, str(waiting[0].event_id)),
            (blocked_c, 2, str(waiting[2].event_id)),
        ]
        assert "InvalidRecordError" in listed[0]["error"]
        block_a, block_c = listed[0]["block_id"], listed[1]["block_id"]

        check.write_text(external_id_check(100))  # the platform team raised the limit
        await asyncio.sleep(1.0)  # many passes: a blocked key waits for its operator
        assert await relay.backlog() == len(waiting)
        retried = await http.post(f"/v1/outbox/blocked/{block_a}/retry")
        assert retried.status_code == 200, retried.text
        blank = await http.post(f"/v1/outbox/blocked/{block_c}/skip", json={"reason": "  "})
        assert blank.status_code == 422, blank.text
        skipped = await http.post(
            f"/v1/outbox/blocked/{block_c}/skip",
            json={"reason": "customer re-sent it; the invoice is in C2"},
        )
        assert skipped.status_code == 200, skipped.text
        await wait_until(lambda: drained(relay), 20, "the resolved keys to flow again")
        again = await http.post(f"/v1/outbox/blocked/{block_a}/skip", json={"reason": "late"})
        assert (again.status_code, again.json()["errors"][0]["field"]) == (409, "path.block_id")
        assert (await http.post("/v1/outbox/blocked/999999/retry")).status_code == 404
        assert (await http.get("/v1/outbox/blocked")).json() == {"blocked": []}

        async def gauge_cleared() -> bool:  # the relay counts blocks at its next housekeeping
            return (
                REGISTRY.get_sample_value("outbox_blocked_keys", {"service": relay.service_name})
                == 0
            )

        await wait_until(gauge_cleared, 5, "outbox_blocked_keys to drop to 0")

    record = await pool.fetchrow(
        "SELECT resolution, reason, resolved_by FROM outbox_blocks WHERE id = $1", block_c
    )
    assert tuple(record) == ("skip", "customer re-sent it; the invoice is in C2", "ops")
    sent = set(ids(events + later)) - {str(waiting[2].event_id)}
    seen = await read_topic(checking_broker.bootstrap_servers, store.topic, sent)
    assert sent - {s.event_id for s in seen} == set()
    assert str(waiting[2].event_id) not in {s.event_id for s in seen}, "a skipped event went out"
    assert_in_order_per_key(seen, events + later)


async def drained_but(relay: OutboxRelay, rows: int) -> bool:
    return await relay.backlog() == rows


async def test_a_blocked_keys_earlier_events_are_published_again_after_a_broker_loss(
    pool: asyncpg.Pool, checking_broker: EmbeddedKafka, tmp_path: Path
) -> None:
    """A block starts at the refused row: what the key published before it is healed too."""
    store = new_store()
    (tmp_path / f"{store.topic}.json").write_text(external_id_check(40))
    blocked, other = str(uuid4()), str(uuid4())
    before, refused, after = [
        await append_one(pool, store, account, external_id)
        for account, external_id in ((blocked, "A1"), (blocked, REFUSED_ID), (other, "B1"))
    ]
    relay = relay_for(
        pool, checking_broker.bootstrap_servers, request_timeout=2.0, loss_check_interval=0.5
    )
    async with running(relay):
        await wait_until(lambda: drained_but(relay, 1), 30, "the key blocked, the rest sent")
        sent = relay.published_rows
        checking_broker.restart()

        async def healed() -> bool:
            return relay.published_rows >= sent + 2 and await drained_but(relay, 1)

        await wait_until(healed, 45, "the relay to publish what the broker lost")
    seen = await read_topic(
        checking_broker.bootstrap_servers, store.topic, {str(before.event_id), str(after.event_id)}
    )
    assert {str(before.event_id), str(after.event_id)} <= {s.event_id for s in seen}
    assert str(refused.event_id) not in {s.event_id for s in seen}


async def append_one(
    pool: asyncpg.Pool, store: EventStore, account: str, external_id: str
) -> RecordedEvent:
    async with pool.acquire() as conn:
        [event] = await store.append(conn, [invoice_stream(account, external_id)])
    return event


# ------------------------------------------------------------- settling


def _row(row_id: int, key: str) -> OutboxRow:
    return OutboxRow(row_id, "topic", key, b"{}", [], datetime.now(UTC))


def _ack(partition: int, offset: int) -> RecordMetadata:
    return RecordMetadata(
        topic="topic",
        partition=partition,
        topic_partition=None,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        log_start_offset=0,
    )


def test_a_failed_send_holds_back_the_rest_of_its_key() -> None:
    rows = [_row(1, "a"), _row(2, "a"), _row(3, "b")]
    outcome = settle(rows, [TimeoutError(), _ack(0, 7), _ack(1, 3)], acked={})
    assert [a.outbox_id for a in outcome.acks] == [3]
    assert outcome.high_water == {("topic", 1): 3}


def test_an_ack_below_the_acked_offset_means_the_broker_lost_the_partition() -> None:
    rows = [_row(1, "a"), _row(2, "b")]
    outcome = settle(rows, [_ack(0, 0), _ack(1, 11)], acked={("topic", 0): 9, ("topic", 1): 10})
    assert outcome.lost == {("topic", 0)}
    assert [a.outbox_id for a in outcome.acks] == [2]


def test_an_ack_on_a_partition_the_topic_never_had_is_flagged_for_a_loss_check() -> None:
    rows = [_row(1, "a"), _row(2, "b")]
    outcome = settle(rows, [_ack(3, 0), _ack(1, 11)], acked={("topic", 0): 9, ("topic", 1): 10})
    assert outcome.new_partitions == {("topic", 3)}
    assert outcome.lost == set()
    assert [a.outbox_id for a in outcome.acks] == [1, 2]


def test_the_first_acks_of_a_new_topic_are_not_a_partition_change() -> None:
    outcome = settle([_row(1, "a")], [_ack(2, 0)], acked={("other", 0): 4})
    assert outcome.new_partitions == set()


def test_a_record_refused_for_good_blocks_its_key_from_that_row_on() -> None:
    rows = [_row(1, "a"), _row(2, "a"), _row(3, "b"), _row(4, "a")]
    outcome = settle(rows, [_ack(0, 1), InvalidRecordError(), _ack(1, 3), _ack(0, 2)], acked={})
    assert [a.outbox_id for a in outcome.acks] == [1, 3]
    assert [(r.outbox_id, r.key) for r in outcome.refused] == [(2, "a")]
    assert outcome.failed == []


def test_a_refusal_behind_a_failed_row_of_its_key_is_only_a_failure() -> None:
    rows = [_row(1, "a"), _row(2, "a")]
    outcome = settle(rows, [TimeoutError(), MessageSizeTooLargeError()], acked={})
    assert outcome.refused == [] and len(outcome.failed) == 2


# ------------------------------------------------------------ what the broker offers


async def test_the_producer_is_idempotent_exactly_where_the_broker_takes_it(
    pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    """Detected by trying: Tansu lists InitProducerId in ApiVersions and then fails it, so the
    relay falls back to a plain acks=all producer there and still publishes everything."""
    store, service = new_store(), f"relay-test-{uuid4().hex[:8]}"
    events = await append(pool, store, accounts(3), per_transaction=6)
    async with relay_for(pool, kafka_bootstrap, service) as relay:
        while (await relay.publish_once()).published:
            pass
    takes_it = broker_choice() == "kafka"
    assert relay.idempotent_producer is takes_it
    assert REGISTRY.get_sample_value("outbox_idempotent_producer", {"service": service}) == float(
        takes_it
    )
    seen = await read_topic(kafka_bootstrap, store.topic, ids(events))
    assert sorted(s.event_id for s in seen) == sorted(ids(events))
