"""Turning a Kafka record into the CloudEvent a handler sees, or into the reason it cannot be.

Decoding happens before the database transaction, so a record that can never
be read is dead-lettered without touching the read model. With contract
validation on, the handler receives the event upcast to the newest version of
its contract: handlers only ever see the current shape.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from receivables_platform.envelope import CloudEvent, from_kafka

EventKey = tuple[str, str]
"""(source, id): what makes two CloudEvents the same event, whatever offset they arrive at."""


@dataclass(frozen=True)
class Decoded:
    record: Any  # aiokafka ConsumerRecord
    event: CloudEvent | None = None
    error: Exception | None = None
    key: EventKey | None = None  # the event's, when it has one


def decode_record(record: Any, *, validate_contracts: bool) -> Decoded:
    try:
        event = from_kafka(record.value, record.headers)
        if validate_contracts:
            contract = event.contract
            # the copy keeps the contract just decoded: the same one its new data decodes to
            event = event.model_copy(
                update={"data": contract.payload(), "schemaversion": contract.version}
            )
    except Exception as exc:  # any failure to read it is the record's: the caller dead-letters it
        return Decoded(record, error=exc)
    return Decoded(record, event=event, key=(event.source, event.id))


def record_identity(record: Any) -> str:
    """What the record at an offset was, so a later look can tell whether the log was rewritten.

    The CloudEvents id when the record has one; otherwise a digest of key and
    value, so even an undecodable record (which was dead-lettered) still
    anchors the check.
    """
    for name, value in record.headers or ():
        if name == "ce_id":
            return bytes(value).decode("utf-8", "replace")
    digest = hashlib.sha256()
    digest.update(record.key or b"")
    digest.update(b"\x00")
    digest.update(record.value or b"")
    return "sha256:" + digest.hexdigest()[:32]
