"""What a batch's broker answers mean for the outbox: which rows count as sent.

A row counts as sent only when the broker acked it. Once a key has a failed
send in a batch, its later rows are not marked either even if acked, so the
retry re-sends them after the failed one and the newest copy of each key's
events is in order. An ack at or below the offset the broker acked before on
that partition means the broker lost data: nothing on that partition is
marked, and the partition is handed back for re-publishing. An ack on a
partition never acked before, of a topic acked before, is marked but flagged
as new: a topic re-created with another partition count (or expanded) moves
keys, and the relay then checks the topic's other partitions for loss at once.

A row the broker refused for good (`RECORD_REFUSALS`; only ever a record sent
on its own, see `broker`) is a refusal, not a failure: it blocks its key from
that row on, and the pass is not retried for it. A refusal after the key
already failed in the batch is only a failure: the key's earlier row goes first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

from aiokafka import errors as kafka_errors
from aiokafka.errors import BrokerResponseError, MessageSizeTooLargeError, RecordListTooLargeError
from aiokafka.structs import RecordMetadata

from receivables_platform.relay.outbox import Ack, OutboxRow, Refusal, TopicPartition

SendResult: TypeAlias = RecordMetadata | BaseException


class InvalidRecordError(BrokerResponseError):
    """Kafka's INVALID_RECORD (87, KIP-467): a broker-side check refused a record (a key
    missing on a compacted topic, a broker's schema validation). aiokafka 0.14 does not know
    the code and would report it as UnknownError, which says nothing about the record."""

    errno = 87
    message = "INVALID_RECORD"
    description = "The record was refused by a broker-side validation."


kafka_errors.kafka_errors.setdefault(InvalidRecordError.errno, InvalidRecordError)

SIZE_REFUSALS: tuple[type[BaseException], ...] = (MessageSizeTooLargeError, RecordListTooLargeError)
RECORD_REFUSALS: tuple[type[BaseException], ...] = (*SIZE_REFUSALS, InvalidRecordError)
"""Answers about the record itself, which no retry changes. Errors about the topic or the
cluster (authorization, an unknown topic) are retried instead: blocking keys one by one
for them would set the whole topic aside."""


@dataclass
class Settlement:
    acks: list[Ack] = field(default_factory=list)
    high_water: dict[TopicPartition, int] = field(default_factory=dict)
    lost: set[TopicPartition] = field(default_factory=set)
    failed: list[BaseException] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    new_partitions: set[TopicPartition] = field(default_factory=set)


def settle(
    rows: Sequence[OutboxRow], results: Sequence[SendResult], acked: Mapping[TopicPartition, int]
) -> Settlement:
    outcome = Settlement(lost=_lost_partitions(rows, results, acked))
    held_keys: set[tuple[str, str]] = set()
    refused_keys: set[tuple[str, str]] = set()
    known_topics = {topic for topic, _ in acked}
    for row, result in zip(rows, results, strict=True):
        key = (row.topic, row.key)
        if isinstance(result, BaseException):
            if key in refused_keys:
                continue  # waits behind its key's refused row, whatever became of it
            if isinstance(result, RECORD_REFUSALS) and key not in held_keys:
                outcome.refused.append(Refusal(row.id, row.topic, row.key, repr(result)))
                refused_keys.add(key)
            else:
                outcome.failed.append(result)
            held_keys.add(key)
            continue
        tp = (row.topic, result.partition)
        if key in held_keys or tp in outcome.lost:
            held_keys.add(key)
            continue
        outcome.acks.append(Ack(row.id, row.topic, result.partition, result.offset))
        if tp not in acked and row.topic in known_topics:
            outcome.new_partitions.add(tp)
        outcome.high_water[tp] = max(result.offset, outcome.high_water.get(tp, -1))
    return outcome


def _lost_partitions(
    rows: Sequence[OutboxRow], results: Sequence[SendResult], acked: Mapping[TopicPartition, int]
) -> set[TopicPartition]:
    lost: set[TopicPartition] = set()
    for row, result in zip(rows, results, strict=True):
        if isinstance(result, BaseException):
            continue
        tp = (row.topic, result.partition)
        if tp in acked and result.offset <= acked[tp]:
            lost.add(tp)
    return lost
