"""A contact attempt's life: a call logged with its outcome, or an email handed to the mail
server (sent with its Message-ID, or failed with the server's answer), and later perhaps
bounced. Pure decide/evolve over the contact's own stream.

A failed send is decided like a sent one: it is an attempt that reached nobody, and the
worklist and the reports must see it, not lose it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import UUID

from collections_service.domain.dunning import Bounce
from collections_service.domain.refusals import not_found
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import (
    Channel,
    ContactAttempted,
    ContactOutcome,
    EmailBounced,
    EmailFailed,
    EmailSent,
)
from receivables_platform.domain import Refused

MAX_DETAIL = 1000
"""How much of a server's answer or a bounce's diagnostic an event keeps."""


@dataclass(frozen=True)
class Contact:
    contact_id: UUID | None = None
    account_id: UUID | None = None
    collector_id: str | None = None
    channel: Channel | None = None
    message_id: str | None = None
    bounced: bool = False


def evolve(contact: Contact, event: EventContract) -> Contact:
    match event:
        case ContactAttempted():
            return Contact(event.contact_id, event.account_id, event.collector_id, event.channel)
        case EmailSent():
            return replace(contact, message_id=event.message_id)
        case EmailBounced():
            return replace(contact, bounced=True)
    return contact


@dataclass(frozen=True)
class Attempt:
    """Who tried to reach the account when, about which of its overdue invoices."""

    contact_id: UUID
    account_id: UUID
    by: str
    task_id: UUID | None
    invoice_ids: Sequence[UUID]
    amount_past_due_minor: int
    currency: str
    at: datetime
    today: date


def check_call(outcome: ContactOutcome) -> None:
    """A call's outcome; an email's or a letter's is the system's to record, not a caller's."""
    if outcome.value.startswith(("email_", "letter_")):
        raise Refused(f"{outcome.value} is not the outcome of a call", field="outcome")


def log_call(
    attempt: Attempt, outcome: ContactOutcome, *, notes: str | None
) -> list[EventContract]:
    check_call(outcome)
    return [_attempted(attempt, Channel.CALL, outcome, notes)]


@dataclass(frozen=True)
class Email:
    """An email as it was handed over: its template, the language it was written in (and the
    one asked for, when it fell back), and its recipients."""

    template: str
    language: str
    language_requested: str
    recipient: str
    cc: Sequence[str] = ()
    automatic: bool = False

    def common(self, attempt: Attempt) -> dict[str, object]:
        return {
            "contact_id": attempt.contact_id,
            "account_id": attempt.account_id,
            "collector_id": attempt.by,
            "task_id": attempt.task_id,
            "template": self.template,
            "language": self.language,
            "language_requested": (
                self.language_requested if self.language_requested != self.language else None
            ),
            "automatic": self.automatic,
        }


def email_sent(attempt: Attempt, email: Email, message_id: str) -> list[EventContract]:
    return [
        _attempted(attempt, Channel.EMAIL, ContactOutcome.EMAIL_SENT, None),
        EmailSent(
            **email.common(attempt),
            recipient=email.recipient,
            cc=list(email.cc),
            message_id=message_id,
            invoice_ids=list(attempt.invoice_ids),
            amount_past_due_minor=attempt.amount_past_due_minor,
            currency=attempt.currency,
            sent_at=attempt.at,
        ),
    ]


def email_failed(
    attempt: Attempt, email: Email, detail: str, permanent: bool
) -> list[EventContract]:
    return [
        _attempted(attempt, Channel.EMAIL, ContactOutcome.EMAIL_FAILED, None),
        EmailFailed(
            **email.common(attempt),
            recipient=email.recipient,
            error=detail[:MAX_DETAIL],
            permanent=permanent,
            failed_at=attempt.at,
        ),
    ]


def bounce(contact: Contact, dsn: Bounce, *, now: datetime) -> list[EventContract]:
    """A delivery status notification for a sent email, recorded once: a DSN sent again
    changes nothing."""
    if contact.contact_id is None or contact.account_id is None or contact.collector_id is None:
        raise not_found(f"no email was sent with Message-ID {dsn.message_id}", field="message_id")
    if contact.bounced:
        return []
    return [
        EmailBounced(
            contact_id=contact.contact_id,
            account_id=contact.account_id,
            collector_id=contact.collector_id,
            message_id=dsn.message_id,
            recipient=dsn.recipient,
            status=dsn.status,
            diagnostic=(dsn.diagnostic or "")[:MAX_DETAIL] or None,
            permanent=dsn.permanent,
            bounced_at=now,
        )
    ]


def _attempted(
    attempt: Attempt, channel: Channel, outcome: ContactOutcome, notes: str | None
) -> ContactAttempted:
    return ContactAttempted(
        contact_id=attempt.contact_id,
        account_id=attempt.account_id,
        collector_id=attempt.by,
        channel=channel,
        outcome=outcome,
        task_id=attempt.task_id,
        invoice_ids=list(attempt.invoice_ids),
        amount_past_due_minor=attempt.amount_past_due_minor,
        currency=attempt.currency,
        attempted_at=attempt.at,
        business_date=attempt.today,
        notes=notes,
    )
