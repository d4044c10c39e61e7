"""The `stripe_events` table: each Stripe event id once, its outcome, parked payloads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import asyncpg

Outcome = Literal["applied", "ignored", "parked", "rejected"]


@dataclass(frozen=True)
class Settled:
    """What came of a Stripe event; `waiting_for` is (kind, external id) for a parked one."""

    outcome: Outcome
    detail: str | None = None
    waiting_for: tuple[str, str] | None = None


@dataclass(frozen=True)
class ReceivedRow:
    event_id: str
    type: str
    object_id: str | None
    created_at: datetime
    received_at: datetime
    settled_at: datetime
    outcome: str
    detail: str | None
    waiting_for: str | None


async def claim(
    conn: asyncpg.Connection, event_id: str, type_: str, object_id: str | None, created_at: datetime
) -> bool:
    """False when the event id is already there: a redelivery, to answer 200 and do nothing.

    Taken first, in the transaction that then applies the event: a concurrent
    delivery of the same id waits on the primary key until that transaction
    ends and then finds the row, so two deliveries never both apply.
    """
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO stripe_events (event_id, type, object_id, created_at, outcome)"
                " VALUES ($1, $2, $3, $4, 'applied')",
                event_id,
                type_,
                object_id,
                created_at,
            )
    except asyncpg.UniqueViolationError:
        return False
    return True


async def settle(
    conn: asyncpg.Connection, event_id: str, settled: Settled, payload: dict[str, Any] | None = None
) -> None:
    """Record the outcome; only a parked event keeps its payload (to be replayed)."""
    kind, external_id = settled.waiting_for or (None, None)
    await conn.execute(
        "UPDATE stripe_events SET outcome = $2, detail = $3, waiting_kind = $4,"
        " waiting_external_id = $5, settled_at = now(),"
        " payload = CASE WHEN $2 = 'parked' THEN coalesce($6::jsonb, payload) END"
        " WHERE event_id = $1",
        event_id,
        settled.outcome,
        settled.detail,
        kind,
        external_id,
        None if payload is None else json.dumps(payload),
    )


async def next_ready(conn: asyncpg.Connection) -> tuple[str, dict[str, Any]] | None:
    """The oldest parked event whose missing account, invoice or payment now exists, locked.

    Oldest by Stripe's `created`, so a replay applies in the order Stripe
    produced them; SKIP LOCKED lets two replaying requests share the work.
    """
    row = await conn.fetchrow(
        "SELECT s.event_id, s.payload FROM stripe_events s"
        " JOIN external_ids x ON x.kind = s.waiting_kind AND x.external_id = s.waiting_external_id"
        " WHERE s.outcome = 'parked' ORDER BY s.created_at, s.event_id"
        " LIMIT 1 FOR UPDATE OF s SKIP LOCKED"
    )
    if row is None:
        return None
    return str(row["event_id"]), json.loads(row["payload"])


async def newer_applied(
    conn: asyncpg.Connection, object_id: str, types: list[str], created_at: datetime
) -> bool:
    """Whether a later snapshot of the same Stripe object was already applied.

    Stripe does not deliver in order; customer and subscription events carry
    the whole object, so an older snapshot arriving late must not undo a newer one.
    """
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM stripe_events WHERE object_id = $1 AND type = ANY($2)"
            " AND outcome = 'applied' AND created_at > $3)",
            object_id,
            types,
            created_at,
        )
    )


async def listing(conn: asyncpg.Connection, outcome: str | None, limit: int) -> list[ReceivedRow]:
    rows = await conn.fetch(
        "SELECT event_id, type, object_id, created_at, received_at, settled_at, outcome, detail,"
        " waiting_kind || ':' || waiting_external_id AS waiting_for FROM stripe_events"
        " WHERE $1::text IS NULL OR outcome = $1 ORDER BY received_at DESC, event_id LIMIT $2",
        outcome,
        limit,
    )
    return [ReceivedRow(**dict(row)) for row in rows]


async def outcome_of(conn: asyncpg.Connection, object_id: str, type_: str) -> str | None:
    """What came of the event of `type_` about a Stripe object, if one was received."""
    value = await conn.fetchval(
        "SELECT outcome FROM stripe_events WHERE object_id = $1 AND type = $2"
        " ORDER BY created_at DESC LIMIT 1",
        object_id,
        type_,
    )
    return None if value is None else str(value)


@dataclass(frozen=True)
class GivenUp:
    event_id: str
    type: str
    detail: str


async def give_up_parked(
    conn: asyncpg.Connection,
    kinds: list[str],
    waited: timedelta,
) -> list[GivenUp]:
    """Settle as `ignored` what has waited longer than `waited` for one of `kinds`.

    The reason says what it waited for and since when; the payload goes, as
    for every event that is not parked.
    """
    rows = await conn.fetch(
        "UPDATE stripe_events SET outcome = 'ignored', settled_at = now(), payload = NULL,"
        " detail = 'gave up waiting: ' || detail || ' (' || waiting_kind || ' '"
        " || waiting_external_id || ' never became known since '"
        " || to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC)',"
        " waiting_kind = NULL, waiting_external_id = NULL"
        " WHERE outcome = 'parked' AND waiting_kind = ANY($1::text[])"
        " AND received_at < now() - $2::interval"
        " RETURNING event_id, type, detail",
        kinds,
        waited,
    )
    return [GivenUp(str(r["event_id"]), str(r["type"]), str(r["detail"])) for r in rows]


async def parked_counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Parked events by what they wait for (account, invoice, payment, credit note)."""
    rows = await conn.fetch(
        "SELECT waiting_kind, count(*) AS n FROM stripe_events"
        " WHERE outcome = 'parked' GROUP BY waiting_kind"
    )
    return {str(r["waiting_kind"]): int(r["n"]) for r in rows}
