"""In-memory fakes of the repositories, for use-case tests that need no server.

The use cases load an aggregate, decide, append and write what must change with the
events, all in the caller's transaction. Their tests over PostgreSQL prove the SQL; these
fakes let the same use cases be tested for what they decide in milliseconds (as the
cosmicpython and eventsourcing anchors do), so a rule of the service layer is checked
without starting a database. They keep the real contracts where it matters: events go
through their JSON payload and back (as the event store stores them), versions are dense
and a stale expected version is a `ConcurrencyError`, and a transaction that raises leaves
nothing behind (`InMemoryTransactions`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from receivables_platform.contracts.base import EventContract
from receivables_platform.domain import fold
from receivables_platform.ids import new_id
from receivables_platform.repository import After, Loaded, LockedRead
from receivables_platform.store import ConcurrencyError, RecordedEvent

S = TypeVar("S")


class Snapshotting(Protocol):
    """A fake whose whole content can be copied and put back (a rolled-back transaction)."""

    def snapshot(self) -> object: ...

    def restore(self, snapshot: object) -> None: ...


class InMemoryRepository(Generic[S]):
    """`AggregateRepository`'s behaviour over a dict of streams instead of PostgreSQL."""

    def __init__(
        self,
        *,
        prefix: str,
        initial: Callable[[], S],
        evolve: Callable[[S, EventContract], S],
        source: str = "urn:receivables:in-memory",
    ) -> None:
        self.prefix, self.initial, self.evolve, self.source = prefix, initial, evolve, source
        self.streams: dict[str, list[RecordedEvent]] = {}
        self._position = 0

    def stream_id(self, aggregate_id: object) -> str:
        return f"{self.prefix}-{aggregate_id}"

    def events(self, aggregate_id: object) -> list[EventContract]:
        """What the aggregate's stream holds, decoded as a consumer would read it."""
        return [e.contract() for e in self.streams.get(self.stream_id(aggregate_id), [])]

    async def execute(
        self,
        conn: Any,
        aggregate_id: object,
        decide: Callable[[S], Sequence[EventContract]],
        *,
        subject: Callable[[S], str],
        check: Callable[[S, int], None] | None = None,
        after: After[S] | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        locked_read: LockedRead | None = None,
    ) -> Loaded[S]:
        if locked_read is not None:
            raise NotImplementedError("a locked read is SQL; use cases give none to a fake")
        loaded = await self.load(conn, aggregate_id, history=False)
        if check is not None:
            check(loaded.state, loaded.version)
        events = decide(loaded.state)
        if not events:
            return loaded
        state = fold(self.evolve, loaded.state, events)
        snapshot = self.snapshot()
        recorded = await self.save(
            conn,
            aggregate_id,
            loaded.version,
            events,
            subject=subject(state),
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        if after is not None:
            try:
                await after(conn, state, events)
            except BaseException:
                self.restore(snapshot)  # the events roll back with what failed after them
                raise
        return Loaded(state, recorded[-1].version, recorded)

    async def load(self, conn: Any, aggregate_id: object, *, history: bool = True) -> Loaded[S]:
        recorded = self.streams.get(self.stream_id(aggregate_id), [])
        state = fold(self.evolve, self.initial(), (e.contract() for e in recorded))
        return Loaded(state, len(recorded), list(recorded) if history else [])

    async def save(
        self,
        conn: Any,
        aggregate_id: object,
        expected_version: int,
        events: Sequence[EventContract],
        *,
        subject: str,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        versions_read: bool = False,
    ) -> list[RecordedEvent]:
        stream = self.stream_id(aggregate_id)
        held = self.streams.setdefault(stream, [])
        if len(held) != expected_version:
            raise ConcurrencyError(stream, expected_version, len(held))
        recorded = [
            self._record(
                stream, expected_version + offset, event, subject, correlation_id, causation_id
            )
            for offset, event in enumerate(events, start=1)
        ]
        held.extend(recorded)
        return recorded

    def _record(
        self,
        stream: str,
        version: int,
        event: EventContract,
        subject: str,
        correlation_id: str | None,
        causation_id: str | None,
    ) -> RecordedEvent:
        self._position += 1
        return RecordedEvent(
            position=self._position,
            event_id=new_id(),
            stream_id=stream,
            stream_type=event.aggregate,
            version=version,
            type=event.event_type,
            schema_version=event.version,
            source=self.source,
            subject=subject,
            partition_key=subject,
            data=json.loads(event.payload_json()),
            correlation_id=correlation_id,
            causation_id=causation_id,
            traceparent=None,
            recorded_at=datetime.now(UTC),
        )

    def snapshot(self) -> object:
        return {stream: list(events) for stream, events in self.streams.items()}

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, dict)
        self.streams = {stream: list(events) for stream, events in snapshot.items()}


class InMemoryTable:
    """Rows keyed by a tuple, for the fakes of an adapter's table (an index, a claim)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[Any, ...], Any] = {}

    def snapshot(self) -> object:
        return copy.copy(self.rows)

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, dict)
        self.rows = dict(snapshot)


class InMemoryTransactions:
    """`atomic(conn)` over fakes: what a block changed in them is put back if it raises."""

    def __init__(self, *fakes: Snapshotting) -> None:
        self.fakes = fakes

    def __call__(self, conn: Any) -> AbstractAsyncContextManager[None]:
        return self._atomic()

    @asynccontextmanager
    async def _atomic(self) -> AsyncIterator[None]:
        snapshots = [fake.snapshot() for fake in self.fakes]
        try:
            yield
        except BaseException:
            for fake, snapshot in zip(self.fakes, snapshots, strict=True):
                fake.restore(snapshot)
            raise
