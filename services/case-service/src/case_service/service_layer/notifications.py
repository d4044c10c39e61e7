"""Notifications to people: decided with what calls for them, sent once by a dispatcher.

Why here, in case-service, and not in reporting: six of the seven occasions are
about cases (an escalation for a team, its answer due or overdue, a case's SLA
about to run out, a customer's reply, a credit awaiting approval, the owner's
next action), and case-service decides them in the very transaction that
appends the case's events (`after_case_events`), or from its own tables (the
sweep), with no lag and no second copy of case state. Reporting's read model
trails the topics and is rebuilt at will; a rebuild must never notify anyone
again. The one occasion from elsewhere, a broken promise, arrives on
`collections.events.v1`, which case-service now reads for the accounts'
collectors anyway.

Sending is never done inside a request: a decided notification is a row under
a unique key (`adapters.notifications`); the dispatcher claims rows, commits
the claim, and only then sends by SMTP or signed webhook, so two dispatchers
(replicas) or a restarted one never send a row twice. A send that fails for a
while is retried with backoff; one refused for good is marked failed.
Digest rows wait for the day's digest, one email per person per day.

Notifications are rows, not events on the cases topic: they are messages to
staff about a case, not part of the account's story, and the unique key gives
the exactly-once decision an event would. A crash between a send and its
`sent` mark leaves the row claimed; after `NOTIFICATION_LEASE_SECONDS` another
dispatcher sends it again with the same Message-ID / notification id, so a
receiver can tell the copy.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import structlog

from case_service.adapters import notifications as rows
from case_service.adapters import webhooks
from case_service.domain import notifications as n
from case_service.domain.state import Case
from case_service.settings import NotificationSettings
from receivables_platform import mail
from receivables_platform.business_dates import business_dates
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import CommitmentBroken
from receivables_platform.db.pool import holds_session_state

log = structlog.get_logger("case_service.notifications")
MAX_ATTEMPTS = 8
SWEEP_LIMIT = 500


async def decide(conn: asyncpg.Connection, notices: Sequence[n.Notice]) -> int:
    """Store one row per notice and person who wants it; 0 for occasions already decided."""
    made = 0
    for notice in notices:
        audience = notice.audience
        for recipient in await rows.recipients(
            conn, user=audience.user, team=audience.team, role=audience.role
        ):
            delivery = n.route(notice, recipient)
            if delivery is not None and await rows.record(conn, notice, delivery):
                made += 1
    return made


async def after_case_events(
    conn: asyncpg.Connection, case: Case, events: Sequence[EventContract]
) -> None:
    """Runs in the case's append transaction: the notices commit with the events or not at all."""
    if notices := n.from_case_events(case, events):
        await decide(conn, notices)


async def promise_broken(conn: asyncpg.Connection, broken: CommitmentBroken) -> None:
    promised = f"{broken.amount_minor} {broken.currency} (minor units) by {broken.promised_date}"
    await decide(
        conn,
        [
            n.promise_broken(
                broken.commitment_id,
                broken.account_id,
                broken.collector_id,
                promised,
                broken.broken_on,
            )
        ],
    )


async def sweep(conn: asyncpg.Connection, at: datetime, settings: NotificationSettings) -> int:
    """The calendar's occasions: answers due tomorrow or overdue, SLAs about to run out, next
    actions due, and the daily digests once their time has come."""
    dates = business_dates()
    today = dates.today(at)
    notices = [
        n.escalation_due(r, today)
        for r in await rows.escalations_due(conn, today + timedelta(days=1), SWEEP_LIMIT)
    ]
    notices += [
        n.sla_at_risk(r)
        for r in await rows.sla_at_risk(conn, at, settings.sla_warning, SWEEP_LIMIT)
    ]
    notices += [n.next_action_due(r) for r in await rows.next_actions_due(conn, today, SWEEP_LIMIT)]
    async with conn.transaction():
        made = await decide(conn, notices)
    digest_time = datetime.combine(
        today, settings.digest_at, ZoneInfo(dates.team_timezone)
    ).astimezone(UTC)
    if at >= digest_time:
        for recipient in await rows.digest_owed(conn, digest_time):
            made += await rows.bundle_digest(
                conn,
                recipient,
                f"digest:{recipient}:{today}",
                digest_time,
                f"Your receivables notifications for {today}",
                "What happened since your last digest:",
            )
    return made


