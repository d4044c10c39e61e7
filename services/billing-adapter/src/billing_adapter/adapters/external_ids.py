"""The billing system's ids mapped to ours: one row per (kind, external id).

The primary key makes a concurrent duplicate create fail in the database, so
two retries of the same webhook can never make two invoices.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def find(conn: asyncpg.Connection, kind: str, external_id: str) -> UUID | None:
    value = await conn.fetchval(
        "SELECT internal_id FROM external_ids WHERE kind = $1 AND external_id = $2",
        kind, external_id)
    return value if value is None else UUID(str(value))


async def claim(conn: asyncpg.Connection, kind: str, external_id: str, internal_id: UUID) -> bool:
    """True when this transaction took the external id; False when it already belongs to one."""
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO external_ids (kind, external_id, internal_id) VALUES ($1, $2, $3)",
                kind, external_id, internal_id)
    except asyncpg.UniqueViolationError:
        return False
    return True
