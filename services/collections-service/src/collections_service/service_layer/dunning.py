"""Automatic dunning: the day's email steps sent by the system, each exactly once.

A pass (the background sender every DUNNING_POLL_SECONDS, or a test calling
`send_due`) runs only inside the send window in the team's time zone on a
business day. Each open email task of the day is first *claimed*: its key
(account, step, business date) is inserted and committed under one
transaction lock that every replica queues on, which also keeps the
per-minute throttle true across replicas. Only the claimant talks to SMTP,
outside any lock; the outcome (sent with its Message-ID, failed with the
server's reply) is then recorded as a contact attempt that completes the task.
A crash between claim and record leaves the claim `claimed`: never sent twice,
and visible to a supervisor. Call steps are not touched: they stay tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import structlog

from collections_service.adapters import dunning as store
from collections_service.adapters import queries, streams
from collections_service.adapters.mailer import Mailer
from collections_service.adapters.pay_links import link_key
from collections_service.domain import contacts as contact_rules
from collections_service.domain.cadence import plan_day
from collections_service.domain.dunning import (
    Bounce,
    SendWindow,
    recipients,
    withheld,
)
from collections_service.domain.refusals import not_found
from collections_service.runtime import Runtime
from collections_service.service_layer import SYSTEM, contacts, lock_account, templates
from receivables_platform.business_dates import business_dates
from receivables_platform.contracts.collections import Channel
from receivables_platform.domain import Refused
from receivables_platform.ids import new_id

log = structlog.get_logger("collections_service.dunning")


@dataclass
class PassSummary:
    in_window: bool
    sent: int = 0
    failed: int = 0
    withheld: int = 0
    throttled: bool = False


def window(runtime: Runtime) -> SendWindow:
    return SendWindow(runtime.settings.dunning_window_start, runtime.settings.dunning_window_end)


def local_now(runtime: Runtime) -> datetime:
    return runtime.clock.now().astimezone(ZoneInfo(business_dates().team_timezone))


def lead_step(steps: list[dict[str, Any]]) -> str:
    """The most advanced step of the task: the one its email is."""
    return str(max(steps, key=lambda s: s["offset_days"])["step_id"])


async def letterhead(
    conn: asyncpg.Connection,
    runtime: Runtime,
    account_id: UUID,
    collector_id: str | None,
    *,
    pay_link_key: str | None,
) -> contacts.Letterhead:
    """Who signs and how to pay. `pay_link_key` names the email the link is for (None: a
    preview, which makes no link at the provider). A link billing cannot make now leaves
    the email without one rather than unsent: the statement and remittance still stand."""
    settings = runtime.settings
    name = await store.collector_name(conn, collector_id)
    try:
        link = await runtime.pay_link_source().for_account(account_id, key=pay_link_key)
    except Refused as refusal:
        log.warning(
            "dunning.pay_link_unavailable", account_id=str(account_id), reason=refusal.detail
        )
        link = None
    return contacts.Letterhead(
        sender_name=name or collector_id or "Accounts receivable",
        to_roles=tuple(settings.dunning_to_roles),
        cc_roles=tuple(settings.dunning_cc_roles),
        pay_link=link.url if link else None,
        remittance=settings.remittance,
    )


async def send_due(pool: asyncpg.Pool, runtime: Runtime) -> PassSummary:
    now, today = runtime.clock.now(), runtime.clock.today()
    summary = PassSummary(
        window(runtime).contains(local_now(runtime).time())
        and runtime.calendar.is_business_day(today)
    )
    if not summary.in_window or not runtime.settings.smtp_url:
        return summary
    mailer = Mailer.from_url(runtime.settings.smtp_url)
    async with pool.acquire() as conn:
        for task in await store.due_email_tasks(conn, today):
            verdict = await _claim(conn, task, now, runtime)
            if verdict == "throttled":
                summary.throttled = True
                break
            if verdict == "withheld":
                summary.withheld += 1
            elif verdict == "claimed":
                if await _send(conn, mailer, task, runtime, now, today):
                    summary.sent += 1
                else:
                    summary.failed += 1
    return summary


async def _claim(
    conn: asyncpg.Connection, task: asyncpg.Record, now: datetime, runtime: Runtime
) -> str:
    key = {
        "account_id": task["account_id"],
        "step_id": lead_step(task["steps"]),
        "day": task["business_date"],
    }
    async with conn.transaction():
        await store.serialise_claims(conn)
        if await store.taken(conn, **key):
            return "taken"
        account = await queries.account_row(conn, task["account_id"])
        reason = withheld(
            do_not_contact=account["do_not_contact"],
            opt_out=account["email_opt_out"],
            recipients=recipients(
                account["contacts"] or [],
                runtime.settings.dunning_to_roles,
                runtime.settings.dunning_cc_roles,
            ),
        )
        if reason is not None:
            await store.claim(
                conn, **key, task_id=task["task_id"], now=now, status="withheld", error=reason
            )
            return "withheld"
        if (
            await store.claimed_since(conn, store.last_minute(now))
            >= runtime.settings.dunning_per_minute
        ):
            return "throttled"
        await store.claim(conn, **key, task_id=task["task_id"], now=now)
        return "claimed"


async def _send(
    conn: asyncpg.Connection,
    mailer: Mailer,
    task: asyncpg.Record,
    runtime: Runtime,
    now: datetime,
    today: date,
) -> bool:
    account_id, collector_id = task["account_id"], task["collector_id"]
    key = {
        "account_id": account_id,
        "step_id": lead_step(task["steps"]),
        "day": task["business_date"],
    }
    who = contacts.Who(collector_id or SYSTEM, True, today, now)
    account = await queries.account_row(conn, account_id)
    head = await letterhead(
        conn,
        runtime,
        account_id,
        collector_id,
        pay_link_key=link_key("dunning", account_id, *key.values()),
    )
    found, to = await contacts.statement(conn, account_id, today, head)
    try:
        rendered = await templates.render(
            conn, task["template"], account["language"], found.context
        )
    except Refused as refusal:  # the template was removed since the policy named it
        await store.finish(conn, **key, status="failed", now=now, error=str(refusal))
        return False
    contact_id = new_id()
    events, row, outcome = await contacts.deliver(
        mailer,
        to,
        rendered,
        task["template"],
        contact_id,
        found,
        who,
        task["task_id"],
        automatic=True,
    )
    sent = row.get("email_message_id") is not None
    async with conn.transaction():
        await lock_account(conn, account_id)
        still_open = await store.task_open(conn, task["task_id"])
        await contacts.record(
            conn,
            account_id,
            contact_id,
            events,
            row,
            task["task_id"],
            outcome if still_open else None,
            who,
            None,
        )
        await store.finish(
            conn,
            **key,
            status="sent" if sent else "failed",
            now=now,
            contact_id=contact_id,
            template=task["template"],
            language=rendered.language,
            language_requested=rendered.requested,
            recipients=to.to,
            cc=to.cc,
            message_id=row.get("email_message_id"),
            error=row.get("email_error"),
        )
    log.info(
        "dunning.email",
        account_id=str(account_id),
        step_id=key["step_id"],
        outcome=row["outcome"],
        language=rendered.language,
        language_requested=rendered.requested,
    )
    return sent


async def record_bounce(
    conn: asyncpg.Connection, bounce: Bounce, now: datetime, correlation_id: str | None = None
) -> asyncpg.Record:
    """The contact the bounced message was, marked bounced once (a resent DSN changes nothing)."""
    found = await store.contact_by_message(conn, bounce.message_id)
    if found is None:
        raise not_found(
            f"no email was sent with Message-ID {bounce.message_id}", field="message_id"
        )
    async with conn.transaction():
        await lock_account(conn, found["account_id"])
        again = await store.contact_by_message(conn, bounce.message_id)
        assert again is not None
        contact = await streams.contacts.load(conn, again["contact_id"], history=False)
        events = contact_rules.bounce(contact.state, bounce, now=now)
        if not events:
            return again
        await streams.contacts.save(
            conn,
            again["contact_id"],
            contact.version,
            events,
            subject=str(again["account_id"]),
            correlation_id=correlation_id,
        )
        await store.mark_bounced(
            conn,
            again["contact_id"],
            bounce.message_id,
            now,
            f"bounced {bounce.status}: {bounce.diagnostic or ''}".strip(),
        )
    row = await store.contact_by_message(conn, bounce.message_id)
    assert row is not None
    return row


@dataclass
class Planned:
    account_id: UUID
    account_name: str | None
    collector_id: str | None
    step_id: str
    template: str
    language: str | None
    language_requested: str
    to: list[str]
    cc: list[str] = field(default_factory=list)
    withheld: str | None = None
    subject: str | None = None


async def preview(conn: asyncpg.Connection, runtime: Runtime, day: date) -> list[Planned]:
    """What the cadence would email on `day` as things stand: nothing is written."""
    planned: list[Planned] = []
    for account_id in await queries.accounts_with_open_invoices(conn):
        account = await queries.account_row(conn, account_id)
        policy = await queries.policy_for_segment(conn, account["segment"])
        if policy is None:
            continue
        situation = await queries.situation(conn, account_id, day)
        fired = await queries.fired_steps(conn, account_id, policy.policy_id)
        plan = plan_day(situation, policy, fired, day, runtime.calendar)
        if plan is None or plan.lead.channel is not Channel.EMAIL:
            continue
        head = await letterhead(
            conn, runtime, account_id, account["collector_id"], pay_link_key=None
        )
        found, to = await contacts.statement(conn, account_id, day, head)
        entry = Planned(
            account_id,
            account["name"],
            account["collector_id"],
            plan.lead.step_id,
            plan.lead.template,
            None,
            account["language"],
            list(to.to),
            list(to.cc),
            withheld(
                do_not_contact=account["do_not_contact"],
                opt_out=account["email_opt_out"],
                recipients=to,
            ),
        )
        try:
            rendered = await templates.render(
                conn, plan.lead.template, account["language"], found.context
            )
        except Refused as refusal:
            entry.withheld = entry.withheld or str(refusal)
        else:
            entry.language, entry.subject = rendered.language, rendered.subject
        planned.append(entry)
    return planned
