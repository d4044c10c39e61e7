"""Event-sourced repositories: an aggregate is the fold of its stream.

Services keep only decide/evolve; loading, versioning, appending with the
expected version and the load-decide-append use case live here once.
Writers to one aggregate take a transaction-scoped advisory lock first: they
queue instead of failing each other's version check, an If-Match checked
after the lock tells the second one its copy is stale, and the event store's
unique index stays the guarantee. A writer takes the lock and reads its stream in
one round trip (`EventStore.load_locked`), with a snapshot taken after the lock.

A repository may remember the latest state of its busiest aggregates
(`remember`): loading one then reads only the events appended since, instead
of folding its whole stream on every request. A state is remembered with the
id of the event it was folded up to, and that event is read again with the
newer ones: if it is not there (the write that made it rolled back, or the
database was restored to an earlier point) or another event holds its version,
the stream is folded afresh. So a command remembers the state it just wrote,
before its transaction commits, and the next command on that aggregate folds
nothing it has seen; events are immutable and versions dense, so the state at
version v plus the events after v is exactly the state the full fold would give.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar
from uuid import UUID

import asyncpg

from receivables_platform.contracts.base import EventContract
from receivables_platform.db.locks import hold_until_commit
from receivables_platform.db.transaction import atomic
from receivables_platform.domain import fold
from receivables_platform.remembered import Remembered
from receivables_platform.store import EventStore, PendingStream, RecordedEvent

S = TypeVar("S")
After = Callable[[asyncpg.Connection, S, Sequence[EventContract]], Awaitable[None]]


@dataclass(frozen=True)
class StreamLock:
    """The writers' lock of one aggregate's stream: what a `LockedRead` takes and reads."""

    stream_id: str
    namespace: str
    key: str


LockedRead = Callable[[asyncpg.Connection, StreamLock, int], Awaitable[list[RecordedEvent]]]
"""How a writer takes its aggregate's lock and reads the stream after a version, when the
use case has more to do in that round trip (billing's create claims its external id first):
`(conn, lock, after_version)`, returning the events, as `EventStore.load_locked` does."""


@dataclass(frozen=True)
class _Folded(Generic[S]):
    """A state as folded up to the event `event_id` at `version`."""

    version: int
    event_id: UUID
    state: S


@dataclass(frozen=True)
class Loaded(Generic[S]):
    state: S
    version: int
    history: list[RecordedEvent]  # the whole stream when loaded with history, else the appended


class Repository(Protocol[S]):
    """What a use case needs of a repository: `AggregateRepository` over PostgreSQL, or
    an in-memory one (`receivables_devkit.testing.fakes`) in the use-case tests."""

    async def execute(
        self,
        conn: asyncpg.Connection,
        aggregate_id: object,
        decide: Callable[[S], Sequence[EventContract]],
        *,
        subject: Callable[[S], str],
        check: Callable[[S, int], None] | None = None,
        after: After[S] | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        locked_read: LockedRead | None = None,
    ) -> Loaded[S]: ...

    async def load(
        self, conn: asyncpg.Connection, aggregate_id: object, *, history: bool = True
    ) -> Loaded[S]: ...


class AggregateRepository(Generic[S]):
    def __init__(
        self,
        store: EventStore,
        *,
        prefix: str,
        initial: Callable[[], S],
        evolve: Callable[[S, EventContract], S],
        lock_namespace: str | None = None,
        remember: int = 0,
    ) -> None:
        self.store, self.prefix, self.initial, self.evolve = store, prefix, initial, evolve
        self.lock_namespace = lock_namespace or f"{store.source}.{prefix}"
        self.remember = remember
        self._remembered: Remembered[str, _Folded[S]] = Remembered(remember)

    async def lock(self, conn: asyncpg.Connection, aggregate_id: object) -> None:
        """Until the caller's transaction ends, no other writer of this aggregate gets past here."""
        await hold_until_commit(conn, self.lock_namespace, str(aggregate_id))

    async def execute(
        self,
        conn: asyncpg.Connection,
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
        """Decide on the aggregate's current state and append what was decided, in the
        caller's transaction (so whatever else it writes commits with the events or not at all).

        `check(state, version)` runs before deciding (an API's If-Match precondition);
        `after(conn, state, events)` writes what must change with the events (a search row,
        an index of the aggregate's entities); `subject` keys the events' partition;
        `locked_read` takes the lock and reads instead of `EventStore.load_locked`.
        """
        async with atomic(conn):
            loaded = await self._load_locked(conn, aggregate_id, locked_read)
            if check is not None:
                check(loaded.state, loaded.version)
            events = decide(loaded.state)
            if not events:
                return loaded
            state = fold(self.evolve, loaded.state, events)
            recorded = await self.save(
                conn,
                aggregate_id,
                loaded.version,
                events,
                subject=subject(state),
                correlation_id=correlation_id,
                causation_id=causation_id,
                versions_read=True,
            )
            if after is not None:
                await after(conn, state, events)
            self._keep(self.stream_id(aggregate_id), recorded[-1], state)
            return Loaded(state, recorded[-1].version, recorded)

    def stream_id(self, aggregate_id: object) -> str:
        return f"{self.prefix}-{aggregate_id}"

    async def load(
        self, conn: asyncpg.Connection, aggregate_id: object, *, history: bool = True
    ) -> Loaded[S]:
        """The aggregate's current state; with `history`, every event of its stream too."""
        stream = self.stream_id(aggregate_id)
        known = None if history else self._remembered.get(stream)
        newer = await self._since(conn, stream, known)
        if newer is None:
            known, newer = None, await self.store.load(conn, stream)
        return self._folded(stream, known, newer, history)

    async def _load_locked(
        self, conn: asyncpg.Connection, aggregate_id: object, read: LockedRead | None = None
    ) -> Loaded[S]:
        """`lock` and `load` (without history) in one round trip: what a writer starts with."""
        stream = self.stream_id(aggregate_id)
        known = self._remembered.get(stream)
        after = known.version - 1 if known else 0
        lock = StreamLock(stream, self.lock_namespace, str(aggregate_id))
        rows = await (read or self._load_locked_stream)(conn, lock, after)
        newer = rows if known is None else self._built_on(stream, known, rows)
        if newer is None:  # the remembered state cannot be built on; the lock is held now
            known, newer = None, await self.store.load(conn, stream)
        return self._folded(stream, known, newer, history=False)

    async def _load_locked_stream(
        self, conn: asyncpg.Connection, lock: StreamLock, after_version: int
    ) -> list[RecordedEvent]:
        return await self.store.load_locked(
            conn,
            lock.stream_id,
            namespace=lock.namespace,
            key=lock.key,
            after_version=after_version,
        )

    def _folded(
        self, stream: str, known: _Folded[S] | None, newer: list[RecordedEvent], history: bool
    ) -> Loaded[S]:
        version, state = (known.version, known.state) if known else (0, self.initial())
        for recorded in newer:
            state = self.evolve(state, recorded.contract())
        if newer:
            version = newer[-1].version
            self._keep(stream, newer[-1], state)
        return Loaded(state, version, newer if history else [])

    async def _since(
        self, conn: asyncpg.Connection, stream: str, known: _Folded[S] | None
    ) -> list[RecordedEvent] | None:
        """The events after a remembered state, or None when it cannot be built on."""
        if known is None:
            return None
        rows = await self.store.load(conn, stream, after_version=known.version - 1)
        return self._built_on(stream, known, rows)

    def _built_on(
        self, stream: str, known: _Folded[S], rows: list[RecordedEvent]
    ) -> list[RecordedEvent] | None:
        """The events after a remembered state, read from its own event on; None when that
        event is not where the state says (rolled back, or its version taken by another)."""
        if not rows or rows[0].version != known.version or rows[0].event_id != known.event_id:
            self._remembered.forget(stream)
            return None
        return rows[1:]

    def _keep(self, stream: str, last: RecordedEvent, state: S) -> None:
        if self.remember:
            self._remembered.put(stream, _Folded(last.version, last.event_id, state))

    async def save(
        self,
        conn: asyncpg.Connection,
        aggregate_id: object,
        expected_version: int,
        events: Sequence[EventContract],
        *,
        subject: str,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        versions_read: bool = False,
    ) -> list[RecordedEvent]:
        pending = PendingStream(self.stream_id(aggregate_id), expected_version, events, subject)
        return await self.store.append(
            conn,
            [pending],
            correlation_id=correlation_id,
            causation_id=causation_id,
            versions_read=versions_read,
        )
