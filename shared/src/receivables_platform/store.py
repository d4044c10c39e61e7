"""The append-only event store of one service, on PostgreSQL.

`UNIQUE(stream_id, version)` is the optimistic concurrency check: two writers
that read the same version race for the same row and exactly one wins; the
other gets `ConcurrencyError` and the API answers 409/412. Events and their
outbox rows go in in one transaction, so nothing is stored unpublished or
published unstored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from receivables_platform.contracts.base import EventContract, decode
from receivables_platform.contracts.schemas import schema_id
from receivables_platform.envelope import (
    SPEC_VERSION,
    CloudEvent,
    kafka_headers,
    sequence_text,
    time_text,
)
from receivables_platform.ids import new_id
from receivables_platform.tracing import current_traceparent, tracer

OUTBOX_CHANNEL = "outbox"
# Held (session-level, exclusively) by a relay that waits for a NOTIFY before its next pass.
# An append takes it shared for its transaction: taken, no relay is waiting (the relay will
# look again by itself, and cannot start waiting before this transaction ends), so the
# commit needs no NOTIFY; refused, a relay is waiting, so the commit notifies it. A NOTIFY
# costs a commit-time lock every notifying transaction queues on, and a wake-up of the
# relay's backend and process: at 500 events/s, one an event.
RELAY_WAITING_LOCK = int.from_bytes(
    hashlib.sha256(b"receivables_platform.relay:waiting for a notify").digest()[:8],
    "big",
    signed=True,
)


class ConcurrencyError(Exception):
    """The stream moved on since the caller read it."""

    def __init__(self, stream_id: str, expected: int, actual: int | None = None) -> None:
        self.stream_id, self.expected, self.actual = stream_id, expected, actual
        super().__init__(
            f"stream {stream_id} is not at version {expected}"
            + (f" (it is at {actual})" if actual is not None else "")
        )


class EventTooLarge(Exception):
    """An event bigger than the broker takes: refused before anything is stored.

    Stored, it would stay at the head of the outbox and stop the service's relay
    from publishing anything behind it on its key; the caller sees the limit instead.
    """

    def __init__(self, stream_id: str, event_type: str, size: int, limit: int) -> None:
        self.stream_id, self.event_type, self.size, self.limit = stream_id, event_type, size, limit
        super().__init__(
            f"a {event_type} event of about {size} bytes is over the {limit}-byte "
            "limit on one event (EVENT_MAX_BYTES)"
        )


class EventLimits(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    max_bytes: int = Field(default=1_000_000, ge=4096, validation_alias="EVENT_MAX_BYTES")
    """The largest Kafka record one event may become (key, value and headers). Keep it
    below the topics' `max.message.bytes` (Kafka's default is 1 MiB plus 12 bytes)."""


@lru_cache(maxsize=1)
def event_limits() -> EventLimits:
    """The process's limits, read from the environment once."""
    return EventLimits()


# A record batch's header (61 bytes) and the record's own varints, with room to spare.
_RECORD_FRAMING = 128
# Header names, the content type and the fixed-length values (id, time, spec and schema
# versions, sequence), as an upper bound: what the quick check adds to the variable parts.
_FIXED_HEADERS = 512
_SAMPLE_TIME = time_text(datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=UTC))


@dataclass(frozen=True)
class RecordedEvent:
    position: int
    event_id: UUID
    stream_id: str
    stream_type: str
    version: int
    type: str
    schema_version: int
    source: str
    subject: str
    partition_key: str
    data: dict[str, Any]
    correlation_id: str | None
    causation_id: str | None
    traceparent: str | None
    recorded_at: datetime

    def contract(self) -> EventContract:
        return decode(self.type, self.schema_version, self.data)

    def cloud_event(self) -> CloudEvent:
        """The envelope, built without validating again what the store's typed columns hold
        (the relay builds one per record it publishes)."""
        return CloudEvent.model_construct(
            id=str(self.event_id),
            source=self.source,
            type=self.type,
            time=self.recorded_at,
            subject=self.subject,
            schemaversion=self.schema_version,
            dataschema=schema_id(self.type, self.schema_version),
            correlationid=self.correlation_id,
            causationid=self.causation_id,
            sequence=self.version,
            partitionkey=self.partition_key,
            traceparent=self.traceparent,
            data=self.data,
        )


