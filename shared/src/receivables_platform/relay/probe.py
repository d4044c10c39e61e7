"""Has the broker forgotten what it acked? Checked without new writes, every few seconds.

A partition's end offset at or below the offset the relay last saw acked
means the acked record is gone (memory-only broker restarted, unclean leader
election). Some brokers under-report the end offset (the embedded one answers
with the start of the last record batch), so a low end offset is only a
suspicion, confirmed by fetching from the reported end: a record at or past
the acked offset comes back if it is still there. A broker that answers such
a fetch with nothing, or with nothing before the deadline (some answer an
offset past the end with an empty fetch rather than an error), holds nothing
there. The deadline is the request timeout, not a guess of a busy broker's
speed: a false loss re-publishes the whole partition.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import OffsetOutOfRangeError

from receivables_platform.relay.broker import BROKER_ERRORS, BrokerUnavailable, stop_within
from receivables_platform.relay.outbox import TopicPartition as TP
from receivables_platform.settings import KafkaSettings

_FETCH_WAIT_MS = 100
_CONFIRM_DEADLINE = 10.0


class BrokerProbe:
    def __init__(self, kafka: KafkaSettings, request_timeout: float) -> None:
        self._kafka = kafka
        self._timeout = request_timeout
        self._clients: tuple[AIOKafkaAdminClient, AIOKafkaConsumer] | None = None

    async def lost_partitions(self, acked: Mapping[TP, int]) -> set[TP]:
        if not acked:
            return set()
        try:
            admin, consumer = await self._started()
            async with asyncio.timeout(self._timeout * 2):
                ends = await self._end_offsets(admin, consumer, set(acked))
                absent = {tp for tp, end in ends.items() if end is None}
                suspects = {
                    tp: (end, acked[tp])
                    for tp, end in ends.items()
                    if end is not None and end <= acked[tp]
                }
                return absent | await self._gone(consumer, suspects)
        except BROKER_ERRORS as exc:
            await self.close()
            raise BrokerUnavailable(f"could not read partition ends: {exc!r}") from exc

    async def close(self) -> None:
        clients, self._clients = self._clients, None
        if clients is not None:
            admin, consumer = clients
            await stop_within(admin.close(), self._timeout)
            await stop_within(consumer.stop(), self._timeout)

    async def _end_offsets(
        self, admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer, wanted: set[TP]
    ) -> dict[TP, int | None]:
        """Each partition's end offset; None for a partition or topic the broker no longer has."""
        existing = _partitions_by_topic(await admin.describe_topics())
        present = [TopicPartition(t, p) for t, p in wanted if p in existing.get(t, ())]
        ends = await consumer.end_offsets(present) if present else {}
        return {tp: ends.get(TopicPartition(*tp)) for tp in wanted}

    async def _gone(
        self, consumer: AIOKafkaConsumer, suspects: Mapping[TP, tuple[int, int]]
    ) -> set[TP]:
        """The suspects (reported end, acked offset) with no record at or past the acked offset."""
        acked = {TopicPartition(*tp): offsets[1] for tp, offsets in suspects.items()}
        if not acked:
            return set()
        consumer.assign(list(acked))
        for tp, (end, _) in suspects.items():
            consumer.seek(TopicPartition(*tp), end)
        held: set[TopicPartition] = set()
        answered: set[TopicPartition] = set()
        deadline = time.monotonic() + min(self._timeout, _CONFIRM_DEADLINE)
        while answered != acked.keys() and time.monotonic() < deadline:
            try:
                batches = await consumer.getmany(timeout_ms=_FETCH_WAIT_MS * 2)
            except OffsetOutOfRangeError as exc:
                batches = {tp: [] for tp in _out_of_range(exc, acked)}
            for tp, records in batches.items():
                if records and records[-1].offset >= acked[tp]:
                    held.add(tp)
                if not records or tp in held:
                    answered.add(tp)
                    consumer.pause(tp)
        consumer.unsubscribe()
        return {(tp.topic, tp.partition) for tp in acked.keys() - held}

    async def _started(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._clients is None:
            options = self._kafka.client_options()
            timeout_ms = int(self._timeout * 1000)
            admin = AIOKafkaAdminClient(**options, request_timeout_ms=timeout_ms)
            consumer = AIOKafkaConsumer(
                **options,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="none",
                request_timeout_ms=timeout_ms,
                fetch_max_wait_ms=_FETCH_WAIT_MS,
            )
            self._clients = (admin, consumer)
            try:
                async with asyncio.timeout(self._timeout * 2):
                    await admin.start()
                    await consumer.start()
            except BaseException:
                await self.close()
                raise
        return self._clients


def _partitions_by_topic(metadata: list[Any]) -> dict[str, set[int]]:
    """All topics' metadata: asking for named topics would auto-create them on some brokers."""
    return {
        t["topic"]: {p["partition"] for p in t["partitions"]}
        for t in metadata
        if t["error_code"] == 0
    }


def _out_of_range(
    exc: OffsetOutOfRangeError,
    asked: Mapping[TopicPartition, int],
) -> list[TopicPartition]:
    """The partitions the broker says end before the acked offset; all asked if it won't say."""
    reported = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    return [tp for tp in asked if tp in reported] or list(asked)
