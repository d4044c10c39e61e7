"""The account each invoice and payment belongs to (table `account_entities`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


async def add_many(conn: asyncpg.Connection, kind: str,
                   entities: Sequence[tuple[UUID, UUID]]) -> None:
    """(entity id, account id) pairs in one statement: a bulk import batch's invoices."""
    await conn.execute(
        "INSERT INTO account_entities (entity_id, kind, account_id) "
        "SELECT e, $1, a FROM unnest($2::uuid[], $3::uuid[]) AS t(e, a)",
        kind, [e for e, _ in entities], [a for _, a in entities])


async def owners(conn: asyncpg.Connection, kind: str,
                 entity_ids: Iterable[UUID]) -> dict[UUID, UUID]:
    rows = await conn.fetch(
        "SELECT entity_id, account_id FROM account_entities "
        "WHERE kind = $1 AND entity_id = ANY($2::uuid[])", kind, list(set(entity_ids)))
    return {r["entity_id"]: r["account_id"] for r in rows}
