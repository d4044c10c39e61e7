"""What a use case needs of an aggregate's store: its state, and a decision appended.

Use cases that take an `Aggregates` run the same against PostgreSQL (`InPostgres`: the
stream in the event store, the projected rows in the same transaction) and against an
in-memory fake in tests, so a use case's own logic is tested without a server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar
from uuid import UUID

import asyncpg

from collections_service.adapters.projections import project
from receivables_platform.contracts.base import EventContract
from receivables_platform.repository import AggregateRepository

S = TypeVar("S")
Decision = Callable[[S], Sequence[EventContract]]


@dataclass(frozen=True)
class Decided(Generic[S]):
    state: S
    version: int
    events: Sequence[EventContract]
    """What this decision appended; none when nothing changed."""


class Aggregates(Protocol[S]):
    async def load(self, aggregate_id: UUID) -> S: ...

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
        """Decide on the current state and append what was decided, keyed by the account;
        `check(version)` is the caller's If-Match, tried before deciding."""
        ...


@dataclass(frozen=True)
class InPostgres(Generic[S]):
    """The aggregates of one repository, in the caller's connection and transaction."""

    conn: asyncpg.Connection
    repository: AggregateRepository[S]

    async def load(self, aggregate_id: UUID) -> S:
        return (await self.repository.load(self.conn, aggregate_id, history=False)).state

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
        def precondition(_: S, version: int) -> None:
            if check is not None:
                check(version)

        loaded = await self.repository.execute(
            self.conn,
            aggregate_id,
            decision,
            subject=lambda _: str(account_id),
            check=precondition,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        await project(self.conn, loaded.history)
        return Decided(
            loaded.state, loaded.version, [recorded.contract() for recorded in loaded.history]
        )
