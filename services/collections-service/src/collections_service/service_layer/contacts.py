"""Contacts: calls logged by collectors, emails sent through SMTP, both as contact attempts.

An email is rendered and handed to the SMTP server first, outside any lock;
then the attempt is recorded with what happened (sent, with the server's
Message-ID, or failed, with its answer), in one transaction with completing
the task it was for. A failed send is recorded, not hidden: it is a contact
attempt that did not reach anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from collections_service.adapters import queries, streams
from collections_service.adapters.mailer import Mailer
from collections_service.adapters.projections import record_contact
from collections_service.domain import contacts as contact_rules
from collections_service.domain.dunning import Recipients, recipients
from collections_service.domain.refusals import Refusal, RefusalKind
from collections_service.domain.templates import Rendered
from collections_service.service_layer import lock_account, templates
from collections_service.service_layer import tasks as task_cases
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import ContactOutcome, TaskOutcome
from receivables_platform.db.transaction import atomic
from receivables_platform.domain import Refused
from receivables_platform.ids import new_id
from receivables_platform.mail import MailNotSent


@dataclass(frozen=True)
class Who:
    sub: str
    may_act_for_others: bool
    today: date
    now: datetime


@dataclass(frozen=True)
class Statement:
    """The consolidated overdue statement: every overdue invoice not on hold."""

    account_id: UUID
    currency: str
    invoice_ids: list[UUID]
    total_minor: int
    context: dict[str, Any]


@dataclass(frozen=True)
class Owed:
    """What a statement is about: the account, its overdue invoices not on hold, the currency,
    and what of each is owed now (`amounts`)."""

    account: Any
    overdue: list[Any]
    currency: str
    amounts: dict[UUID, int]

    @property
    def invoice_ids(self) -> list[UUID]:
        return [r["invoice_id"] for r in self.overdue]

    @property
    def total_minor(self) -> int:
        return sum(self.amounts.values())


async def owed(conn: asyncpg.Connection, account_id: UUID, today: date) -> Owed:
    """The figures a call records; `statement` adds what an email shows. Of an invoice in
    instalments, what is owed now is its instalments past due, not the ones still to come;
    with nothing overdue (a reminder before the due date), each open balance."""
    account = await queries.account_row(conn, account_id)
    rows = [r for r in await queries.open_invoices(conn, account_id) if not r["held"]]
    overdue = [r for r in rows if r["due_date"] < today]
    amounts = (
        {r["invoice_id"]: queries.open_invoice(r).past_due_minor(today) for r in overdue}
        if overdue
        else {r["invoice_id"]: r["balance_minor"] for r in rows}
    )
    return Owed(account, overdue or rows, queries.account_currency(account, rows), amounts)


@dataclass(frozen=True)
class Letterhead:
    """What a statement says beyond the figures: who signs it, how to pay, who receives it."""

    sender_name: str
    to_roles: tuple[str, ...] = ("billing",)
    cc_roles: tuple[str, ...] = ("billing_cc",)
    pay_link: str | None = None
    remittance: str | None = None


async def statement(
    conn: asyncpg.Connection, account_id: UUID, today: date, letterhead: Letterhead
) -> tuple[Statement, Recipients]:
    found = await owed(conn, account_id, today)
    account, overdue, currency = found.account, found.overdue, found.currency
    external = await queries.external_ids(conn, account_id)
    invoices = [
        {
            "reference": external.get(r["invoice_id"]) or str(r["invoice_id"])[:8],
            "due_date": r["due_date"],
            "balance_minor": found.amounts[r["invoice_id"]],
            "days_past_due": max((today - r["due_date"]).days, 0),
        }
        for r in overdue
    ]
    to = recipients(account["contacts"] or [], letterhead.to_roles, letterhead.cc_roles)
    total = found.total_minor
    context = {
        "account": {"name": account["name"] or "Customer"},
        "invoices": invoices,
        "total": total,
        "currency": currency,
        "today": today,
        "contact_name": to.addressee,
        "sender_name": letterhead.sender_name,
        "pay_link": letterhead.pay_link or "",
        "remittance": letterhead.remittance or "",
    }
    return Statement(account_id, currency, found.invoice_ids, total, context), to


async def record(
    conn: asyncpg.Connection,
    account_id: UUID,
    contact_id: UUID,
    events: list[EventContract],
    row: dict[str, Any],
    task_id: UUID | None,
    outcome: TaskOutcome | None,
    who: Who,
    correlation_id: str | None,
) -> None:
    """The attempt's events and row; the task it was for is completed with its outcome."""
    await streams.contacts.save(
        conn, contact_id, 0, events, subject=str(account_id), correlation_id=correlation_id
    )
    await record_contact(
        conn, contact_id, account_id, row, task_id=task_id, by=who.sub, at=who.now, today=who.today
    )
    if task_id is not None and outcome is not None:
        await task_cases.complete(
            conn,
            task_id,
            task_cases.Completion(
                by=who.sub,
                may_act_for_others=who.may_act_for_others,
                outcome=outcome,
                today=who.today,
                now=who.now,
                contact_id=contact_id,
                notes=row.get("notes"),
            ),
            correlation_id=correlation_id,
        )


