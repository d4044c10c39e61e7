"""The relay's producer, thrown away when it fails rather than trusted to recover.

A producer whose broker froze or vanished may hold stale connections and
batches; rather than trust it to recover, the relay discards it and starts a
fresh one on the next pass. Every broker call has a deadline, because a
stopped broker accepts TCP connections and then answers nothing.

The producer is idempotent (acks=all, a producer id and per-partition
sequence numbers, so a batch the broker wrote but whose ack was lost is not
written twice on retry) where the broker really has it. The answer to
ApiVersions cannot tell: Tansu lists InitProducerId and then fails it. So the
first producer tries it; a broker that refuses gets plain producers from then
on, which the log (`relay.producer_started`) and the `outbox_idempotent_producer`
gauge say. Per-key order holds either way: aiokafka has at most one produce
request in flight per broker, and each partition's next batch waits for the
ack of the one before it. No transactions: the outbox makes them unnecessary.

A broker refuses a whole record batch for one record it will never take (too
large for the topic's `max.message.bytes`, invalid for a broker-side check).
Such a batch's records are failed as retriable and the next send goes one
record per batch, so that only a record refused on its own counts as refused
for good (the relay then blocks its key and publishes the others); a refusal
for size also halves the batches this publisher builds from then on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError
from aiokafka.partitioner import DefaultPartitioner, murmur2
from aiokafka.producer.message_accumulator import BatchBuilder

from receivables_platform.relay.metrics import IDEMPOTENT_PRODUCER
from receivables_platform.relay.outbox import OutboxRow
from receivables_platform.relay.settlement import RECORD_REFUSALS, SIZE_REFUSALS, SendResult
from receivables_platform.settings import KafkaSettings

# A pass sends hundreds of records per partition: one produce request carries them all
# (the 16 KiB default made dozens of requests per pass). Under max_request_size (1 MiB).
MAX_BATCH_BYTES = 512 * 1024
# The smallest batch a size refusal halves down to: below it, records go one per batch anyway.
MIN_BATCH_BYTES = 16 * 1024
log = structlog.get_logger("receivables_platform.relay")
BROKER_ERRORS: tuple[type[BaseException], ...] = (KafkaError, TimeoutError, OSError)


class BatchRefused(KafkaError):
    """The broker refused the batch this record was in: retried, one record per batch."""

    retriable = True


class BrokerUnavailable(Exception):
    """The broker did not answer in time; the relay backs off and retries with fresh clients."""


class NotSent(Exception):
    """The record never got an answer from the broker before the deadline."""


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Read a late failure so asyncio does not log it as never retrieved."""
    if not future.cancelled():
        future.exception()