def _retry_at(at: datetime, attempts: int) -> datetime:
    return at + timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


async def _send(
    row: asyncpg.Record, smtp: mail.SmtpTarget | None, settings: NotificationSettings, at: datetime
) -> None:
    key = row["notification_key"]
    if row["channel"] == n.Channel.WEBHOOK:
        if settings.webhook_secret is None:
            raise webhooks.WebhookNotSent("NOTIFICATION_WEBHOOK_SECRET is not set")
        if not settings.webhook_allowed(row["address"]):
            raise webhooks.WebhookNotSent(
                f"{row['address']} is not an allowed webhook host", permanent=True
            )
        body = json.dumps(
            {
                "id": key,
                "kind": row["kind"],
                "subject": row["subject"],
                "text": f"{row['subject']}\n\n{row['body']}",
                "case_id": str(row["case_id"]) if row["case_id"] else None,
                "created_at": row["created_at"].isoformat(),
            }
        ).encode()
        await webhooks.post(
            row["address"],
            body,
            secret=settings.webhook_secret,
            timestamp=int(at.timestamp()),
            notification_id=key,
        )
        return
    if smtp is None:
        raise mail.MailNotSent("SMTP_URL is not set")
    message = mail.compose(smtp, to=row["address"], subject=row["subject"], body=row["body"])
    message.replace_header("Message-ID", f"<{key.replace(':', '.')}@notifications.receivables>")
    await mail.send(smtp, message)


async def dispatch(
    pool: asyncpg.Pool,
    worker: str,
    smtp: mail.SmtpTarget | None,
    settings: NotificationSettings,
    at: datetime,
    *,
    limit: int = 50,
) -> int:
    """Claim, then send, then record each outcome; the number sent."""
    async with pool.acquire() as conn:
        claimed = await rows.claim(conn, worker, at, settings.lease, limit)
    done = 0
    for row in claimed:
        key = row["notification_key"]
        try:
            await _send(row, smtp, settings, at)
        except (mail.MailNotSent, webhooks.WebhookNotSent) as exc:
            final = exc.permanent or row["attempts"] >= MAX_ATTEMPTS
            log.warning("notification.not_sent", key=key, error=exc.detail, final=final)
            async with pool.acquire() as conn:
                await rows.not_sent(
                    conn, key, worker, exc.detail, None if final else _retry_at(at, row["attempts"])
                )
            continue
        except Exception as exc:  # an address no message can carry: fail the row, not the loop
            log.warning("notification.unsendable", key=key, error=repr(exc))
            async with pool.acquire() as conn:
                await rows.not_sent(conn, key, worker, repr(exc), None)
            continue
        async with pool.acquire() as conn:
            await rows.sent(conn, key, worker, datetime.now(UTC))
        done += 1
    return done


async def notify_forever(
    pool: asyncpg.Pool, smtp_url: str | None, settings: NotificationSettings
) -> None:
    """Background worker: sweep for the calendar's occasions, then send what is decided.

    Every replica runs it: the unique keys make the sweeps agree, the claims keep
    the sends apart.
    """
    smtp = mail.SmtpTarget.from_url(smtp_url) if smtp_url else None
    worker = f"{socket.gethostname()}:{os.getpid()}:{id(pool):x}"
    while True:
        try:
            at = datetime.now(UTC)
            async with pool.acquire() as conn:
                holds_session_state(conn)
                await sweep(conn, at, settings)
            await dispatch(pool, worker, smtp, settings, at)
        except Exception as exc:  # a failed round must not end the loop; the next catches up
            log.warning("notifications.round_failed", error=repr(exc))
        await asyncio.sleep(settings.poll_seconds)
