"""Use cases: load, decide with the pure domain, append events and their projections in one
transaction. Every writer to an account takes the account's advisory lock first, so the daily
run, the consumers and the API queue on one account instead of failing each other.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from receivables_platform.db.locks import hold_until_commit

SYSTEM = "collections-service"
"""Who the service's own decisions are credited to (rules applied, cadence escalations)."""


async def lock_account(conn: asyncpg.Connection, account_id: UUID) -> None:
    await hold_until_commit(conn, "collections.account", str(account_id))