class Publisher:
    def __init__(
        self, kafka: KafkaSettings, request_timeout: float, service_name: str = "relay"
    ) -> None:
        self._kafka = kafka
        self._timeout = request_timeout
        self._service = service_name
        self._producer: AIOKafkaProducer | None = None
        self.idempotent: bool | None = None
        """None until a producer started: whether the broker took InitProducerId."""
        self._batch_bytes = MAX_BATCH_BYTES
        self._one_per_batch = False

    async def send(self, rows: Sequence[OutboxRow]) -> list[SendResult]:
        """One result per row, in order: its broker ack, or why it has none.

        The rows go out as one record batch per partition (more when one would
        pass the batch size), each in the rows' order, rather than as a send
        and a future per record. A record's offset is its batch's base offset
        plus its place in the batch, which is how the broker assigns them.
        """
        producer = await self._started()
        one_per_batch, self._one_per_batch = self._one_per_batch, False
        results: list[SendResult | None] = [None] * len(rows)
        error: BaseException = NotSent("no broker answer before the deadline")
        try:
            async with asyncio.timeout(self._timeout * 1.5):
                partitions = await _by_partition(producer, rows)
                await asyncio.gather(
                    *(
                        self._send_in_order(
                            producer, topic_partition, rows, places, results, one_per_batch
                        )
                        for topic_partition, places in partitions.items()
                    )
                )
        except BROKER_ERRORS as exc:
            error = exc
        return [error if result is None else result for result in results]

    async def _send_in_order(
        self,
        producer: AIOKafkaProducer,
        topic_partition: tuple[str, int],
        rows: Sequence[OutboxRow],
        places: list[int],
        results: list[SendResult | None],
        one_per_batch: bool,
    ) -> None:
        """One partition's batches, each sent once the one before it was acked.

        After a batch fails, the partition's later batches are not sent: a later row of
        one of its keys must not reach the topic before the failed row (which the next
        pass sends again, or a refusal blocks). The producer sends one request at a time
        per broker anyway, so waiting for each batch costs no round trip.
        """
        topic, partition = topic_partition
        batches = _batches(producer, rows, places, one_per_batch)
        for batch, batch_places in batches:
            outcome: SendResult
            try:
                future = await producer.send_batch(batch, topic, partition=partition)
                future.add_done_callback(_retrieve)
                await asyncio.wait([future])
                outcome = _result(future, NotSent("the batch was dropped"))
            except BROKER_ERRORS as exc:
                outcome = exc
            if isinstance(outcome, RECORD_REFUSALS) and len(batch_places) > 1:
                outcome = self._refused_batch(outcome, batch_places)
            for relative, place in enumerate(batch_places):
                results[place] = (
                    outcome
                    if isinstance(outcome, BaseException)
                    else outcome._replace(offset=outcome.offset + relative)
                )
            if isinstance(outcome, BaseException):
                held = NotSent(f"not sent: an earlier batch on {topic}[{partition}] failed")
                for _, later in batches:
                    for place in later:
                        results[place] = held
                return

    def _refused_batch(self, refusal: BaseException, places: list[int]) -> BatchRefused:
        """Which of the batch's records the broker will not take, only a batch each can tell."""
        self._one_per_batch = True
        if isinstance(refusal, SIZE_REFUSALS) and self._batch_bytes > MIN_BATCH_BYTES:
            # the relay discards the producer after a failed pass: the next one builds these
            self._batch_bytes = max(MIN_BATCH_BYTES, self._batch_bytes // 2)
        return BatchRefused(f"the broker refused a batch of {len(places)} records: {refusal!r}")

    async def discard(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await stop_within(producer.stop(), self._timeout)

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer: AIOKafkaProducer | None = None
            if self.idempotent is not False:
                producer = await self._start(idempotent=True)
            if producer is None:
                producer = await self._start(idempotent=False)
                assert producer is not None
            self._producer = producer
        return self._producer

    async def _start(self, *, idempotent: bool) -> AIOKafkaProducer | None:
        """A started producer; None when the broker refused an idempotent one, which it will
        go on refusing (an answer, unlike a broker that does not answer at all)."""
        producer = AIOKafkaProducer(
            **self._kafka.client_options(),
            acks="all",
            enable_idempotence=idempotent,
            request_timeout_ms=int(self._timeout * 1000),
            retry_backoff_ms=200,
            max_batch_size=self._batch_bytes,
            partitioner=partition_for,
        )
        try:
            async with asyncio.timeout(self._timeout):
                await producer.start()
        except BROKER_ERRORS as exc:
            await stop_within(producer.stop(), self._timeout)
            if (
                idempotent
                and isinstance(exc, KafkaError)
                and not isinstance(exc, KafkaConnectionError)
            ):
                self._detected(False, refusal=repr(exc))
                return None
            raise BrokerUnavailable(f"producer did not start: {exc!r}") from exc
        if self.idempotent is None:
            self._detected(idempotent)
        return producer

    def _detected(self, idempotent: bool, **why: str) -> None:
        self.idempotent = idempotent
        IDEMPOTENT_PRODUCER.labels(self._service).set(1 if idempotent else 0)
        log.info("relay.producer_started", service=self._service, idempotent=idempotent, **why)


@lru_cache(maxsize=65_536)
def _key_hash(key: bytes) -> int:
    return int(murmur2(key)) & 0x7FFFFFFF


def partition_for(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """The Java client's (and aiokafka's default) murmur2 choice, remembered per key.

    aiokafka hashes in pure Python, a noticeable share of a pass's CPU; one
    account's events share a key, so most keys of a pass were hashed before.
    """
    if key is None:
        return int(DefaultPartitioner()(key, all_partitions, available))
    return all_partitions[_key_hash(key) % len(all_partitions)]


async def _by_partition(
    producer: AIOKafkaProducer,
    rows: Sequence[OutboxRow],
) -> dict[tuple[str, int], list[int]]:
    """Each row's place in `rows`, grouped by the partition its key goes to, in order."""
    partitions: dict[str, tuple[list[int], list[int]]] = {}
    groups: dict[tuple[str, int], list[int]] = {}
    for place, row in enumerate(rows):
        if row.topic not in partitions:
            known = list(await producer.partitions_for(row.topic))
            available = list(producer.client.cluster.available_partitions_for_topic(row.topic))
            partitions[row.topic] = (known, available)
        partition = partition_for(row.key.encode(), *partitions[row.topic])
        groups.setdefault((row.topic, partition), []).append(place)
    return groups


def _batches(
    producer: AIOKafkaProducer,
    rows: Sequence[OutboxRow],
    places: list[int],
    one_per_batch: bool = False,
) -> Iterator[tuple[BatchBuilder, list[int]]]:
    """The rows at `places` as record batches of at most the producer's batch size, in
    order; a record larger than that goes in a batch of its own."""
    batch, in_batch = producer.create_batch(), list[int]()
    for place in places:
        row = rows[place]
        if one_per_batch and in_batch:
            yield batch, in_batch
            batch, in_batch = producer.create_batch(), []
        while (
            batch.append(key=row.key.encode(), value=row.value, timestamp=None, headers=row.headers)
            is None
        ):
            if not in_batch:  # aiokafka takes any record into an empty batch: a broken client
                raise KafkaError(f"outbox row {rows[place].id} does not fit an empty batch")
            yield batch, in_batch
            batch, in_batch = producer.create_batch(), []
        in_batch.append(place)
    if in_batch:
        yield batch, in_batch


def _result(future: asyncio.Future[Any], error: BaseException) -> SendResult:
    if not future.done() or future.cancelled():
        return error
    exc = future.exception()
    return exc if exc is not None else future.result()


_stopping: set[asyncio.Future[Any]] = set()


async def stop_within(stopping: Awaitable[Any], seconds: float) -> None:
    """Stopping flushes, which on a frozen broker does not end: wait a while, then let it finish
    in the background, since a client cancelled halfway through stopping leaks its tasks."""
    future = asyncio.ensure_future(stopping)
    _stopping.add(future)
    future.add_done_callback(_stopping.discard)
    future.add_done_callback(_retrieve)
    await asyncio.wait([future], timeout=seconds)
