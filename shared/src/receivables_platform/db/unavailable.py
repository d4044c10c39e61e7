"""Which failures mean "the database is not there right now" rather than "this code is wrong".

During a PostgreSQL restart or failover a request fails through no fault of its
own: the client should retry in a moment, so it gets a 503 with Retry-After and
the log a warning, not a 500 and a traceback that pages someone for a bug.
"""

from __future__ import annotations

import asyncpg

RETRY_AFTER_SECONDS = 2

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08: the connection failed or was dropped
    asyncpg.exceptions.OperatorInterventionError,  # 57: shutting down, starting up
    asyncpg.exceptions.TooManyConnectionsError,
    ConnectionError,  # refused or reset while the pool opens a new connection
    TimeoutError,  # no pooled connection came back in time
)


def database_unavailable(exc: BaseException) -> bool:
    """True for the failure itself or anything it was raised from (a wrapped driver error)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _UNAVAILABLE) or _closed_connection(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _closed_connection(exc: BaseException) -> bool:
    """asyncpg reports a connection closed under a query as a plain InterfaceError."""
    return isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc)
