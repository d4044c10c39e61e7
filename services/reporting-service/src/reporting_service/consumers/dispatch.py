"""From event type to the function that projects it: what every projection module shares."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import asyncpg

from receivables_platform.envelope import CloudEvent

Projector = Callable[[asyncpg.Connection, Any, CloudEvent], Awaitable[None]]
BulkProjector = Callable[[asyncpg.Connection, list[tuple[Any, CloudEvent]]], Awaitable[None]]
"""Projects many events of one type in a few statements, in delivery order within the list."""


class Dispatcher:
    """A consumer handler: decodes (and upcasts) the events it projects, ignores the rest.

    An event type a projection does not need is not an error: topics carry more
    than any one read model reads, and new types appear before readers use them.
    """

    def __init__(self, projectors: Mapping[str, Projector]) -> None:
        self._projectors = dict(projectors)

    @property
    def event_types(self) -> frozenset[str]:
        """What the table projects: its consumer passes over the rest without decoding them."""
        return frozenset(self._projectors)

    async def __call__(self, conn: asyncpg.Connection, event: CloudEvent) -> None:
        projector = self._projectors.get(event.type)
        if projector is not None:
            await projector(conn, _decoded(event), event)


class BulkDispatcher(Dispatcher):
    """A handler that also projects a poll's events together (the runner's `AppliesMany`).

    The types with a bulk projector go in one set-based call per type, the
    others one by one in delivery order. A type is only bulk-projected when
    its writes commute with every other type's (inserts that ignore a replay,
    upserts of columns no other type sets), so taking its events out of the
    sequence changes nothing.
    """

    def __init__(
        self, projectors: Mapping[str, Projector], bulk: Mapping[str, BulkProjector]
    ) -> None:
        super().__init__({**projectors, **{t: _one_of(p) for t, p in bulk.items()}})
        self._bulk = dict(bulk)

    async def many(self, conn: asyncpg.Connection, events: Sequence[CloudEvent]) -> None:
        grouped: dict[str, list[tuple[Any, CloudEvent]]] = defaultdict(list)
        for event in events:
            if event.type in self._bulk:
                grouped[event.type].append((_decoded(event), event))
            else:
                await self(conn, event)
        for event_type, items in grouped.items():
            await self._bulk[event_type](conn, items)


def _decoded(event: CloudEvent) -> Any:
    return event.contract  # decoded by the consumer runner already


def _one_of(bulk: BulkProjector) -> Projector:
    async def project(conn: asyncpg.Connection, contract: Any, event: CloudEvent) -> None:
        await bulk(conn, [(contract, event)])

    return project


def dispatcher(projectors: Mapping[str, Projector]) -> Dispatcher:
    return Dispatcher(projectors)