_COLUMNS = (
    "position, event_id, stream_id, stream_type, version, type, schema_version, source, "
    "subject, partition_key, data, correlation_id, causation_id, traceparent, recorded_at"
)

# Events, their outbox rows and, when the relay waits for one, its wake-up in one
# statement: atomic without an explicit transaction, one round trip. Outbox ids follow
# event positions, so one transaction's events go out in the order they were appended.
# Payloads go in as JSON text, serialised once by the contract rather than dumped to
# dicts and encoded again by the driver (a bulk import appends thousands per statement).
# What every event of one append shares (source, correlation, causation, trace) is one
# parameter, not an array of copies the driver encodes element by element. The CASE
# evaluates its ELSE (and so notifies) only when the relay's waiting lock is held.
_APPEND_RETURNING = """
WITH inserted AS (
    INSERT INTO events (event_id, stream_id, stream_type, version, type, schema_version, source,
                        subject, partition_key, data, correlation_id, causation_id, traceparent)
    SELECT e, s, st, v, t, sv, $10, su, pk, d::jsonb, $11, $12, $13
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::int[],
                $7::text[], $8::text[], $9::text[]) AS u(e, s, st, v, t, sv, su, pk, d)
    RETURNING {returning}
), queued AS (
    INSERT INTO outbox (event_position, topic, message_key)
    SELECT position, $14, partition_key FROM inserted ORDER BY position
), wake AS (
    SELECT CASE WHEN pg_try_advisory_xact_lock_shared($16) THEN 'awake'
                ELSE (SELECT 'notified' FROM pg_notify($15, '')) END
)
{select}
"""
_APPEND = _APPEND_RETURNING.format(
    returning=_COLUMNS, select="SELECT inserted.* FROM inserted, wake ORDER BY position"
)
# The same without reading the rows back: a bulk writer that does not need them, and
# PostgreSQL keeps only what the outbox needs of each row rather than the whole event.
_APPEND_QUIETLY = _APPEND_RETURNING.format(
    returning="position, partition_key", select="SELECT count(*) FROM inserted, wake"
)


def _record(row: asyncpg.Record) -> RecordedEvent:
    return RecordedEvent(**dict(row))


def _rows(
    streams: Sequence[PendingStream],
    event_id: Callable[[], UUID],
) -> list[tuple[Any, ...]]:
    """The events' columns as the append statement takes them, one tuple per event."""
    return [
        (
            event_id(),
            pending.stream_id,
            event.aggregate,
            pending.expected_version + offset,
            event.event_type,
            event.version,
            pending.subject,
            pending.partition_key or pending.subject,
            event.payload_json(),
        )
        for pending in streams
        for offset, event in enumerate(pending.events, start=1)
    ]


@dataclass(frozen=True)
class PendingStream:
    """Events one command decided for one stream, waiting to be appended."""

    stream_id: str
    expected_version: int
    events: Sequence[EventContract]
    subject: str
    partition_key: str | None = None


