"""The consumer runner: Kafka records in, read-model changes out, exactly once in effect.

Kafka delivers at least once and the relay may publish an event twice at two
offsets, so "exactly once" is built here, in the service database:

- each batch is one transaction holding the handler's writes, the
  `processed_events` rows that make a redelivered CloudEvent a no-op, and the
  partition positions;
- a batch moves a stored position only from where this runner left it: a
  database that lost the runner's latest commits (a failover to a replica
  that missed them, a server crash with asynchronous commit) lost those
  events' claims and read-model changes too, so the batch is rolled back and
  the partition read again from the position the database holds;
- on assignment the runner seeks to the positions in the database, never to
  the offsets committed in Kafka (those are committed afterwards, for lag
  tooling only, at most once per `kafka_commit_interval`: a broker round trip
  per batch bought nothing but fresher lag figures);
- permanent failures go to `<topic>.dlq` before the position moves past them;
- an event dated outside the business dates is set aside (recorded in the
  batch's transaction, see `set_aside`) instead of reaching the handler, so
  one bad date stored before the edges refused it cannot break a read model;
  everything else is retried with backoff, because dropping an event would
  leave the read model wrong without anyone noticing;
- the runner checks that the broker still holds the log its positions point
  into, and reads a partition again from the beginning when it does not (see
  `healing`): on assignment, every few seconds, and before applying records
  that the broker returned after a quiet spell on their partition. A broker
  restart always leaves such a spell between two fetch responses, and the
  relay may re-publish a rewritten log faster than any timer fires; checking
  before applying keeps a rewritten log's records from being applied at
  offsets that no longer mean what the stored position says. The spell is
  measured between fetch responses, not between batches, because records
  fetched before an outage may still be being applied when it ends.

A group whose handler declares its event types (`handles`, a dispatch table's keys)
passes over the others on their `ce_type` header without parsing them; a batch of
nothing else changes no read model, so its position is stored with the next batch's
transaction, or on its own at most `store_passed_over` seconds later. Reading such
records again after a restart costs a header comparison each.

Everything that touches the partition positions (processing a batch, seeking
after assignment, restarting a partition) runs under one lock, and partitions
are paused from assignment until the runner has positioned them, so a batch
fetched before a seek is never applied after it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError, NoOffsetForPartitionError
from aiokafka.errors import OffsetOutOfRangeError as FetchOutOfRange
from aiokafka.structs import OffsetAndMetadata
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_never,
    wait_exponential_jitter,
)

from receivables_platform.backoff import Backoff
from receivables_platform.consumer import metrics, set_aside
from receivables_platform.consumer.dead_letter import DeadLetters
from receivables_platform.consumer.errors import PERMANENT, describe, is_transient
from receivables_platform.consumer.faults import CrashAfterDbCommit
from receivables_platform.consumer.healing import LossDetector, Verdict
from receivables_platform.consumer.offsets import (
    Position,
    advance,
    forget_positions,
    load_positions,
)
from receivables_platform.consumer.records import Decoded, decode_record, record_identity
from receivables_platform.contracts.base import EventContract
from receivables_platform.envelope import CloudEvent
from receivables_platform.kafka.topics import ensure_topics
from receivables_platform.settings import KafkaSettings
from receivables_platform.tracing import continued_from

Handler = Callable[[asyncpg.Connection, CloudEvent], Awaitable[None]]
"""Applies one event to the read model, inside the runner's transaction."""

H = TypeVar("H")


def handles(*contracts: type[EventContract]) -> Callable[[H], H]:
    """Declares the event types a handler acts on (its `event_types`), so its consumer passes
    over the others on their `ce_type` header without parsing them. For a handler that tells
    types apart by `isinstance`/`match`; one dispatching from a table has the table's keys."""
    types = frozenset(c.event_type for c in contracts)

    def declare(handler: H) -> H:
        setattr(handler, "event_types", types)  # noqa: B010 - a function has no declared slot
        return handler

    return declare


def handled_types(handler: object) -> frozenset[str] | None:
    """The event types a handler declared, or None: it is handed every event of its topics."""
    declared = getattr(handler, "event_types", None)
    return frozenset(declared) if declared is not None else None


