"""The outbox relay: moves committed outbox rows to Kafka, in order, at least once.

Publish, then mark: a row is marked sent only after the broker acked it, so a
relay killed anywhere re-sends at worst (consumers dedupe by event id) and
never loses a row. One relay per service leads (leadership.py); the others
wait for its lock. A NOTIFY from the event store wakes the leader at once;
polling covers a missed notification and transactions that do not notify.
Commits notify only while the relay waits for them (it holds the store's
`RELAY_WAITING_LOCK`, see `WaitingLock`): once a pass finds a stream of commits, the
relay passes by itself every `pass_interval` until a pass finds nothing, and the
commits in between skip their NOTIFY (at 500 events/s on the 2-core machine, about
an eighth less CPU an event over all processes, PostgreSQL's share most).

Under a steady stream of commits the passes are spaced `pass_interval` apart (10 ms by
default): a pass costs a fetch, a produce round trip and an ack statement whatever its
size, and the record batches it produces are the batches every consumer downstream
fetches and applies in one transaction each. Woken by every commit, the relay published
one event a pass and each consumer group applied one event a transaction (on the 2-core
machine at 500 events/s: 2.9 ms of CPU an event over all processes, against 1.9 ms with
passes 10 ms apart). The first commit after a quiet spell still goes out at once; only a
pass right after one that published waits for the rest of the interval.

The broker is allowed to forget: when an ack or a partition's end offset is
at or below what the broker acked before, the partition's rows go back to the
queue and are published again in their original order (docs/architecture.md#events).

A record the broker will never take must not stop the service's stream: its
key is blocked from that row on (an error log, `outbox_blocked_keys`, the
`/v1/outbox/blocked` admin route), the rows of every other key keep flowing,
and the key's later rows wait behind the refused one until an operator
retries it (after raising the broker's limit) or skips it with a reason.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from types import TracebackType

import asyncpg
import structlog

from receivables_platform.backoff import Backoff
from receivables_platform.kafka.topics import ensure_topics
from receivables_platform.relay import outbox
from receivables_platform.relay.broker import BROKER_ERRORS, BrokerUnavailable, Publisher
from receivables_platform.relay.leadership import LeadershipLost, check_alive, leadership
from receivables_platform.relay.metrics import (
    OUTBOX_BACKLOG,
    OUTBOX_BLOCKED_KEYS,
    OUTBOX_PUBLISH_DELAY,
    OUTBOX_PUBLISHED,
    OUTBOX_REFUSED,
    OUTBOX_REPUBLISHED,
    OUTBOX_SEND_FAILURES,
    RELAY_LEADER,
)
from receivables_platform.relay.outbox import OutboxRow, TopicPartition
from receivables_platform.relay.probe import BrokerProbe
from receivables_platform.relay.settlement import Settlement, settle
from receivables_platform.settings import DEFAULT_RELAY_PASS_INTERVAL, KafkaSettings
from receivables_platform.store import OUTBOX_CHANNEL, RELAY_WAITING_LOCK
from receivables_platform.tracing import tracer

log = structlog.get_logger("receivables_platform.relay")

# Rows per pass. Each pass costs a fetch, a produce round trip and an ack
# transaction whatever its size, so behind a bulk import small passes spent the
# relay's CPU on the passes themselves; 2000 events are about 1 MB in memory.
DEFAULT_BATCH_SIZE = 2000

# A pass that publishes this many rows or more says commits come faster than the
# passes: the relay stops waiting for their NOTIFYs and passes by itself until a pass
# finds nothing. Going back to waiting costs that empty pass, taking the lock and one
# more pass; for fewer rows a pass, the NOTIFYs cost less.
STREAM_PASS_ROWS = 3


@dataclass(frozen=True)
class PassResult:
    published: int
    failed: int
    lost_partitions: int
    # A topic's partitions changed under the relay: the others may have lost data.
    new_partitions: int
    # Rows wait behind a transaction that is still open; worth a quick second look.
    blocked: bool
    # The batch was full, so more rows are probably ready right now.
    full: bool
    # Rows the broker refused for good: their keys are blocked now.
    refused: int = 0


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        kafka: KafkaSettings,
        *,
        service_name: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        poll_interval: float = 1.0,
        topics: Iterable[str] = (),
        request_timeout: float = 30.0,
        loss_check_interval: float = 5.0,
        lock_retry_interval: float | None = None,
        pass_interval: float = DEFAULT_RELAY_PASS_INTERVAL,
    ) -> None:
        self.service_name = service_name
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.pass_interval = pass_interval
        self.topics = frozenset(topics)
        self.request_timeout = request_timeout
        self.loss_check_interval = loss_check_interval
        self.lock_retry_interval = lock_retry_interval or poll_interval
        self.published_rows = 0
        self._pool = pool
        self._kafka = kafka
        self._publisher = Publisher(kafka, request_timeout, service_name)
        self._probe = BrokerProbe(kafka, request_timeout)
        self._acked: dict[TopicPartition, int] | None = None
        self._ensured: set[str] = set()
        self._leader = False
        self._log = log.bind(service=service_name)

    @property
    def is_leader(self) -> bool:
        return self._leader

    @property
    def idempotent_producer(self) -> bool | None:
        """Whether the broker took an idempotent producer; None before the first send."""
        return self._publisher.idempotent

    async def __aenter__(self) -> OutboxRelay:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._publisher.discard()
        await self._probe.close()

    async def run(self) -> None:
        """Lead when this relay gets the lock, stand by when another has it; until cancelled."""
        backoff = Backoff.jittered(first=0.2, cap=10.0)
        try:
            while True:
                try:
                    async with leadership(
                        self._pool, self.service_name, self.lock_retry_interval
                    ) as conn:
                        backoff.reset()
                        await self._lead(conn)
                except LeadershipLost as exc:
                    self._log.warning("relay.leadership_lost", error=str(exc))
                except Exception:
                    self._log.exception("relay.failed")
                await asyncio.sleep(backoff.next())
        finally:
            await self.close()

    async def publish_once(self) -> PassResult:
        """One batch: read ready rows, send, mark what the broker acked.

        Takes no lock: `run` calls it as the leader; a test or benchmark that
        calls it directly must be the only relay on the database.
        """
        acked = await self._acked_offsets()
        async with self._pool.acquire() as conn:
            batch = await outbox.fetch_ready(conn, self.batch_size)
        if not batch.rows:
            return PassResult(0, 0, 0, 0, blocked=batch.blocked, full=False)
        await self._ensure_topics({row.topic for row in batch.rows})
        with tracer.start_as_current_span("outbox_relay.publish") as span:
            span.set_attribute("messaging.batch.message_count", len(batch.rows))
            results = await self._publisher.send(batch.rows)
        outcome = settle(batch.rows, results, acked)
        await self._record(outcome)
        self._observe(batch.rows, outcome)
        return PassResult(
            len(outcome.acks),
            len(outcome.failed),
            len(outcome.lost),
            len(outcome.new_partitions),
            blocked=batch.blocked,
            full=len(batch.rows) == self.batch_size,
            refused=len(outcome.refused),
        )

    async def heal_lost_partitions(self) -> set[TopicPartition]:
        """Re-queue every partition the broker no longer holds the acked records of."""
        acked = await self._acked_offsets()
        lost = await self._probe.lost_partitions(acked)
        if lost:
            await self._requeue(lost)
            await self._ensure_topics({topic for topic, _ in lost})
        return lost

    async def backlog(self) -> int:
        async with self._pool.acquire() as conn:
            return await outbox.backlog(conn)

    async def _lead(self, conn: asyncpg.Connection) -> None:
        wake = asyncio.Event()

        def notified(*_: object) -> None:
            wake.set()

        self._set_leader(True)
        try:
            await conn.add_listener(OUTBOX_CHANNEL, notified)
            self._acked = None
            await self._ensure_topics_quietly(self.topics)
            await self._publish_loop(conn, wake)
        finally:
            self._set_leader(False)
            if not conn.is_closed():
                with suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                    await conn.remove_listener(OUTBOX_CHANNEL, notified)
            await self.close()

    async def _publish_loop(self, conn: asyncpg.Connection, wake: asyncio.Event) -> None:
        broker_backoff = Backoff.jittered(first=0.2, cap=5.0)
        blocked_backoff = Backoff.jittered(first=0.005, cap=self.poll_interval)
        writers_backoff = Backoff.jittered(first=0.005, cap=max(self.pass_interval, 0.1))
        waiting = WaitingLock(conn)
        next_check = 0.0
        last_published, backlog = -math.inf, False
        while True:
            if time.monotonic() >= next_check:
                await self._housekeeping(conn)
                next_check = time.monotonic() + self.loss_check_interval
            pause = last_published + self.pass_interval - time.monotonic()
            if pause > 0 and not backlog:  # after a full batch more is ready: no pause
                await asyncio.sleep(pause)
            began = time.monotonic()
            wake.clear()  # after the pause: what it notified of, this pass reads
            try:
                result = await self.publish_once()
            except BrokerUnavailable as exc:
                result = None
                self._log.warning("relay.broker_unavailable", error=repr(exc))
            if result is None or result.failed:
                await self._publisher.discard()
                next_check = 0.0  # look for lost data before sending again
                await asyncio.sleep(broker_backoff.next())
                continue
            broker_backoff.reset()
            if result.lost_partitions or result.new_partitions:
                next_check = 0.0  # the other partitions may have lost data too
            backlog = result.full
            if not result.blocked:
                blocked_backoff.reset()
            if result.published:
                last_published = began
                writers_backoff.reset()
                if result.published >= STREAM_PASS_ROWS and self.pass_interval > 0:
                    # A stream: passes come `pass_interval` apart by themselves, so the
                    # commits in between need not notify.
                    await waiting.release()
            if result.full or (result.published and not waiting.held):
                continue  # more is ready now, or the next pass comes an interval on
            if not waiting.held:
                if await waiting.take():
                    continue  # what committed before the lock, one more pass reads
                # An append is in flight and will not notify: look again shortly (0.1 s or
                # a pass interval apart at most while a long one holds it: a bulk import).
                await asyncio.sleep(writers_backoff.next())
                continue
            delay = blocked_backoff.next() if result.blocked else self.poll_interval
            await _wait(wake, min(delay, max(0.0, next_check - time.monotonic())))

    async def _housekeeping(self, conn: asyncpg.Connection) -> None:
        await check_alive(conn, self.request_timeout)
        OUTBOX_BACKLOG.labels(self.service_name).set(await self.backlog())
        OUTBOX_BLOCKED_KEYS.labels(self.service_name).set(await outbox.blocked_count(conn))
        try:
            await self.heal_lost_partitions()
        except BrokerUnavailable as exc:
            self._log.warning("relay.broker_probe_failed", error=repr(exc))

    async def _record(self, outcome: Settlement) -> None:
        async with self._pool.acquire() as conn:
            if outcome.lost or outcome.refused:
                async with conn.transaction():
                    await outbox.record_acks(conn, outcome.acks, outcome.high_water)
                    requeued = await outbox.reset_partitions(conn, outcome.lost)
                    await outbox.block_keys(conn, outcome.refused)
                    blocked = await outbox.blocked_count(conn)
                self._blocked(outcome.refused, blocked)
            else:  # one statement: atomic on its own
                await outbox.record_acks(conn, outcome.acks, outcome.high_water)
                requeued = 0
        acked = await self._acked_offsets()
        for tp, offset in outcome.high_water.items():
            acked[tp] = max(offset, acked.get(tp, -1))
        self._forget(outcome.lost, requeued)

    async def _requeue(self, lost: set[TopicPartition]) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            requeued = await outbox.reset_partitions(conn, lost)
        self._forget(lost, requeued)

    def _blocked(self, refusals: list[outbox.Refusal], blocked: int) -> None:
        OUTBOX_BLOCKED_KEYS.labels(self.service_name).set(blocked)
        if not refusals:
            return
        OUTBOX_REFUSED.labels(self.service_name).inc(len(refusals))
        for refusal in refusals:
            self._log.error(
                "relay.key_blocked",
                topic=refusal.topic,
                key=refusal.key,
                outbox_id=refusal.outbox_id,
                error=refusal.error,
                resolve="GET /v1/outbox/blocked, then retry or skip",
            )

    def _forget(self, lost: set[TopicPartition], requeued: int) -> None:
        """After a loss a partition starts over: no acked offset, its topic ensured anew."""
        if not lost:
            return
        for topic, partition in lost:
            if self._acked is not None:
                self._acked.pop((topic, partition), None)
            self._ensured.discard(topic)
        OUTBOX_REPUBLISHED.labels(self.service_name).inc(requeued)
        self._log.warning("relay.broker_lost_data", partitions=sorted(lost), requeued_rows=requeued)

    async def _acked_offsets(self) -> dict[TopicPartition, int]:
        if self._acked is None:
            async with self._pool.acquire() as conn:
                self._acked = await outbox.load_acked_offsets(conn)
        return self._acked

    async def _ensure_topics(self, topics: set[str]) -> None:
        missing = topics - self._ensured
        if not missing:
            return
        try:
            async with asyncio.timeout(self.request_timeout * 2):
                await ensure_topics(self._kafka, missing)
        except BROKER_ERRORS as exc:
            raise BrokerUnavailable(f"could not ensure topics {sorted(missing)}: {exc!r}") from exc
        self._ensured |= missing

    async def _ensure_topics_quietly(self, topics: Iterable[str]) -> None:
        """At start a broker that is down is not fatal: the first publish ensures them again."""
        try:
            await self._ensure_topics(set(topics))
        except BrokerUnavailable as exc:
            self._log.warning("relay.ensure_topics_failed", error=repr(exc))

    def _observe(self, rows: list[OutboxRow], outcome: Settlement) -> None:
        self.published_rows += len(outcome.acks)
        by_id = {row.id: row for row in rows}
        now = time.time()
        delay = OUTBOX_PUBLISH_DELAY.labels(self.service_name)
        for ack in outcome.acks:
            delay.observe(max(0.0, now - by_id[ack.outbox_id].recorded_at.timestamp()))
        for topic, count in Counter(ack.topic for ack in outcome.acks).items():
            OUTBOX_PUBLISHED.labels(self.service_name, topic).inc(count)
        if outcome.failed:
            OUTBOX_SEND_FAILURES.labels(self.service_name).inc(len(outcome.failed))
            self._log.warning(
                "relay.send_failed", rows=len(outcome.failed), error=repr(outcome.failed[0])
            )

    def _set_leader(self, leader: bool) -> None:
        self._leader = leader
        RELAY_LEADER.labels(self.service_name).set(1 if leader else 0)
        self._log.info("relay.leading" if leader else "relay.stopped_leading")


class WaitingLock:
    """The lock that tells appends this relay waits for their NOTIFY (store.RELAY_WAITING_LOCK).

    Taken only while no append is in flight, and followed by one more pass: a commit
    is either visible to that pass or made by an append that found the lock held and
    notified. Released when a pass publishes `STREAM_PASS_ROWS` or more, so a steady stream
    of commits costs no NOTIFY while the relay's passes come `pass_interval` apart by
    themselves. One key a database: two relays on one database (not a supported layout:
    they would share one outbox) stay correct, the one without the lock only polls more.
    """

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self.held = False

    async def take(self) -> bool:
        self.held = bool(
            await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_WAITING_LOCK)
        )
        return self.held

    async def release(self) -> None:
        if self.held:
            await self._conn.execute("SELECT pg_advisory_unlock($1)", RELAY_WAITING_LOCK)
            self.held = False


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
