"""Dead letters: the original record, untouched, on `<topic>.dlq` with why it failed in headers.

Key, value and headers are copied byte for byte so the record can be inspected
with any CloudEvents tool and re-driven to its topic once the cause is fixed.
A dead letter is sent and acknowledged before the consumer's offset moves past
the record, so a crash in between repeats the dead letter rather than losing it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from receivables_platform.consumer.errors import describe
from receivables_platform.kafka.topics import dead_letter_topic, ensure_topics
from receivables_platform.settings import KafkaSettings

log = structlog.get_logger("receivables_platform.consumer")

MAX_MESSAGE_BYTES = 4000
ERROR_CLASS = "dlq-error-class"
ERROR_MESSAGE = "dlq-error-message"
ORIGINAL_TOPIC = "dlq-original-topic"
ORIGINAL_PARTITION = "dlq-original-partition"
ORIGINAL_OFFSET = "dlq-original-offset"
CONSUMER_GROUP = "dlq-consumer-group"
FAILED_AT = "dlq-failed-at"


def error_headers(record: Any, error: BaseException, group: str) -> list[tuple[str, bytes]]:
    message = str(error).encode("utf-8", "replace")[:MAX_MESSAGE_BYTES]
    return [
        (ERROR_CLASS, describe(error).encode()),
        (ERROR_MESSAGE, message),
        (ORIGINAL_TOPIC, record.topic.encode()),
        (ORIGINAL_PARTITION, str(record.partition).encode()),
        (ORIGINAL_OFFSET, str(record.offset).encode()),
        (CONSUMER_GROUP, group.encode()),
        (FAILED_AT, datetime.now(UTC).isoformat().encode()),
    ]


class DeadLetters:
    def __init__(self, kafka: KafkaSettings, group: str) -> None:
        self.kafka = kafka
        self.group = group
        self._producer = AIOKafkaProducer(
            **kafka.client_options(), acks="all", request_timeout_ms=15000
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send(self, record: Any, error: BaseException) -> None:
        """Raises KafkaError when the broker does not take it: the caller retries."""
        topic = dead_letter_topic(record.topic)
        headers = [*(record.headers or ()), *error_headers(record, error, self.group)]
        try:
            await self._producer.send_and_wait(
                topic, value=record.value, key=record.key, headers=headers
            )
        except KafkaError:
            await self._recreate(topic)
            raise
        log.warning(
            "consumer.dead_lettered",
            group=self.group,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error_class=describe(error),
            error=str(error)[:500],
        )

    async def _recreate(self, topic: str) -> None:
        """A broker that lost its data lost the dead-letter topic too; the retry needs it back."""
        try:
            await ensure_topics(self.kafka, [topic], with_dead_letters=False)
        except Exception as exc:  # the send's own error is what the caller sees
            log.debug("consumer.dead_letter_topic_unavailable", topic=topic, error=str(exc))
