"""The account each invoice and payment belongs to (table `account_entities`)."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def add(conn: asyncpg.Connection, kind: str, entity_id: UUID, account_id: UUID) -> None:
    await conn.execute(
        "INSERT INTO account_entities (entity_id, kind, account_id) VALUES ($1, $2, $3)",
        entity_id, kind, account_id)


async def owner(conn: asyncpg.Connection, kind: str, entity_id: UUID) -> UUID | None:
    value = await conn.fetchval(
        "SELECT account_id FROM account_entities WHERE entity_id = $1 AND kind = $2",
        entity_id, kind)
    return value if value is None else UUID(str(value))
