"""Detecting that the broker lost or rewrote a partition's log behind the consumer's back.

An embedded broker restart (memory storage) or an unclean leader election on
Apache Kafka leaves a partition whose offsets no longer mean what the stored
position assumed. Two signs, both plain Kafka protocol:

- the partition ends before the stored offset: records were lost;
- the record just before the stored offset is not the one the consumer last
  processed: the log was rewritten. The relay re-publishes everything after a
  broker loss, possibly faster than anyone looks, so the end offset alone can
  be back above the stored offset with different records underneath it.

Either way the partition is read again from the beginning; the processed-events
table turns everything already applied into a no-op.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError, OffsetOutOfRangeError

from receivables_platform.consumer.offsets import Position
from receivables_platform.consumer.records import record_identity
from receivables_platform.settings import KafkaSettings

log = structlog.get_logger("receivables_platform.consumer")

OUT_OF_RANGE = "(offset out of range)"


@dataclass
class Verdict:
    lost: dict[TopicPartition, str] = field(default_factory=dict)
    """Partitions to read again from the beginning, with the reason."""
    unverified: set[TopicPartition] = field(default_factory=set)
    """Partitions the broker gave no answer for: no verdict yet, ask again."""


class LossDetector:
    """Looks with its own group-less consumer, so the group's fetch positions stay put."""

    def __init__(self, kafka: KafkaSettings, *, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self._probe = AIOKafkaConsumer(
            **kafka.client_options(),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="none",
            request_timeout_ms=int(timeout * 1000),
            max_partition_fetch_bytes=64 * 1024,
        )

    async def start(self) -> None:
        await self._probe.start()

    async def stop(self) -> None:
        await self._probe.stop()

    async def beginning_offsets(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        wanted = list(tps)
        if not wanted:
            return {}
        async with asyncio.timeout(self.timeout):
            offsets: dict[TopicPartition, int] = await self._probe.beginning_offsets(wanted)
        return offsets

    async def examine(self, positions: Mapping[TopicPartition, Position]) -> Verdict:
        """Which stored positions the broker no longer backs, and which it would not tell.

        End offsets come first: not every broker answers a fetch beyond the end
        with OFFSET_OUT_OF_RANGE (the embedded one just waits), so a look for
        the anchor record is only made where the partition reaches it.
        """
        stored = {tp: p for tp, p in positions.items() if p.next_offset > 0}
        verdict = Verdict()
        ends = await self._offsets("end", stored, verdict)
        short = {tp for tp, end in ends.items() if end < stored[tp].next_offset}
        anchors = {
            tp: stored[tp].next_offset - 1 for tp in ends if stored[tp].last_event_id is not None
        }
        found = await self._identities_at(anchors)
        for tp in short:
            # A short end is only a suspicion: some brokers report the first offset of the
            # last record batch. The record we last applied still being there settles it.
            if stored[tp].last_event_id is None or found.get(tp) != stored[tp].last_event_id:
                verdict.lost[tp] = (
                    f"partition ends at {ends[tp]}, "
                    f"below the stored offset {stored[tp].next_offset}"
                )
        for tp, offset in anchors.items():
            expected = stored[tp].last_event_id
            if tp in short:
                continue
            if tp not in found:
                verdict.unverified.add(tp)
            elif found[tp] not in (OUT_OF_RANGE, expected):
                verdict.lost[tp] = f"record at offset {offset} is {found[tp]}, not {expected}"
        await self._explain_missing_anchors(
            {
                tp: anchors[tp]
                for tp in anchors
                if found.get(tp) == OUT_OF_RANGE and tp not in short
            },
            verdict,
        )
        return verdict

    async def _offsets(
        self, which: str, tps: Iterable[TopicPartition], verdict: Verdict
    ) -> dict[TopicPartition, int]:
        """End or beginning offsets; partitions the broker does not answer for stay unverified."""
        wanted = list(tps)
        if not wanted:
            return {}
        ask = self._probe.end_offsets if which == "end" else self._probe.beginning_offsets
        try:
            async with asyncio.timeout(self.timeout):
                offsets: dict[TopicPartition, int] = await ask(wanted)
        except (KafkaError, TimeoutError, OSError) as exc:
            log.warning("consumer.loss_check_failed", error=repr(exc))
            verdict.unverified |= set(wanted)
            return {}
        return offsets

    async def _explain_missing_anchors(
        self, anchors: Mapping[TopicPartition, int], verdict: Verdict
    ) -> None:
        """Below the log start, retention removed it (no loss); otherwise ask again later."""
        begins = await self._offsets("beginning", anchors, verdict)
        for tp, begin in begins.items():
            if begin <= anchors[tp]:
                verdict.unverified.add(tp)

    async def _identities_at(
        self, targets: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, str]:
        if not targets:
            return {}
        self._probe.assign(list(targets))
        for tp, offset in targets.items():
            self._probe.seek(tp, offset)
        found: dict[TopicPartition, str] = {}
        try:
            async with asyncio.timeout(self.timeout):
                while len(found) < len(targets):
                    await self._fetch_into(found, targets)
        except TimeoutError:
            pass
        finally:
            self._probe.pause(*targets)
        return found

    async def _fetch_into(
        self, found: dict[TopicPartition, str], targets: Mapping[TopicPartition, int]
    ) -> None:
        pending = [tp for tp in targets if tp not in found]
        try:
            # one record a partition is the answer: the rest of a fetch is not even parsed
            batch = await self._probe.getmany(*pending, timeout_ms=500, max_records=len(pending))
        except OffsetOutOfRangeError as exc:
            for tp in exc.args[0]:
                found[tp] = OUT_OF_RANGE
            return
        except (KafkaError, OSError) as exc:
            log.debug("consumer.loss_check_fetch_failed", error=repr(exc))
            await asyncio.sleep(0.1)
            return
        for tp, records in batch.items():
            if tp in found or not records:
                continue
            first = records[0]
            found[tp] = (
                record_identity(first)
                if first.offset == targets[tp]
                else f"(no record; the next one is at offset {first.offset})"
            )
