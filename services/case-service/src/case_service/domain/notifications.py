"""Which notifications a case's events and the calendar call for, and how each person gets one.

Pure: the service layer hands in events, rows and preferences, and stores what
comes out under each notice's unique key. `Notice.key` names the occasion and
the person (`escalation_assigned:<escalation id>:<user>`), so deciding the same
occasion twice (a redelivered event, the next sweep) decides nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from case_service.domain.state import Case
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import ApprovalAction, ApprovalRequested
from receivables_platform.contracts.cases import CaseEscalated, CaseNoteAdded, NoteSource


class NotificationKind(StrEnum):
    ESCALATION_ASSIGNED = "escalation_assigned"
    ESCALATION_DUE_TOMORROW = "escalation_due_tomorrow"
    ESCALATION_OVERDUE = "escalation_overdue"
    SLA_AT_RISK = "sla_at_risk"
    PROMISE_BROKEN = "promise_broken"
    CUSTOMER_REPLY = "customer_reply"
    CREDIT_APPROVAL = "credit_approval"
    NEXT_ACTION_DUE = "next_action_due"


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    DIGEST = "digest"
    """Collected into one email a day (`NOTIFICATION_DIGEST_AT`, team time)."""
    OFF = "off"


@dataclass(frozen=True)
class Audience:
    """Exactly one of: a person, every member of an internal team, every holder of a role."""

    user: str | None = None
    team: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class Notice:
    kind: NotificationKind
    occasion: str
    """What makes it unique for one person: the escalation, the note, the case and its date."""
    audience: Audience
    subject: str
    text: str
    case_id: UUID | None = None

    def key(self, user_id: str) -> str:
        return f"{self.kind}:{self.occasion}:{user_id}"


@dataclass(frozen=True)
class Recipient:
    user_id: str
    email: str | None
    webhook_url: str | None
    channels: Mapping[str, str]


@dataclass(frozen=True)
class Delivery:
    key: str
    recipient: str
    channel: Channel
    address: str


def channel_for(recipient: Recipient, kind: NotificationKind) -> Channel:
    """The person's choice for the kind; unset, email when they have an address, else the
    webhook, else nothing."""
    chosen = recipient.channels.get(kind.value)
    if chosen is not None:
        return Channel(chosen)
    if recipient.email:
        return Channel.EMAIL
    return Channel.WEBHOOK if recipient.webhook_url else Channel.OFF


def route(notice: Notice, recipient: Recipient) -> Delivery | None:
    """Where this person gets the notice; None when they turned the kind off or lack the
    address the channel needs."""
    channel = channel_for(recipient, notice.kind)
    address = recipient.webhook_url if channel is Channel.WEBHOOK else recipient.email
    if channel is Channel.OFF or not address:
        return None
    return Delivery(notice.key(recipient.user_id), recipient.user_id, channel, address)


def _label(case: Case) -> str:
    return f"[{case.case_number}] {case.subject}"


def from_case_events(case: Case, events: Sequence[EventContract]) -> list[Notice]:
    """Notices the events just appended to `case` call for."""
    notices: list[Notice] = []
    for event in events:
        if isinstance(event, CaseEscalated):
            notices.append(
                Notice(
                    NotificationKind.ESCALATION_ASSIGNED,
                    str(event.escalation_id),
                    Audience(team=event.team.value),
                    f"{_label(case)}: a question for {event.team.value}, due {event.due_date}",
                    f"{event.escalated_by} asks the {event.team.value} team, by "
                    f"{event.due_date}:\n\n{event.question}",
                    case.case_id,
                )
            )
        elif (
            isinstance(event, CaseNoteAdded)
            and event.source is NoteSource.INBOUND_EMAIL
            and case.owner_id is not None
        ):
            notices.append(
                Notice(
                    NotificationKind.CUSTOMER_REPLY,
                    str(event.note_id),
                    Audience(user=case.owner_id),
                    f"{_label(case)}: the customer wrote",
                    f"From {event.email_from or 'the customer'}: {event.email_subject or ''}\n\n"
                    f"{event.body[:2000]}",
                    case.case_id,
                )
            )
    return notices


def credit_approval(
    asked: ApprovalRequested, *, case: Case | None = None, invoice: str | None = None
) -> Notice:
    """billing-adapter holds a credit or write-off over its threshold until a second person
    approves it: every supervisor hears of it, once per approval, whether a case asked for
    it (named by the case) or someone asked billing directly (named by the invoice)."""
    what = "write off" if asked.action is ApprovalAction.WRITE_OFF else "credit"
    label = _label(case) if case is not None else f"Invoice {invoice or asked.invoice_id}"
    return Notice(
        NotificationKind.CREDIT_APPROVAL,
        str(asked.approval_id),
        Audience(role="supervisor"),
        f"{label}: a {what.replace(' ', '-')} waits for your approval",
        f"{asked.requested_by} asks to {what} {asked.amount_minor} {asked.currency} "
        f"(minor units), reason {asked.reason_code}.",
        case.case_id if case is not None else None,
    )


def escalation_due(row: Mapping[str, Any], today: date) -> Notice:
    """An unanswered escalation due tomorrow or already overdue: to whoever claimed it, else
    to its whole team."""
    overdue = row["due_date"] < today
    kind = (
        NotificationKind.ESCALATION_OVERDUE if overdue else NotificationKind.ESCALATION_DUE_TOMORROW
    )
    audience = Audience(user=row["claimed_by"]) if row["claimed_by"] else Audience(team=row["team"])
    when = "was due" if overdue else "is due"
    return Notice(
        kind,
        f"{row['escalation_id']}:{row['due_date']}",
        audience,
        f"[{row['case_number']}] an answer {when} {row['due_date']}",
        f"The {row['team']} team's answer {when} {row['due_date']}:\n\n{row['question']}",
        row["case_id"],
    )


def sla_at_risk(row: Mapping[str, Any]) -> Notice:
    due: datetime = row["sla_due_at"]
    return Notice(
        NotificationKind.SLA_AT_RISK,
        f"{row['case_id']}:{due.isoformat()}",
        Audience(user=row["owner_id"]),
        f"[{row['case_number']}] {row['subject']}: SLA ends {due:%Y-%m-%d %H:%M} UTC",
        f"The case's SLA runs out at {due.isoformat()}.",
        row["case_id"],
    )


def next_action_due(row: Mapping[str, Any]) -> Notice:
    return Notice(
        NotificationKind.NEXT_ACTION_DUE,
        f"{row['case_id']}:{row['next_action_on']}",
        Audience(user=row["owner_id"]),
        f"[{row['case_number']}] {row['subject']}: next action due {row['next_action_on']}",
        row["next_action"] or "Your next action is due.",
        row["case_id"],
    )


def promise_broken(
    commitment_id: UUID, account_id: UUID, collector_id: str, promised: str, broken_on: date
) -> Notice:
    return Notice(
        NotificationKind.PROMISE_BROKEN,
        str(commitment_id),
        Audience(user=collector_id),
        f"A promise to pay {promised} was broken",
        f"Account {account_id}: the promise to pay {promised} was judged broken on "
        f"{broken_on}; a follow-up is due.",
    )
