"""The billing system's ids mapped to ours: one row per (kind, external id).

The primary key makes a concurrent duplicate create fail in the database, so
two retries of the same webhook can never make two invoices.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

import asyncpg

from billing_adapter.adapters.repositories import store
from receivables_platform.db.locks import hold_until_commit
from receivables_platform.repository import LockedRead, StreamLock
from receivables_platform.store import RecordedEvent


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


class Taken(Exception):
    """The external id a create would claim already names another entity, `internal_id`."""

    def __init__(self, internal_id: UUID) -> None:
        super().__init__(f"the external id names {internal_id} already")
        self.internal_id = internal_id


def claiming_entity(kind: str, external_id: str, entity_id: UUID, account_id: UUID) -> LockedRead:
    """`claim_entity`, then the account's lock and its events, in one statement (billing
    revision 0013, `claim_entity_and_lock`): a create's locked read (see the repository).

    Raises `Taken` when the id names another entity already: nothing was written then and
    no lock taken. When it was claimed but the account has no events to read (an unknown
    account), the read is empty and deciding refuses the create as it would have."""

    async def read(
        conn: asyncpg.Connection, lock: StreamLock, after_version: int
    ) -> list[RecordedEvent]:
        events = await store.events_from(
            conn,
            "claim_entity_and_lock($1, $2, $3, $4, $5, $6, $7, $8)",
            kind,
            external_id,
            entity_id,
            account_id,
            lock.namespace,
            lock.key,
            lock.stream_id,
            after_version,
        )
        if not events:
            taken = await find(conn, kind, external_id)
            if taken is not None and taken != entity_id:
                raise Taken(taken)
        return events

    return read


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
