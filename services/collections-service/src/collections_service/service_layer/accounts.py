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
from collections_service.domain.account import CollectionAccount
from collections_service.service_layer.aggregates import Decided, InPostgres
from receivables_platform.contracts.base import EventContract


async def decide(
    conn: asyncpg.Connection,
    account_id: UUID,
    decision: Callable[[CollectionAccount], Sequence[EventContract]],
    *,
    check: Callable[[int], object] | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> Decided[CollectionAccount]:
    """`check(version)` is the caller's If-Match, tried under the lock before deciding."""
    return await InPostgres(conn, streams.accounts).decide(
        account_id,
        account_id,
        decision,
        check=check,
        correlation_id=correlation_id,
        causation_id=causation_id,
    )