@runtime_checkable
class AppliesMany(Protocol):
    """A handler that can also apply a batch's new events at once, in delivery order.

    A read model rebuilt from a topic's start is bound by statements per event;
    a handler that writes many events in one statement is not. The runner hands
    it a batch inside a savepoint and, when it refuses the batch for good, goes
    event by event so only the event at fault is dead-lettered.
    """

    async def __call__(self, conn: asyncpg.Connection, event: CloudEvent) -> None: ...

    async def many(self, conn: asyncpg.Connection, events: Sequence[CloudEvent]) -> None: ...


T = TypeVar("T")
log = structlog.get_logger("receivables_platform.consumer")


class _Rejected(Exception):
    """A handler refused one record for good: the batch is redone without it."""

    def __init__(self, decoded: Decoded, error: BaseException) -> None:
        super().__init__(str(error))
        self.decoded, self.error = decoded, error


class _BatchRefused(Exception):
    """A handler refused a batch it applied at once: the batch is redone event by event."""


class _PositionsMoved(Exception):
    """The stored positions of these partitions are not where this runner left them."""

    def __init__(self, moved: set[TopicPartition]) -> None:
        super().__init__(", ".join(_names(moved)))
        self.moved = moved


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, Exception) and not isinstance(
        exc, (_Rejected, _BatchRefused, _PositionsMoved, *PERMANENT)
    )


def _ref(record: Any) -> tuple[str, int, int]:
    return record.topic, record.partition, record.offset


@dataclass
class _Partition:
    """What the runner knows of one assigned partition; dropped when it is revoked."""

    position: Position | None = None
    """Where the next batch starts; None until sought to the database's position."""
    stored: int | None = None
    """The next offset the database row holds as far as this runner knows; None: no row."""
    unpositioned: bool = True
    """Paused until sought to the database's position (assigned, or a batch rolled back)."""
    suspect: bool = False
    """The next batch from it is verified against the broker before it is applied."""
    vouched: float = 0.0
    """ms: the last fetch known to come from the log the position was taken in."""
    uncommitted: Position | None = None
    """In the database, not yet in Kafka's committed offsets (those are for lag tooling)."""
    passed_over: Position | None = None
    """Past records of types this group does not handle, not yet in the database: stored with
    the next batch that has events for the group, or at most `store_passed_over` s later."""


@dataclass
class _Applied:
    positions: dict[TopicPartition, Position]
    handled: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    set_aside: list[tuple[Decoded, dict[str, str]]] = field(default_factory=list)


