"""CloudEvents 1.0 envelope and its Kafka binding in binary mode.

Binary mode puts every attribute in a `ce_*` header and the event data alone in
the value, so any CloudEvents-aware tool reads our topics and the payload stays
plain JSON. The Kafka key is the `partitionkey` extension (the account id).

`sequence` (the event's version in its stream) is written zero-padded to
`SEQUENCE_DIGITS` digits. The CloudEvents sequence extension orders events by
comparing the attribute as text, and unpadded "10" sorts before "2"; 20 digits
hold every 64-bit version, so text order and number order agree. Records
published before (envelope 1.x) carry it unpadded and stay on the topics
forever: the reader takes both forms to the same number, which is how an old
envelope is upcast, and code compares `CloudEvent.sequence` as an int.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

from receivables_platform.contracts.base import EventContract, decode
from receivables_platform.ids import new_id

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
ENVELOPE_VERSION = "2.0.0"
"""The version of our envelope (the AsyncAPI document's): 2.0.0 zero-pads `sequence`."""
SEQUENCE_DIGITS = 20
_SEQUENCE_TEXT = re.compile(f"[0-9]{{1,{SEQUENCE_DIGITS}}}", re.ASCII)
_EXTENSIONS = (
    "schemaversion",
    "correlationid",
    "causationid",
    "sequence",
    "partitionkey",
    "traceparent",
)
# The model mints these when an event is created; a record read without them must not get
# fresh ones, or a redelivered copy would look like a new event to (source, id) deduplication.
_MINTED_ON_CREATE = ("id", "time")


class InvalidEnvelope(ValueError):
    """A Kafka record that is not a CloudEvent we can read: a permanent failure."""


class CloudEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: str(new_id()))
    source: str
    type: str
    specversion: str = SPEC_VERSION
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str
    datacontenttype: str = CONTENT_TYPE
    dataschema: str | None = None
    schemaversion: int = 1
    correlationid: str | None = None
    causationid: str | None = None
    sequence: int | None = None
    partitionkey: str
    traceparent: str | None = None
    data: dict[str, Any]

    @field_validator("sequence", mode="before")
    @classmethod
    def _sequence_digits(cls, value: Any) -> Any:
        """Header text must be plain digits, padded (envelope 2) or not (1.x): int() alone
        would also take "+7", " 7" or "7_0", none of which any version ever wrote."""
        if isinstance(value, str):
            if not _SEQUENCE_TEXT.fullmatch(value):
                raise ValueError(f"sequence must be 1 to {SEQUENCE_DIGITS} digits, got {value!r}")
            value = int(value)
        if isinstance(value, int) and not 1 <= value < 10**SEQUENCE_DIGITS:
            raise ValueError(f"sequence must be a stream version from 1, got {value}")
        return value

    @cached_property
    def contract(self) -> EventContract:
        """The data as its contract, upcast to the newest version; decoded once per event.

        The consumer runner decodes every record before its transaction (what
        cannot be read is dead-lettered), so a handler asking for the contract
        again gets that one instead of validating the payload a second time.
        Kept beside the fields, not in them: equality and dumps ignore it.
        """
        return decode(self.type, self.schemaversion, self.data)


HEADER_ATTRIBUTES = tuple(
    name for name in CloudEvent.model_fields if name not in ("data", "datacontenttype")
)
"""The attributes that travel as `ce_*` headers, in the order `kafka_headers` takes them."""
_HEADER_NAMES = tuple(f"ce_{name}" for name in HEADER_ATTRIBUTES)


def sequence_text(version: int) -> str:
    """`ce_sequence` for a stream version: zero-padded, so it orders as text."""
    return f"{version:0{SEQUENCE_DIGITS}d}"


def to_kafka(event: CloudEvent) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) for a binary-mode Kafka record, the data as compact JSON."""
    headers = kafka_headers(
        [
            sequence_text(event.sequence)
            if name == "sequence" and event.sequence is not None
            else getattr(event, name)
            for name in HEADER_ATTRIBUTES
        ],
        event.datacontenttype,
    )
    return event.partitionkey.encode(), _compact_json(event.data), headers


def kafka_headers(
    attributes: Sequence[Any], content_type: str = CONTENT_TYPE
) -> list[tuple[str, bytes]]:
    """The headers of a binary-mode record: `attributes` are the values of
    `HEADER_ATTRIBUTES` in that order, and an absent (None) one has no header.

    The relay calls this for every record it publishes, with values read
    straight from the event store's columns (text where it can) rather than
    through a model.
    """
    return [
        ("content-type", content_type.encode()),
        *[
            (name, value.encode() if value.__class__ is str else _header_text(value).encode())
            for name, value in zip(_HEADER_NAMES, attributes, strict=True)
            if value is not None
        ],
    ]


def _header_text(value: Any) -> str:
    return time_text(value) if isinstance(value, datetime) else str(value)


@lru_cache(maxsize=1024)
def time_text(moment: datetime) -> str:
    """RFC 3339 in UTC, as `ce_time` carries it; remembered, since the events of one
    transaction share their time (the relay publishes thousands in a row)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _compact_json(data: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(data, default=str)
    except orjson.JSONEncodeError:  # an integer wider than 64 bits, which JSON itself allows
        return json.dumps(data, separators=(",", ":"), default=str).encode()


def from_kafka(
    value: bytes | None, headers: list[tuple[str, bytes]] | tuple[Any, ...]
) -> CloudEvent:
    attrs: dict[str, Any] = {}
    content_type = CONTENT_TYPE
    for name, raw in headers:
        if name == "content-type":
            content_type = raw.decode()
        elif name.startswith("ce_"):
            attrs[name[3:]] = raw.decode()
    if attrs.get("specversion") != SPEC_VERSION:
        raise InvalidEnvelope(
            f"not a CloudEvents {SPEC_VERSION} record: specversion={attrs.get('specversion')!r}"
        )
    missing = [f"ce_{name}" for name in _MINTED_ON_CREATE if name not in attrs]
    if missing:
        raise InvalidEnvelope(f"invalid CloudEvents attributes: missing {', '.join(missing)}")
    if not content_type.startswith(CONTENT_TYPE):
        raise InvalidEnvelope(f"unsupported content-type {content_type!r}")
    try:
        data = json.loads(value or b"null")
    except ValueError as exc:
        raise InvalidEnvelope(f"payload is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidEnvelope("payload is not a JSON object")
    try:
        return CloudEvent(datacontenttype=content_type, data=data, **attrs)
    except ValueError as exc:
        raise InvalidEnvelope(f"invalid CloudEvents attributes: {exc}") from exc
