"""Use cases: load, decide with the pure domain, append events and their projections in one
transaction. Every writer to an account takes the account's advisory lock first, so the daily
run, the consumers and the API queue on one account instead of failing each other.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

SYSTEM = "collections-service"
"""Who the service's own decisions are credited to (rules applied, cadence escalations)."""


async def lock_account(conn: asyncpg.Connection, account_id: UUID) -> None:
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('collections.account'), hashtext($1))",
        str(account_id))
