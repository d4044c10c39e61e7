"""Notification rows: people's preferences, decided notifications, and the dispatcher's claims.

A decided notification is a row under its unique key; deciding it again
inserts nothing (ON CONFLICT DO NOTHING is right here: the same occasion for
the same person is one notification, unlike an event store's lost write).
A dispatcher claims rows (`pending` to `sending`, committed) before it sends,
with SKIP LOCKED, so two dispatchers never take the same row; a row left in
`sending` by a dispatcher that died is taken again only after the lease.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from case_service.domain.notifications import Delivery, Notice, Recipient

_RECIPIENT = """SELECT user_id, COALESCE(r.email, a.email) AS email, r.webhook_url,
                       COALESCE(r.channels, '{}'::jsonb) AS channels"""


def _recipient(row: asyncpg.Record) -> Recipient:
    channels = row["channels"]
    return Recipient(
        row["user_id"],
        row["email"],
        row["webhook_url"],
        json.loads(channels) if isinstance(channels, str) else dict(channels),
    )


async def save_preferences(
    conn: asyncpg.Connection,
    user_id: str,
    email: str | None,
    webhook_url: str | None,
    channels: dict[str, str],
    teams: Sequence[str],
    roles: Sequence[str],
    at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO notification_recipients (user_id, email, webhook_url, channels, teams,
               roles, updated_at) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)
           ON CONFLICT (user_id) DO UPDATE SET email = $2, webhook_url = $3, channels = $4::jsonb,
               teams = $5, roles = $6, updated_at = $7""",
        user_id,
        email,
        webhook_url,
        json.dumps(channels),
        list(teams),
        list(roles),
        at,
    )


async def preferences(conn: asyncpg.Connection, user_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM notification_recipients WHERE user_id = $1", user_id)


async def recipients(
    conn: asyncpg.Connection,
    *,
    user: str | None = None,
    team: str | None = None,
    role: str | None = None,
) -> list[Recipient]:
    """A person (known from their preferences or as a case agent), or everyone who recorded
    the team or role with their preferences."""
    if user is not None:
        rows = await conn.fetch(
            f"""{_RECIPIENT} FROM (SELECT $1::text AS user_id) u
                LEFT JOIN notification_recipients r USING (user_id)
                LEFT JOIN case_agents a USING (user_id)""",
            user,
        )
    else:
        column, value = ("teams", team) if team is not None else ("roles", role)
        rows = await conn.fetch(
            f"""{_RECIPIENT} FROM notification_recipients r
                LEFT JOIN case_agents a USING (user_id)
                WHERE $1 = ANY(r.{column}) ORDER BY user_id""",
            value,
        )
    return [_recipient(r) for r in rows]


async def record(conn: asyncpg.Connection, notice: Notice, delivery: Delivery) -> bool:
    """True when this is the first time the notification was decided."""
    inserted = await conn.fetchval(
        """INSERT INTO notifications (notification_key, kind, recipient, channel, address,
               subject, body, case_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (notification_key) DO NOTHING RETURNING true""",
        delivery.key,
        notice.kind,
        delivery.recipient,
        delivery.channel,
        delivery.address,
        notice.subject[:500],
        notice.text[:20_000],
        notice.case_id,
    )
    return bool(inserted)


async def escalations_due(
    conn: asyncpg.Connection, tomorrow: Any, limit: int
) -> list[asyncpg.Record]:
    """Unanswered escalations due tomorrow or before, on cases still open."""
    return list(
        await conn.fetch(
            """SELECT e.escalation_id, e.case_id, e.team, e.question, e.due_date, e.claimed_by,
                  c.case_number
           FROM case_escalations e JOIN cases c USING (case_id)
           WHERE e.answered_at IS NULL AND e.due_date <= $1 AND c.status <> 'closed'
           ORDER BY e.due_date LIMIT $2""",
            tomorrow,
            limit,
        )
    )


async def sla_at_risk(
    conn: asyncpg.Connection, at: datetime, warning: timedelta, limit: int
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """SELECT case_id, case_number, subject, owner_id, sla_due_at FROM cases
           WHERE NOT sla_paused AND NOT sla_breached AND owner_id IS NOT NULL
             AND sla_due_at > $1 AND sla_due_at <= $2
           ORDER BY sla_due_at LIMIT $3""",
            at,
            at + warning,
            limit,
        )
    )