class EventStore:
    def __init__(self, source: str, topic: str, *, max_event_bytes: int | None = None) -> None:
        self.source = source
        self.topic = topic
        self._max_event_bytes = max_event_bytes

    @property
    def max_event_bytes(self) -> int:
        """This store's limit, else `EVENT_MAX_BYTES`: read when first needed, not at import."""
        return self._max_event_bytes or event_limits().max_bytes

    async def stream_version(self, conn: asyncpg.Connection, stream_id: str) -> int:
        version = await conn.fetchval(
            "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream_id
        )
        return int(version)

    async def load(
        self, conn: asyncpg.Connection, stream_id: str, *, after_version: int = 0
    ) -> list[RecordedEvent]:
        """The stream's events in order, those after `after_version` only when it is given."""
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 "  # noqa: S608
            "AND version > $2 ORDER BY version",
            stream_id,
            after_version,
        )
        return [_record(r) for r in rows]

    async def load_locked(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        *,
        namespace: str,
        key: str,
        after_version: int = 0,
    ) -> list[RecordedEvent]:
        """`load` after taking the writers' lock (namespace, key) until commit, in one round
        trip: the read sees what the lock's previous holder committed
        (platform revision `platform_0006`)."""
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM events_of_locked_stream($1, $2, $3, $4)",  # noqa: S608
            namespace,
            key,
            stream_id,
            after_version,
        )
        return [_record(r) for r in rows]

    async def events_from(
        self, conn: asyncpg.Connection, call: str, *args: Any
    ) -> list[RecordedEvent]:
        """The events a function of the schema returns (`RETURNS SETOF events`), `call` being
        its call with $n parameters: a service's own statement that writes or locks before it
        reads a stream, in the same round trip (billing's `claim_entity_and_lock`)."""
        rows = await conn.fetch(f"SELECT {_COLUMNS} FROM {call}", *args)  # noqa: S608
        return [_record(r) for r in rows]

    async def load_many(
        self,
        conn: asyncpg.Connection,
        stream_ids: Sequence[str],
        *,
        where: str = "TRUE",
        args: Sequence[Any] = (),
    ) -> dict[str, list[RecordedEvent]]:
        """Several streams in one round trip (a bulk import's batch); absent ones are empty.

        `where` narrows the events read: a constant SQL condition on the events'
        columns whose parameters, `args`, start at $2. A caller that folds only
        part of a stream takes its version from `stream_versions`.
        """
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = ANY($1::text[]) "  # noqa: S608
            f"AND ({where}) ORDER BY stream_id, version",
            list(stream_ids),
            *args,
        )
        loaded: dict[str, list[RecordedEvent]] = {stream_id: [] for stream_id in stream_ids}
        for row in rows:
            loaded[row["stream_id"]].append(_record(row))
        return loaded

    async def stream_versions(
        self, conn: asyncpg.Connection, stream_ids: Sequence[str]
    ) -> dict[str, int]:
        """Each stream's version in one query; a stream never written is at 0."""
        rows = await conn.fetch(
            "SELECT stream_id, max(version) AS version FROM events "
            "WHERE stream_id = ANY($1::text[]) GROUP BY stream_id",
            list(stream_ids),
        )
        found = {r["stream_id"]: int(r["version"]) for r in rows}
        return {stream_id: found.get(stream_id, 0) for stream_id in stream_ids}

    async def append(
        self,
        conn: asyncpg.Connection,
        streams: Sequence[PendingStream],
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        read_back: bool = True,
        versions_read: bool = False,
    ) -> list[RecordedEvent]:
        """Append to one or more streams atomically, with their outbox rows.

        `read_back=False` returns nothing and saves decoding what was just
        written (a bulk import appends thousands of events per statement).
        `versions_read=True` says the caller read each stream to its end under
        the stream's writers' lock in this transaction (a repository's
        `execute` does), so the version check before the insert would only
        repeat that read.

        Runs in the caller's transaction when there is one (so a handler can
        write its own rows alongside); otherwise the single insert statement is
        its own transaction. The version check before it only fails early: the
        unique index is what refuses a stale or racing writer.
        """
        with tracer.start_as_current_span("event_store.append") as span:
            span.set_attribute("event_store.streams", len(streams))
            traceparent = current_traceparent()
            if not versions_read:
                await self._check_versions(conn, streams)
            values = _rows(streams, new_id)
            if not values:
                return []
            self._check_sizes(values, correlation_id, causation_id, traceparent)
            args = (
                *zip(*values, strict=True),
                self.source,
                correlation_id,
                causation_id,
                traceparent,
                self.topic,
                OUTBOX_CHANNEL,
                RELAY_WAITING_LOCK,
            )
            try:
                if not read_back:
                    await conn.fetchval(_APPEND_QUIETLY, *args)
                    return []
                rows = await conn.fetch(_APPEND, *args)
            except asyncpg.UniqueViolationError as exc:
                first = streams[0]
                stream = first.stream_id if len(streams) == 1 else "(one of several streams)"
                raise ConcurrencyError(stream, first.expected_version) from exc
            return [_record(r) for r in rows]

    async def append_one(
        self,
        pool: asyncpg.Pool,
        stream_id: str,
        expected_version: int,
        event: EventContract,
        *,
        subject: str | None = None,
        correlation_id: str | None = None,
    ) -> list[RecordedEvent]:
        """One event on one stream, in its own transaction: the common command shape."""
        async with pool.acquire() as conn:
            return await self.append(
                conn,
                [PendingStream(stream_id, expected_version, [event], subject or stream_id)],
                correlation_id=correlation_id,
            )

    def check_sizes(
        self, streams: Sequence[PendingStream], *, correlation_id: str | None = None
    ) -> None:
        """Raise `EventTooLarge` for an event `append` would refuse, without writing: for a
        writer that would rather refuse one input of many than fail them all."""
        self._check_sizes(
            _rows(streams, lambda: UUID(int=0)), correlation_id, None, current_traceparent()
        )

    def _check_sizes(
        self,
        values: Sequence[tuple[Any, ...]],
        correlation_id: str | None,
        causation_id: str | None,
        traceparent: str | None,
    ) -> None:
        """Refuse an event whose Kafka record would pass the limit, before anything is written.

        A bound from lengths alone (at most 4 bytes a character, and jsonb's text adding a
        space after each separator) clears almost every event without encoding it, which
        a bulk import appending a million events would feel; only an event the bound does
        not clear is measured as the relay will send it.
        """
        limit = self.max_event_bytes
        shared = sum(
            len(text) for text in (self.source, correlation_id, causation_id, traceparent) if text
        )
        for (
            event_id,
            stream_id,
            _,
            version,
            event_type,
            schema_version,
            subject,
            key,
            payload,
        ) in values:
            variable = shared + len(subject) + 2 * len(key) + 2 * len(event_type)
            if 6 * len(payload) + 4 * variable + _FIXED_HEADERS + _RECORD_FRAMING <= limit:
                continue
            headers = kafka_headers(
                (
                    str(event_id),
                    self.source,
                    event_type,
                    SPEC_VERSION,
                    _SAMPLE_TIME,
                    subject,
                    schema_id(event_type, schema_version),
                    str(schema_version),
                    correlation_id,
                    causation_id,
                    sequence_text(version),
                    key,
                    traceparent,
                )
            )
            # jsonb's text (what the relay sends) puts a space after every ',' and ':'
            value = len(payload.encode()) + payload.count(",") + payload.count(":")
            size = (
                value
                + len(key.encode())
                + _RECORD_FRAMING
                + sum(len(name) + len(header) for name, header in headers)
            )
            if size > limit:
                raise EventTooLarge(stream_id, event_type, size, limit)

    async def _check_versions(
        self, conn: asyncpg.Connection, streams: Sequence[PendingStream]
    ) -> None:
        """Catches a caller that is ahead of a stream; the unique index catches one behind.

        One query for all streams, so a batch of thousands costs one round trip.
        """
        expected = {p.stream_id: p.expected_version for p in streams if p.expected_version}
        if not expected:
            return
        if len(expected) == 1:
            ((stream_id, version),) = expected.items()
            actual = {stream_id: await self.stream_version(conn, stream_id)}
        else:
            actual = await self.stream_versions(conn, list(expected))
        for stream_id, version in expected.items():
            if actual.get(stream_id, 0) != version:
                raise ConcurrencyError(stream_id, version, actual.get(stream_id, 0))
