"""Event-sourced repositories: an aggregate is the fold of its stream.

Services keep only decide/evolve; loading, versioning and appending with the
expected version live here once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import asyncpg

from receivables_platform.contracts.base import EventContract
from receivables_platform.store import EventStore, PendingStream, RecordedEvent

S = TypeVar("S")


@dataclass(frozen=True)
class Loaded(Generic[S]):
    state: S
    version: int
    history: list[RecordedEvent]


class AggregateRepository(Generic[S]):
    def __init__(self, store: EventStore, *, prefix: str, initial: Callable[[], S],
                 evolve: Callable[[S, EventContract], S]) -> None:
        self.store, self.prefix, self.initial, self.evolve = store, prefix, initial, evolve

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
