"""In-memory stand-ins for the stores a use case writes through (`Aggregates`): each
aggregate is a list of its events, folded on every load, as the event store would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar
from uuid import UUID

from collections_service.service_layer.aggregates import Decided, Decision
from receivables_platform.contracts.base import EventContract
from receivables_platform.domain import fold

S = TypeVar("S")


class InMemoryAggregates(Generic[S]):
    def __init__(self, initial: Callable[[], S], evolve: Callable[[S, EventContract], S]) -> None:
        self.initial, self.evolve = initial, evolve
        self.streams: dict[UUID, list[EventContract]] = {}
        self.keys: dict[UUID, UUID] = {}
        """The account each aggregate's events were keyed by."""

    def given(self, aggregate_id: UUID, *events: EventContract) -> None:
        self.streams.setdefault(aggregate_id, []).extend(events)

    async def load(self, aggregate_id: UUID) -> S:
        return fold(self.evolve, self.initial(), self.streams.get(aggregate_id, []))

    async def decide(
        self,
        aggregate_id: UUID,
        account_id: UUID,
        decision: Decision[S],
        *,
        check: Callable[[int], object] | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Decided[S]:
        history = self.streams.get(aggregate_id, [])
        if check is not None:
            check(len(history))
        state = fold(self.evolve, self.initial(), history)
        events = list(decision(state))
        if events:
            self.streams[aggregate_id] = [*history, *events]
            self.keys[aggregate_id] = account_id
        return Decided(fold(self.evolve, state, events), len(history) + len(events), events)
