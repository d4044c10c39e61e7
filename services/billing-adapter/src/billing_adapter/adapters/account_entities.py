"""The account each invoice and payment belongs to (table `account_entities`).

An entity never moves to another account, so `owner` remembers the answers it
read outside a transaction (committed rows only; nothing that might still roll
back): reading an invoice then takes one query, its account's events, not two.
(Like the account repository's remembered states: a database restored to an
earlier point needs the service restarted.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

import asyncpg

from receivables_platform.remembered import Remembered

REMEMBERED = 50_000
_owners: Remembered[tuple[str, UUID], UUID] = Remembered(REMEMBERED)


async def add(conn: asyncpg.Connection, kind: str, entity_id: UUID, account_id: UUID) -> None:
    await conn.execute(
        "INSERT INTO account_entities (entity_id, kind, account_id) VALUES ($1, $2, $3)",
        entity_id,
        kind,
        account_id,
    )


async def owner(conn: asyncpg.Connection, kind: str, entity_id: UUID) -> UUID | None:
    known = _owners.get((kind, entity_id))
    if known is not None:
        return known
    value = await conn.fetchval(
        "SELECT account_id FROM account_entities WHERE entity_id = $1 AND kind = $2",
        entity_id,
        kind,
    )
    if value is None:
        return None
    account_id = UUID(str(value))
    if not conn.is_in_transaction():
        _owners.put((kind, entity_id), account_id)
    return account_id


async def add_many(
    conn: asyncpg.Connection, kind: str, entities: Sequence[tuple[UUID, UUID]]
) -> None:
    """(entity id, account id) pairs in one statement: a bulk import batch's invoices."""
    await conn.execute(
        "INSERT INTO account_entities (entity_id, kind, account_id) "
        "SELECT e, $1, a FROM unnest($2::uuid[], $3::uuid[]) AS t(e, a)",
        kind,
        [e for e, _ in entities],
        [a for _, a in entities],
    )


async def owners(
    conn: asyncpg.Connection, kind: str, entity_ids: Iterable[UUID]
) -> dict[UUID, UUID]:
    rows = await conn.fetch(
        "SELECT entity_id, account_id FROM account_entities "
        "WHERE kind = $1 AND entity_id = ANY($2::uuid[])",
        kind,
        list(set(entity_ids)),
    )
    return {r["entity_id"]: r["account_id"] for r in rows}
