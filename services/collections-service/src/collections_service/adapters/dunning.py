"""The dunning sender's rows: open email steps of the day, the claim that makes a send single,
its outcome, and collectors' names for the signature."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

SENDER_LOCK = "collections.dunning_sender"


async def due_email_tasks(conn: asyncpg.Connection, today: date) -> list[asyncpg.Record]:
    """Today's open cadence tasks whose lead channel is email and that nobody claimed yet."""
    return list(
        await conn.fetch(
            "SELECT t.task_id, t.account_id, t.collector_id, t.template, t.steps, t.business_date "
            "FROM tasks t WHERE t.kind = 'cadence' AND t.channel = 'email' AND t.status = 'open' "
            "AND t.business_date = $1 AND NOT EXISTS (SELECT 1 FROM dunning_sends d "
            "WHERE d.task_id = t.task_id) ORDER BY t.priority_score DESC, t.task_id",
            today,
        )
    )


async def serialise_claims(conn: asyncpg.Connection) -> None:
    """Claims queue on one transaction lock, so the per-minute count holds across replicas."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", SENDER_LOCK)


async def claimed_since(conn: asyncpg.Connection, since: datetime) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM dunning_sends WHERE claimed_at > $1 AND status <> 'withheld'", since
    )
    return count


async def taken(conn: asyncpg.Connection, account_id: UUID, step_id: str, day: date) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM dunning_sends WHERE account_id = $1 AND step_id = $2 "
            "AND business_date = $3",
            account_id,
            step_id,
            day,
        )
    )


async def claim(
    conn: asyncpg.Connection,
    *,
    account_id: UUID,
    step_id: str,
    day: date,
    task_id: UUID,
    now: datetime,
    status: str = "claimed",
    error: str | None = None,
) -> None:
    """The send's key, inserted before any SMTP conversation; a duplicate raises
    UniqueViolationError, which is the other sender's claim."""
    await conn.execute(
        "INSERT INTO dunning_sends (account_id, step_id, business_date, task_id, status, "
        "claimed_at, error, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        account_id,
        step_id,
        day,
        task_id,
        status,
        now,
        error,
        None if status == "claimed" else now,
    )


async def finish(
    conn: asyncpg.Connection,
    *,
    account_id: UUID,
    step_id: str,
    day: date,
    status: str,
    now: datetime,
    **outcome: Any,
) -> None:
    await conn.execute(
        "UPDATE dunning_sends SET status = $4, finished_at = $5, contact_id = $6, "
        "template = $7, language = $8, language_requested = $9, recipients = $10, cc = $11, "
        "message_id = $12, error = $13 "
        "WHERE account_id = $1 AND step_id = $2 AND business_date = $3",
        account_id,
        step_id,
        day,
        status,
        now,
        outcome.get("contact_id"),
        outcome.get("template"),
        outcome.get("language"),
        outcome.get("language_requested"),
        list(outcome.get("recipients", ())),
        list(outcome.get("cc", ())),
        outcome.get("message_id"),
        outcome.get("error"),
    )


async def task_open(conn: asyncpg.Connection, task_id: UUID) -> bool:
    return bool(
        await conn.fetchval("SELECT status = 'open' FROM tasks WHERE task_id = $1", task_id)
    )


async def sends(conn: asyncpg.Connection, account_id: UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT * FROM dunning_sends WHERE account_id = $1 ORDER BY business_date, claimed_at",
            account_id,
        )
    )


async def contact_by_message(conn: asyncpg.Connection, message_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM contacts WHERE email_message_id = $1", message_id
    )
    return row


async def mark_bounced(
    conn: asyncpg.Connection, contact_id: UUID, message_id: str, at: datetime, diagnostic: str
) -> None:
    await conn.execute(
        "UPDATE contacts SET bounced_at = $2, email_error = $3 WHERE contact_id = $1",
        contact_id,
        at,
        diagnostic,
    )
    await conn.execute(
        "UPDATE dunning_sends SET status = 'bounced', error = $2 WHERE message_id = $1",
        message_id,
        diagnostic,
    )


async def collector_name(conn: asyncpg.Connection, collector_id: str | None) -> str | None:
    if collector_id is None:
        return None
    name: str | None = await conn.fetchval(
        "SELECT name FROM collectors WHERE collector_id = $1", collector_id
    )
    return name


async def collector(
    conn: asyncpg.Connection, collector_id: str, *, for_update: bool = False
) -> asyncpg.Record | None:
    sql = (
        "SELECT * FROM collectors WHERE collector_id = $1 FOR UPDATE"
        if for_update
        else "SELECT * FROM collectors WHERE collector_id = $1"
    )
    row: asyncpg.Record | None = await conn.fetchrow(sql, collector_id)
    return row


async def name_collector(conn: asyncpg.Connection, collector_id: str, name: str) -> asyncpg.Record:
    """Create or rename; the caller holds the row (FOR UPDATE) and checked its version."""
    row = await conn.fetchrow(
        "INSERT INTO collectors (collector_id, name) VALUES ($1, $2) ON CONFLICT (collector_id) "
        "DO UPDATE SET name = excluded.name, version = collectors.version + 1 RETURNING *",
        collector_id,
        name,
    )
    assert row is not None
    return row


def last_minute(now: datetime) -> datetime:
    return now - timedelta(minutes=1)
