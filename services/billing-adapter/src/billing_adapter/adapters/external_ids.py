"""The billing system's ids mapped to ours: one row per (kind, external id).

The primary key makes a concurrent duplicate create fail in the database, so
two retries of the same webhook can never make two invoices.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

import asyncpg

from receivables_platform.db.locks import hold_until_commit


async def find(conn: asyncpg.Connection, kind: str, external_id: str) -> UUID | None:
    value = await conn.fetchval(
        "SELECT internal_id FROM external_ids WHERE kind = $1 AND external_id = $2",
        kind,
        external_id,
    )
    return value if value is None else UUID(str(value))


async def claim(conn: asyncpg.Connection, kind: str, external_id: str, internal_id: UUID) -> bool:
    """True when this transaction took the external id; False when it already belongs to one.

    A concurrent claim of the same id waits for the other transaction: its
    commit makes this one False, its rollback lets this one take the id.
    """
    return bool(
        await conn.fetchval(
            "INSERT INTO external_ids (kind, external_id, internal_id) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING RETURNING true",
            kind,
            external_id,
            internal_id,
        )
    )


async def claim_entity(
    conn: asyncpg.Connection, kind: str, external_id: str, entity_id: UUID, account_id: UUID
) -> bool:
    """`claim`, and when it took the id, the entity's account in `account_entities` too.

    One statement, not two: an invoice or payment create writes both rows or, when the
    external id names another already, neither (issue 23: one round trip less a write).
    The index row is written before the events it indexes, in the same transaction, so a
    refused create leaves neither behind, as it leaves no claim."""
    return bool(
        await conn.fetchval(
            "WITH claimed AS ("
            " INSERT INTO external_ids (kind, external_id, internal_id) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING RETURNING internal_id"
            "), indexed AS ("
            " INSERT INTO account_entities (entity_id, kind, account_id)"
            " SELECT internal_id, $1, $4 FROM claimed"
            ") SELECT EXISTS (SELECT FROM claimed)",
            kind,
            external_id,
            entity_id,
            account_id,
        )
    )


async def find_many(
    conn: asyncpg.Connection, kind: str, external_ids: Iterable[str]
) -> dict[str, UUID]:
    rows = await conn.fetch(
        "SELECT external_id, internal_id FROM external_ids "
        "WHERE kind = $1 AND external_id = ANY($2::text[])",
        kind,
        list(set(external_ids)),
    )
    return {r["external_id"]: r["internal_id"] for r in rows}


async def claim_many(
    conn: asyncpg.Connection, kind: str, claims: Sequence[tuple[str, UUID]]
) -> None:
    """Take many new external ids at once; one already taken raises UniqueViolationError."""
    await conn.execute(
        "INSERT INTO external_ids (kind, external_id, internal_id) "
        "SELECT $1, * FROM unnest($2::text[], $3::uuid[])",
        kind,
        [c[0] for c in claims],
        [c[1] for c in claims],
    )


async def lock(conn: asyncpg.Connection, kind: str, external_id: str) -> None:
    """Hold, until this transaction ends, every other writer about the same outside object.

    For what two messages about one object could each do without seeing the
    other's uncommitted rows (book one invoice's payment twice, say): the
    second waits for the first to commit and then finds what it did.
    """
    await hold_until_commit(conn, f"external_ids.{kind}", external_id)
