"""PostgreSQL advisory locks, the two ways the platform takes them.

- Until commit: writers of one aggregate, one outside object or one account queue on
  a transaction-scoped lock keyed by (namespace, key) instead of failing each other's
  version checks. Several keys are taken in one sorted statement, so two writers of
  overlapping sets cannot deadlock.
- One holder at a time: a background job that replicas all run (the SLA sweep, the
  daily run) takes a session lock or skips the round; the lock goes with the session
  if the process dies.

The keys are `hashtext` of the names, as they always were, so replicas of an older
release and of this one still exclude each other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from receivables_platform.db.pool import holds_session_state


async def hold_until_commit(conn: asyncpg.Connection, namespace: str, *keys: str) -> None:
    """Until the caller's transaction ends, no other writer of these keys gets past here."""
    if len(keys) == 1:
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", namespace, keys[0]
        )
    elif keys:
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext($2), hashtext(k)) "
            "FROM (SELECT unnest($1::text[]) AS k ORDER BY 1) AS ordered",
            sorted(set(keys)),
            namespace,
        )


@asynccontextmanager
async def one_holder_at_a_time(conn: asyncpg.Connection, name: str) -> AsyncIterator[bool]:
    """Whether this session got the lock `name`; held until the block ends."""
    holds_session_state(conn)
    got = bool(await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", name))
    try:
        yield got
    finally:
        if got:
            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", name)