class ConsumerRunner:
    def __init__(
        self,
        pool: asyncpg.Pool,
        kafka: KafkaSettings,
        *,
        group_id: str,
        topics: Sequence[str],
        handler: Handler,
        validate_contracts: bool = True,
        max_batch: int = 500,
        poll_interval: float = 0.2,
        loss_check_interval: float = 5.0,
        verify_after_quiet: float = 0.25,
        max_retry_wait: float = 30.0,
        kafka_commit_interval: float = 1.0,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
        consumer_options: Mapping[str, Any] | None = None,
        event_types: Collection[str] | None = None,
        store_passed_over: float = 1.0,
    ) -> None:
        self.pool = pool
        # a group that projects some types of a topic need not pay to decode the others:
        # the `ce_type` header says what a record is before its body is parsed
        self.event_types = (
            frozenset(t.encode() for t in event_types) if event_types is not None else None
        )
        self.kafka = kafka
        self.group_id = group_id
        self.topics = list(topics)
        self.handler = handler
        self.validate_contracts = validate_contracts
        self.max_batch = max_batch
        self.poll_interval = poll_interval
        self.loss_check_interval = loss_check_interval
        self.verify_after_quiet = verify_after_quiet
        self.max_retry_wait = max_retry_wait
        self.kafka_commit_interval = kafka_commit_interval
        # a batch of only passed-over records changes no read model: its position waits for the
        # next batch's transaction (or this long) instead of costing a transaction of its own
        self.store_passed_over = store_passed_over
        self._next_passed_over_store = 0.0
        self._consumer_options: dict[str, Any] = {
            "session_timeout_ms": session_timeout_ms,
            "heartbeat_interval_ms": heartbeat_interval_ms,
            # A broker that does not end a long poll when records arrive (the embedded
            # one) would otherwise add up to 500 ms to every event's way to the read model.
            "fetch_max_wait_ms": 100,
            # Partitions added to a topic (or a topic re-created with another count after
            # broker data loss) join the assignment within seconds, not aiokafka's 5 minutes.
            "metadata_max_age_ms": 10_000,
            **(consumer_options or {}),
        }
        self._lock = asyncio.Lock()
        self._partitions: dict[TopicPartition, _Partition] = {}
        self._next_check = 0.0
        self._next_kafka_commit = 0.0
        self._faults = CrashAfterDbCommit()
        self._consumer: AIOKafkaConsumer | None = None
        self._dead_letters: DeadLetters | None = None
        self._detector: LossDetector | None = None

    async def run(self) -> None:
        """Consume until cancelled; a session that fails (broker away at start-up) starts over."""
        backoff = Backoff.doubling(first=1.0, cap=self.max_retry_wait)
        while True:
            started = time.monotonic()
            try:
                await self._session()
            except Exception:
                if time.monotonic() - started > 10 * self.max_retry_wait:
                    backoff.reset()  # it had been healthy: this is a new incident
                wait = backoff.next()
                log.exception("consumer.session_failed", group=self.group_id, retry_in=wait)
                await asyncio.sleep(wait)

    # -- session ----------------------------------------------------------------------------

    async def _session(self) -> None:
        await ensure_topics(self.kafka, self.topics)
        async with AsyncExitStack() as stack:
            self._partitions.clear()
            self._dead_letters = DeadLetters(self.kafka, self.group_id)
            self._detector = LossDetector(self.kafka)
            self._consumer = self._new_consumer()
            for client in (self._dead_letters, self._detector, self._consumer):
                await client.start()
                stack.push_async_callback(client.stop)
            self._consumer.subscribe(self.topics, listener=_Rebalance(self))
            log.info("consumer.started", group=self.group_id, topics=self.topics)
            await self._loop()

    def _new_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            **self.kafka.client_options(),
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="none",  # positions come from the database, never from a guess
            **self._consumer_options,
        )

    async def _loop(self) -> None:
        self._next_check = time.monotonic() + self.loss_check_interval
        while True:
            if any(p.unpositioned for p in self._partitions.values()):
                await self._position_assigned()
            await self._poll()
            if (
                any(p.uncommitted for p in self._partitions.values())
                and time.monotonic() >= self._next_kafka_commit
            ):
                await self._commit_to_kafka()
            if (
                any(p.passed_over for p in self._partitions.values())
                and time.monotonic() >= self._next_passed_over_store
            ):
                async with self._lock:
                    await self._with_retries(self._store_passed_over)
            if time.monotonic() >= self._next_check:
                await self._check_for_loss()

    async def _poll(self) -> None:
        consumer = self._require(self._consumer)
        try:
            batch = await consumer.getmany(
                timeout_ms=int(self.poll_interval * 1000), max_records=self.max_batch
            )
        except FetchOutOfRange as exc:
            reasons = {
                tp: f"fetch offset {offset} is out of the partition's range"
                for tp, offset in exc.args[0].items()
            }
            async with self._lock:
                await self._restart(reasons)
            return
        except NoOffsetForPartitionError:
            return  # assigned a moment ago; positioned from the database before the next poll
        if not batch:
            return
        fetched_at = {tp: consumer.last_poll_timestamp(tp) or 0.0 for tp in batch}
        async with self._lock:
            batch = await self._verified(batch, fetched_at)
            for tp, position in (await self._process(batch)).items():
                if tp in self._partitions:
                    self._partitions[tp].uncommitted = position

    # -- one batch ---------------------------------------------------------------------------

    async def _process(
        self, batch: Mapping[TopicPartition, list[Any]]
    ) -> dict[TopicPartition, Position]:
        positioned = self._positioned()
        records = [r for tp, rs in batch.items() if tp in positioned for r in rs]
        if not records:
            return {}
        decoded = [self._decoded(r) for r in records]
        if all(item.event is None and item.error is None for item in decoded):
            return self._pass_over(decoded)
        for item in decoded:
            if item.error is not None:
                await self._dead_letter(item.record, item.error)
        rejected: set[tuple[str, int, int]] = set()
        at_once = True
        while True:
            try:
                applied = await self._with_retries(self._apply, decoded, rejected, at_once)
                break
            except _BatchRefused:
                at_once = False  # find the event it refused, one by one
            except _Rejected as refusal:
                await self._dead_letter(refusal.decoded.record, refusal.error)
                rejected.add(_ref(refusal.decoded.record))
                at_once = True  # the rest may go at once again
            except _PositionsMoved as conflict:
                self._read_again(set(batch) & set(positioned), conflict.moved)
                return {}
        self._faults.db_committed()
        self._after_commit(applied)
        return applied.positions

    def _pass_over(self, decoded: Sequence[Decoded]) -> dict[TopicPartition, Position]:
        """Records of types this group does not handle, and nothing else: the position moves
        in memory only, so a restart before it is stored reads them again (and passes them
        over again), which changes nothing."""
        positions = _positions_after(decoded)
        if not any(p.passed_over for p in self._partitions.values()):
            self._next_passed_over_store = time.monotonic() + self.store_passed_over
        for tp, position in positions.items():
            part = self._partitions[tp]
            part.position = part.passed_over = position
        metrics.PASSED_OVER.labels(group=self.group_id).inc(len(decoded))
        return positions

    async def _store_passed_over(self) -> None:
        """The positions moved past records this group does not handle, in a transaction of
        their own: no batch with events for the group came along to carry them."""
        positions = {tp: p.passed_over for tp, p in self._partitions.items() if p.passed_over}
        if not positions:
            return
        async with self.pool.acquire() as conn, conn.transaction():
            advanced = await advance(
                conn, self.group_id, positions, {tp: self._stored(tp) for tp in positions}, []
            )
        if advanced.moved:
            self._read_again(set(), advanced.moved)
        self._after_commit(
            _Applied(positions={tp: p for tp, p in positions.items() if tp not in advanced.moved})
        )

    def _decoded(self, record: Any) -> Decoded:
        """The record decoded, or passed over undecoded (neither event nor error, so only its
        position counts) when its `ce_type` is one this group does not handle. A record
        without the header is decoded, and dead-lettered when it is no CloudEvent."""
        if self.event_types is not None:
            kind = next(
                (bytes(value) for name, value in record.headers or () if name == "ce_type"), None
            )
            if kind is not None and kind not in self.event_types:
                return Decoded(record)
        return decode_record(record, validate_contracts=self.validate_contracts)

    async def _apply(
        self, decoded: list[Decoded], rejected: set[tuple[str, int, int]], at_once: bool = True
    ) -> _Applied:
        live = [
            d
            for d in decoded
            if d.event is not None and not (rejected and _ref(d.record) in rejected)
        ]
        keys = list(dict.fromkeys(d.key for d in live if d.key is not None))
        # positions moved past other partitions' unhandled records ride along for free
        carried = {tp: p.passed_over for tp, p in self._partitions.items() if p.passed_over}
        applied = _Applied(positions={**carried, **_positions_after(decoded)})
        async with self.pool.acquire() as conn, conn.transaction():
            advanced = await advance(
                conn,
                self.group_id,
                applied.positions,
                {tp: self._stored(tp) for tp in applied.positions},
                keys,
            )
            if advanced.moved:
                raise _PositionsMoved(advanced.moved)  # rolls the whole batch back
            fresh = advanced.fresh
            new: list[Decoded] = []
            for item in live:
                if item.key not in fresh:
                    applied.duplicates[item.record.topic] += 1
                    continue
                fresh.discard(item.key)
                assert item.event is not None
                if dates := set_aside.dates_out_of_range(item.event):
                    await set_aside.record(conn, self.group_id, item.event, item.record, dates)
                    applied.set_aside.append((item, dates))
                    continue
                new.append(item)
                applied.handled[item.record.topic] += 1
            if not (at_once and await self._handle_at_once(conn, new)):
                for item in new:
                    await self._handle(conn, item)
        return applied

    def _read_again(self, fetched: set[TopicPartition], moved: set[TopicPartition]) -> None:
        """After a rolled-back batch: its partitions are read again, the moved ones from the
        database's position (sought before the next poll), the others from their own."""
        consumer = self._require(self._consumer)
        for tp in fetched - moved:
            consumer.seek(tp, self._position(tp).next_offset)
        consumer.pause(*moved)
        for tp in moved:
            self._partitions.setdefault(tp, _Partition()).unpositioned = True
            metrics.POSITIONS_MOVED.labels(group=self.group_id, topic=tp.topic).inc()
        log.warning(
            "consumer.positions_moved",
            group=self.group_id,
            partitions=_names(moved),
            believed={_name(tp): self._stored(tp) for tp in moved},
        )

    async def _handle_at_once(self, conn: asyncpg.Connection, items: list[Decoded]) -> bool:
        """True when the handler applied them all at once; False: apply them one by one.

        No savepoint around the call: a refused batch (rare: a poison event in it) raises
        `_BatchRefused`, which rolls the whole transaction back, and the batch is applied
        again event by event; every batch applied at once saves the SAVEPOINT and its
        RELEASE, two of its few statements (issue 23)."""
        if not isinstance(self.handler, AppliesMany) or len(items) < 2:
            return False
        events = [item.event for item in items if item.event is not None]
        try:
            with continued_from(
                None,
                f"{self.group_id} process batch",
                **{
                    "messaging.system": "kafka",
                    "messaging.consumer.group.name": self.group_id,
                    "messaging.batch.message_count": str(len(events)),
                },
            ):
                await self.handler.many(conn, events)
        except PERMANENT as exc:
            log.info("consumer.batch_refused", group=self.group_id, error=describe(exc))
            raise _BatchRefused(str(exc)) from exc
        return True

    async def _handle(self, conn: asyncpg.Connection, item: Decoded) -> None:
        event, record = item.event, item.record
        assert event is not None
        with (
            continued_from(
                event.traceparent,
                f"{record.topic} process",
                **{
                    "messaging.system": "kafka",
                    "messaging.destination.name": record.topic,
                    "messaging.consumer.group.name": self.group_id,
                    "messaging.message.id": event.id,
                },
            ),
            structlog.contextvars.bound_contextvars(
                event_id=event.id, event_type=event.type, correlation_id=event.correlationid
            ),
        ):
            try:
                await self.handler(conn, event)
            except PERMANENT as exc:
                raise _Rejected(item, exc) from exc

    def _after_commit(self, applied: _Applied) -> None:
        consumer = self._require(self._consumer)
        for tp, position in applied.positions.items():
            part = self._partitions.get(tp)
            if part is not None and part.position is not None:
                part.position, part.stored = position, position.next_offset
                if part.passed_over is not None and (
                    part.passed_over.next_offset <= position.next_offset
                ):
                    part.passed_over = None
            highwater = consumer.highwater(tp)
            if highwater is not None:
                metrics.set_lag(
                    self.group_id, tp.topic, tp.partition, highwater - position.next_offset
                )
        for topic, n in applied.handled.items():
            metrics.EVENTS_PROCESSED.labels(group=self.group_id, topic=topic).inc(n)
        for item, dates in applied.set_aside:
            event, record = item.event, item.record
            assert event is not None
            metrics.EVENTS_SET_ASIDE.labels(
                group=self.group_id, topic=record.topic, type=event.type
            ).inc()
            log.warning(
                "consumer.event_set_aside",
                group=self.group_id,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                event_id=event.id,
                event_type=event.type,
                subject=event.subject,
                dates=dates,
            )
        for topic, n in applied.duplicates.items():
            metrics.DUPLICATES_SKIPPED.labels(group=self.group_id, topic=topic).inc(n)
            log.info("consumer.duplicates_skipped", group=self.group_id, topic=topic, count=n)

    async def _dead_letter(self, record: Any, error: BaseException) -> None:
        await self._with_retries(self._require(self._dead_letters).send, record, error)
        metrics.EVENTS_DEAD_LETTERED.labels(
            group=self.group_id, topic=record.topic, error_class=type(error).__name__
        ).inc()

    async def _commit_to_kafka(self) -> None:
        """Advisory: lag tooling reads these; the runner itself only trusts the database."""
        consumer = self._require(self._consumer)
        assigned = consumer.assignment()
        offsets = {
            tp: OffsetAndMetadata(p.uncommitted.next_offset, "")
            for tp, p in self._partitions.items()
            if p.uncommitted and tp in assigned
        }
        for part in self._partitions.values():
            part.uncommitted = None
        self._next_kafka_commit = time.monotonic() + self.kafka_commit_interval
        if not offsets:
            return
        try:
            async with asyncio.timeout(5):
                await consumer.commit(offsets)
        except (KafkaError, TimeoutError) as exc:
            log.info("consumer.kafka_commit_skipped", group=self.group_id, error=repr(exc))

    # -- positions ---------------------------------------------------------------------------

    async def _assigned(self, tps: set[TopicPartition]) -> None:
        """Park new partitions until `_position_assigned` has sought them to the stored offsets."""
        consumer = self._require(self._consumer)
        async with self._lock:
            for tp in tps:
                consumer.seek(tp, 0)  # a placeholder, so Kafka's committed offset is never used
            consumer.pause(*tps)
            for tp in tps:
                self._partitions.setdefault(tp, _Partition()).unpositioned = True
            log.info("consumer.partitions_assigned", group=self.group_id, partitions=_names(tps))

    async def _revoked(self, tps: set[TopicPartition]) -> None:
        """Waits for the batch in flight, so the next owner reads positions that include it."""
        async with self._lock:
            for tp in tps:
                self._partitions.pop(tp, None)
                metrics.drop_lag(self.group_id, tp.topic, tp.partition)
            if tps:
                log.info("consumer.partitions_revoked", group=self.group_id, partitions=_names(tps))

    async def _position_assigned(self) -> None:
        async with self._lock:
            await self._with_retries(self._seek_to_stored)

    async def _seek_to_stored(self) -> None:
        consumer = self._require(self._consumer)
        tps = {tp for tp, p in self._partitions.items() if p.unpositioned} & consumer.assignment()
        async with self.pool.acquire() as conn:
            stored = await load_positions(conn, self.group_id, tps)
        verdict = await self._require(self._detector).examine(stored)
        lost = verdict.lost
        if lost:
            await self._forget(lost)
        fresh = [tp for tp in tps if tp not in stored or tp in lost]
        starts = await self._require(self._detector).beginning_offsets(fresh)
        chosen = {tp: Position(starts[tp]) if tp in starts else stored[tp] for tp in tps}
        for tp, position in chosen.items():
            consumer.seek(tp, position.next_offset)
            part = self._partitions[tp]
            part.position, part.passed_over = position, None
            part.stored = None if tp in fresh else position.next_offset
            part.vouched = time.time() * 1000  # the broker's answer just now
            part.suspect = part.suspect or tp in verdict.unverified
        consumer.resume(*tps)
        for part in self._partitions.values():
            part.unpositioned = False
        log.info(
            "consumer.partitions_positioned",
            group=self.group_id,
            offsets={_name(tp): p.next_offset for tp, p in chosen.items()},
        )

    async def _verified(
        self, batch: Mapping[TopicPartition, list[Any]], fetched_at: Mapping[TopicPartition, float]
    ) -> dict[TopicPartition, list[Any]]:
        """The batch minus partitions whose log is not the one their position was taken from."""
        now = time.monotonic()
        due = now >= self._next_check
        quiet_ms = self.verify_after_quiet * 1000
        positioned = self._positioned()
        check = {
            tp
            for tp in batch
            if tp in positioned
            and (
                due
                or self._partitions[tp].suspect
                or fetched_at[tp] - self._partitions[tp].vouched >= quiet_ms
            )
        }
        if due:
            self._next_check = now + self.loss_check_interval
        failed = await self._act_on(await self._examine(check)) if check else set()
        kept = {tp: records for tp, records in batch.items() if tp not in failed}
        for tp in kept:
            if tp in self._partitions:
                self._partitions[tp].vouched = fetched_at[tp]
        return kept

    async def _check_for_loss(self) -> None:
        """For partitions without traffic: a loss is logged and healed before the next event."""
        async with self._lock:
            self._next_check = time.monotonic() + self.loss_check_interval
            await self._act_on(await self._examine(set(self._positioned())))

    async def _examine(self, tps: set[TopicPartition]) -> Verdict:
        return await self._require(self._detector).examine({tp: self._position(tp) for tp in tps})

    async def _act_on(self, verdict: Verdict) -> set[TopicPartition]:
        """Restart lost partitions, re-read unverified ones after another look; returns both."""
        consumer = self._require(self._consumer)
        if verdict.lost:
            await self._restart(verdict.lost)
        for tp in verdict.unverified:
            consumer.seek(tp, self._position(tp).next_offset)
        for tp in verdict.lost.keys() | verdict.unverified:
            if tp in self._partitions:
                self._partitions[tp].suspect = tp in verdict.unverified
        return set(verdict.lost) | verdict.unverified

    async def _restart(self, reasons: Mapping[TopicPartition, str]) -> None:
        """Read partitions again from the beginning; processed_events makes the replay a no-op."""
        consumer = self._require(self._consumer)
        positioned = self._positioned()
        tps = [tp for tp in reasons if tp in positioned]
        if not tps:
            return
        await self._with_retries(self._forget, {tp: reasons[tp] for tp in tps})
        starts = await self._with_retries(self._require(self._detector).beginning_offsets, tps)
        for tp in tps:
            consumer.seek(tp, starts[tp])
            part = self._partitions[tp]
            part.position, part.passed_over = Position(starts[tp]), None
            part.stored = None  # forgotten: the next batch inserts the row again

    async def _forget(self, reasons: Mapping[TopicPartition, str]) -> None:
        async with self.pool.acquire() as conn:
            await forget_positions(conn, self.group_id, reasons)
        for tp, reason in reasons.items():
            metrics.PARTITION_RESTARTS.labels(group=self.group_id, topic=tp.topic).inc()
            log.warning(
                "consumer.partition_restarted",
                group=self.group_id,
                topic=tp.topic,
                partition=tp.partition,
                reason=reason,
            )

    # -- helpers -----------------------------------------------------------------------------

    def _positioned(self) -> dict[TopicPartition, Position]:
        """The partitions the runner has sought to a position, and those positions."""
        return {tp: p.position for tp, p in self._partitions.items() if p.position is not None}

    def _position(self, tp: TopicPartition) -> Position:
        position = self._partitions[tp].position
        assert position is not None, f"{_name(tp)} is not positioned"
        return position

    def _stored(self, tp: TopicPartition) -> int | None:
        part = self._partitions.get(tp)
        return part.stored if part else None

    async def _with_retries(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        retrying = AsyncRetrying(
            retry=retry_if_exception(_retryable),
            stop=stop_never,
            reraise=True,
            wait=wait_exponential_jitter(multiplier=0.05, max=self.max_retry_wait),
            before_sleep=self._log_retry,
        )
        return await retrying(fn, *args)

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if exc is None:
            return
        metrics.RETRIES.labels(group=self.group_id, error_class=type(exc).__name__).inc()
        wait = round(state.next_action.sleep, 3) if state.next_action else None
        if is_transient(exc):
            log.warning(
                "consumer.retrying",
                group=self.group_id,
                attempt=state.attempt_number,
                error_class=describe(exc),
                error=str(exc),
                retry_in=wait,
            )
        else:
            log.error(
                "consumer.retrying_unexpected_error",
                group=self.group_id,
                attempt=state.attempt_number,
                retry_in=wait,
                exc_info=exc,
            )

    @staticmethod
    def _require(client: T | None) -> T:
        if client is None:
            raise RuntimeError("the consumer session is not running")
        return client


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, runner: ConsumerRunner) -> None:
        self._runner = runner

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._runner._revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        await self._runner._assigned(set(assigned))


def _positions_after(decoded: Sequence[Decoded]) -> dict[TopicPartition, Position]:
    """Each partition's next offset and last record, whatever became of the records."""
    last: dict[TopicPartition, Any] = {}
    for item in decoded:
        last[TopicPartition(item.record.topic, item.record.partition)] = item.record
    return {tp: Position(r.offset + 1, record_identity(r)) for tp, r in last.items()}


def _name(tp: TopicPartition) -> str:
    return f"{tp.topic}[{tp.partition}]"


def _names(tps: Iterable[TopicPartition]) -> list[str]:
    return sorted(_name(tp) for tp in tps)
