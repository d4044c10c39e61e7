"""Event-sourced repositories: an aggregate is the fold of its stream.

Services keep only decide/evolve; loading, versioning, appending with the
expected version and the load-decide-append use case live here once.
Writers to one aggregate take a transaction-scoped advisory lock first: they
queue instead of failing each other's version check, an If-Match checked
after the lock tells the second one its copy is stale, and the event store's
unique index stays the guarantee.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import asyncpg

from receivables_platform.contracts.base import EventContract
from receivables_platform.domain import fold
from receivables_platform.store import EventStore, PendingStream, RecordedEvent

S = TypeVar("S")


@dataclass(frozen=True)
class Loaded(Generic[S]):
    state: S
    version: int
    history: list[RecordedEvent]


class AggregateRepository(Generic[S]):
    def __init__(self, store: EventStore, *, prefix: str, initial: Callable[[], S],
                 evolve: Callable[[S, EventContract], S], lock_namespace: str | None = None,
                 ) -> None:
        self.store, self.prefix, self.initial, self.evolve = store, prefix, initial, evolve
        self.lock_namespace = lock_namespace or f"{store.source}.{prefix}"

    async def lock(self, conn: asyncpg.Connection, aggregate_id: object) -> None:
        """Until the caller's transaction ends, no other writer of this aggregate gets past here."""
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))",
                           self.lock_namespace, str(aggregate_id))

    async def execute(self, conn: asyncpg.Connection, aggregate_id: object,
                      decide: Callable[[S], Sequence[EventContract]], *,
                      subject: Callable[[S], str],
                      check: Callable[[S, int], None] | None = None,
                      after: Callable[[asyncpg.Connection, S, Sequence[EventContract]],
                                      Awaitable[None]] | None = None,
                      correlation_id: str | None = None, causation_id: str | None = None,
                      ) -> Loaded[S]:
        """Decide on the aggregate's current state and append what was decided, in the
        caller's transaction (so whatever else it writes commits with the events or not at all).

        `check(state, version)` runs before deciding (an API's If-Match precondition);
        `after(conn, state, events)` writes what must change with the events (a search row,
        an index of the aggregate's entities); `subject` keys the events' partition.
        """
        async with conn.transaction():
            await self.lock(conn, aggregate_id)
            loaded = await self.load(conn, aggregate_id)
            if check is not None:
                check(loaded.state, loaded.version)
            events = decide(loaded.state)
            if not events:
                return loaded
            state = fold(self.evolve, loaded.state, events)
            recorded = await self.save(conn, aggregate_id, loaded.version, events,
                                       subject=subject(state), correlation_id=correlation_id,
                                       causation_id=causation_id)
            if after is not None:
                await after(conn, state, events)
            return Loaded(state, recorded[-1].version, [*loaded.history, *recorded])

    def stream_id(self, aggregate_id: object) -> str:
        return f"{self.prefix}-{aggregate_id}"

    async def load(self, conn: asyncpg.Connection, aggregate_id: object) -> Loaded[S]:
        history = await self.store.load(conn, self.stream_id(aggregate_id))
        state = self.initial()
        for recorded in history:
            state = self.evolve(state, recorded.contract())
        return Loaded(state, history[-1].version if history else 0, history)

    async def save(self, conn: asyncpg.Connection, aggregate_id: object, expected_version: int,
                   events: Sequence[EventContract], *, subject: str,
                   correlation_id: str | None = None, causation_id: str | None = None,
                   ) -> list[RecordedEvent]:
        pending = PendingStream(self.stream_id(aggregate_id), expected_version, events, subject)
        return await self.store.append(conn, [pending], correlation_id=correlation_id,
                                       causation_id=causation_id)
