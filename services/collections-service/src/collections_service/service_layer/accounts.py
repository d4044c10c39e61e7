"""The account's collection state as one write: load its stream, decide, append, project.

Holds, the risk flag, the collector and escalations are all decisions about one account, so
they share one stream and one lock (the account lock every collections writer takes); the
rows the worklist and the account view read are projected in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

import asyncpg

from collections_service.adapters import streams
from collections_service.adapters.projections import project
from collections_service.domain.account import CollectionAccount
from receivables_platform.contracts.base import EventContract
from receivables_platform.repository import Loaded


async def decide(conn: asyncpg.Connection, account_id: UUID,
                 decision: Callable[[CollectionAccount], Sequence[EventContract]], *,
                 check: Callable[[int], object] | None = None,
                 correlation_id: str | None = None,
                 causation_id: str | None = None) -> Loaded[CollectionAccount]:
    """`check(version)` is the caller's If-Match, tried under the lock before deciding."""
    loaded = await streams.accounts.execute(
        conn, account_id, decision, subject=lambda _: str(account_id),
        check=None if check is None else _precondition(check),
        correlation_id=correlation_id, causation_id=causation_id)
    await project(conn, loaded.history)
    return loaded


def _precondition(check: Callable[[int], object]) -> Callable[[CollectionAccount, int], None]:
    def on_version(_: CollectionAccount, version: int) -> None:
        check(version)
    return on_version