async def next_actions_due(
    conn: asyncpg.Connection, today: Any, limit: int
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """SELECT case_id, case_number, subject, owner_id, next_action_on, next_action
           FROM cases WHERE next_action_on IS NOT NULL AND next_action_on <= $1
             AND status <> 'closed' AND owner_id IS NOT NULL
           ORDER BY next_action_on LIMIT $2""",
            today,
            limit,
        )
    )


async def digest_owed(conn: asyncpg.Connection, before: datetime) -> list[str]:
    """People with digest notifications decided before `before` still to be sent."""
    rows = await conn.fetch(
        """SELECT DISTINCT recipient FROM notifications
           WHERE status = 'pending' AND channel = 'digest' AND created_at < $1""",
        before,
    )
    return [r["recipient"] for r in rows]


async def bundle_digest(
    conn: asyncpg.Connection, recipient: str, key: str, before: datetime, subject: str, heading: str
) -> int:
    """Fold the person's pending digest rows into one email row under `key` (once per day);
    0 when that day's digest was already made."""
    async with conn.transaction():
        items = await conn.fetch(
            """SELECT notification_key, subject, address FROM notifications
               WHERE recipient = $1 AND status = 'pending' AND channel = 'digest'
                 AND created_at < $2 ORDER BY created_at FOR UPDATE""",
            recipient,
            before,
        )
        if not items:
            return 0
        body = heading + "\n\n" + "\n".join(f"- {r['subject']}" for r in items)
        made = await conn.fetchval(
            """INSERT INTO notifications (notification_key, kind, recipient, channel, address,
                   subject, body) VALUES ($1, 'digest', $2, 'email', $3, $4, $5)
               ON CONFLICT (notification_key) DO NOTHING RETURNING true""",
            key,
            recipient,
            items[-1]["address"],
            subject,
            body,
        )
        if not made:
            return 0
        await conn.execute(
            "UPDATE notifications SET status = 'digested', digest_key = $2 "
            "WHERE notification_key = ANY($1::text[])",
            [r["notification_key"] for r in items],
            key,
        )
        return len(items)


async def claim(
    conn: asyncpg.Connection, worker: str, at: datetime, lease: timedelta, limit: int
) -> list[asyncpg.Record]:
    """Take up to `limit` sendable rows for `worker`; committed before anything is sent."""
    return list(
        await conn.fetch(
            """UPDATE notifications SET status = 'sending', claimed_by = $1, claimed_at = $2,
               attempts = attempts + 1
           WHERE notification_key IN (
               SELECT notification_key FROM notifications
               WHERE (status = 'pending' AND channel <> 'digest' AND not_before <= $2)
                  OR (status = 'sending' AND claimed_at < $2 - $3::interval)
               ORDER BY created_at LIMIT $4 FOR UPDATE SKIP LOCKED)
           RETURNING *""",
            worker,
            at,
            lease,
            limit,
        )
    )


async def sent(conn: asyncpg.Connection, key: str, worker: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE notifications SET status = 'sent', sent_at = $3, last_error = NULL "
        "WHERE notification_key = $1 AND claimed_by = $2",
        key,
        worker,
        at,
    )


async def not_sent(
    conn: asyncpg.Connection, key: str, worker: str, error: str, retry_at: datetime | None
) -> None:
    """Back to `pending` until `retry_at`, or `failed` for good when None."""
    await conn.execute(
        """UPDATE notifications SET status = CASE WHEN $4::timestamptz IS NULL THEN 'failed'
                                                  ELSE 'pending' END,
               not_before = COALESCE($4, not_before), last_error = $3
           WHERE notification_key = $1 AND claimed_by = $2""",
        key,
        worker,
        error[:2000],
        retry_at,
    )


async def sent_to(conn: asyncpg.Connection, recipient: str, limit: int) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """SELECT notification_key, kind, channel, subject, status, created_at, sent_at,
                  attempts, last_error, case_id
           FROM notifications WHERE recipient = $1 ORDER BY created_at DESC,
           notification_key LIMIT $2""",
            recipient,
            limit,
        )
    )