async def _task_of_account(
    conn: asyncpg.Connection, task_id: UUID | None, account_id: UUID
) -> None:
    if task_id is None:
        return
    if await queries.task_account(conn, task_id) != account_id:
        raise Refused(f"task {task_id} is not a task of account {account_id}", field="task_id")


def _attempt(
    contact_id: UUID,
    found: Statement | Owed,
    account_id: UUID,
    who: Who,
    task_id: UUID | None,
    invoice_ids: Sequence[UUID] = (),
) -> contact_rules.Attempt:
    return contact_rules.Attempt(
        contact_id=contact_id,
        account_id=account_id,
        by=who.sub,
        task_id=task_id,
        invoice_ids=invoice_ids or found.invoice_ids,
        amount_past_due_minor=found.total_minor,
        currency=found.currency,
        at=who.now,
        today=who.today,
    )


async def log_call(
    conn: asyncpg.Connection,
    account_id: UUID,
    outcome: ContactOutcome,
    *,
    who: Who,
    notes: str | None,
    task_id: UUID | None,
    invoice_ids: list[UUID],
    correlation_id: str | None = None,
) -> UUID:
    contact_rules.check_call(outcome)
    async with atomic(conn):
        await lock_account(conn, account_id)
        await _task_of_account(conn, task_id, account_id)
        found = await owed(conn, account_id, who.today)
        contact_id = new_id()
        events = contact_rules.log_call(
            _attempt(contact_id, found, account_id, who, task_id, invoice_ids), outcome, notes=notes
        )
        await record(
            conn,
            account_id,
            contact_id,
            events,
            {"channel": "call", "outcome": outcome.value, "notes": notes},
            task_id,
            TaskOutcome(outcome.value),
            who,
            correlation_id,
        )
        return contact_id


async def send_email(
    conn: asyncpg.Connection,
    mailer: Mailer | None,
    account_id: UUID,
    template: str,
    language: str | None,
    *,
    who: Who,
    letterhead: Letterhead,
    task_id: UUID | None,
    correlation_id: str | None = None,
) -> UUID:
    account = await queries.account_row(conn, account_id)
    await _task_of_account(conn, task_id, account_id)
    found, to = await statement(conn, account_id, who.today, letterhead)
    rendered = await templates.render(
        conn, template, language or account["language"], found.context
    )
    if not to.to:
        raise Refused("the account has no contact with an email address", field="account_id")
    if mailer is None:
        raise Refusal(
            RefusalKind.UNAVAILABLE,
            "no mail server is configured (SMTP_URL): nothing was sent or recorded",
            title="Mail not configured",
        )
    contact_id = new_id()
    events, row, outcome = await deliver(
        mailer, to, rendered, template, contact_id, found, who, task_id
    )
    async with conn.transaction():
        await lock_account(conn, account_id)
        await record(
            conn, account_id, contact_id, events, row, task_id, outcome, who, correlation_id
        )
    return contact_id


async def deliver(
    mailer: Mailer,
    to: Recipients,
    rendered: Rendered,
    template: str,
    contact_id: UUID,
    found: Statement,
    who: Who,
    task_id: UUID | None,
    *,
    automatic: bool = False,
) -> tuple[list[EventContract], dict[str, Any], TaskOutcome]:
    """One SMTP conversation, and the events and row that record what the server answered."""
    attempt = _attempt(contact_id, found, found.account_id, who, task_id)
    email = contact_rules.Email(
        template=template,
        language=rendered.language,
        language_requested=rendered.requested,
        recipient=to.to[0],
        cc=to.cc,
        automatic=automatic,
    )
    try:
        message_id = await mailer.send(mailer.message(", ".join(to.to), rendered, to.cc))
    except MailNotSent as failure:
        outcome = ContactOutcome.EMAIL_FAILED
        events = contact_rules.email_failed(attempt, email, failure.detail, failure.permanent)
        row: dict[str, Any] = {"email_to": email.recipient, "email_error": failure.detail}
    else:
        outcome = ContactOutcome.EMAIL_SENT
        events = contact_rules.email_sent(attempt, email, message_id)
        row = {"email_to": email.recipient, "email_message_id": message_id}
    return (
        events,
        {
            "channel": "email",
            "outcome": outcome.value,
            **row,
            "email_cc": to.cc,
            "language": rendered.language,
            "language_requested": rendered.requested,
        },
        TaskOutcome(outcome.value),
    )
