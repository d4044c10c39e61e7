"""What a case knows after folding its events: the aggregate's state, immutable."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from receivables_platform.contracts.cases import (
    Attachment,
    CaseOrigin,
    CasePriority,
    CaseStatus,
    CaseType,
    CorrectionDirection,
    CustomerChannel,
    EscalationCause,
    EscalationTeam,
    NoteSource,
    RootCause,
)

PAUSED_STATUSES = frozenset(
    {CaseStatus.WAITING_ON_CUSTOMER, CaseStatus.RESOLVED, CaseStatus.CLOSED}
)
"""The SLA clock stops while the customer owes us an answer and once the case is resolved."""


@dataclass(frozen=True)
class SlaClock:
    """Due time that moves later by every paused stretch; `breached` is recorded once."""

    target_days: int
    due_at: datetime
    paused_since: datetime | None = None
    breached: bool = False

    def pause(self, at: datetime) -> SlaClock:
        return self if self.paused_since is not None else replace(self, paused_since=at)

    def resume(self, at: datetime) -> SlaClock:
        if self.paused_since is None:
            return self
        return replace(self, due_at=self.due_at + (at - self.paused_since), paused_since=None)

    def overdue(self, at: datetime) -> bool:
        return self.paused_since is None and at > self.due_at


@dataclass(frozen=True)
class Note:
    note_id: UUID
    body: str
    source: NoteSource
    author: str
    added_at: datetime
    email_message_id: str | None = None
    attachments: tuple[Attachment, ...] = ()


class CorrectionOutcome(StrEnum):
    REQUESTED = "requested"
    APPLIED = "applied"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Correction:
    correction_id: UUID
    invoice_id: UUID
    amount_minor: int
    direction: CorrectionDirection
    currency: str
    reason: str
    reason_code: str
    requested_by: str
    requested_at: datetime
    outcome: CorrectionOutcome = CorrectionOutcome.REQUESTED
    adjustment_id: UUID | None = None
    rejection_code: str | None = None
    rejection_detail: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True)
class Escalation:
    escalation_id: UUID
    team: EscalationTeam
    question: str
    due_date: date
    escalated_by: str
    escalated_at: datetime
    answer: str | None = None
    cause: EscalationCause | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = None


@dataclass(frozen=True)
class CustomerUpdate:
    update_id: UUID
    channel: CustomerChannel
    summary: str
    sent_by: str
    sent_at: datetime
    recipient: str | None = None
    email_message_id: str | None = None


@dataclass(frozen=True)
class Confirmation:
    confirmed_by_name: str
    channel: CustomerChannel
    confirmed_at: datetime
    recorded_by: str
    note: str | None = None
    satisfaction: int | None = None
    satisfaction_comment: str | None = None


@dataclass(frozen=True)
class Case:
    case_id: UUID | None = None
    case_number: str = ""
    account_id: UUID | None = None
    type: CaseType = CaseType.OTHER
    origin: CaseOrigin = CaseOrigin.INTERNAL_REFERRAL
    priority: CasePriority = CasePriority.NORMAL
    subject: str = ""
    description: str = ""
    invoice_ids: tuple[UUID, ...] = ()
    owner_id: str | None = None
    status: CaseStatus | None = None
    opened_by: str = ""
    opened_at: datetime | None = None
    notes: tuple[Note, ...] = ()
    root_cause: RootCause | None = None
    corrections: dict[UUID, Correction] = field(default_factory=dict)
    escalations: dict[UUID, Escalation] = field(default_factory=dict)
    updates: tuple[CustomerUpdate, ...] = ()
    confirmation: Confirmation | None = None
    resolution_summary: str | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    sla: SlaClock | None = None
    next_action_on: date | None = None
    next_action: str | None = None
    version: int = 0

    @property
    def opened(self) -> bool:
        return self.case_id is not None

    @property
    def message_ids(self) -> tuple[str, ...]:
        """Every email on the case, in and out: what a reply's In-Reply-To can name."""
        return tuple(
            m
            for m in (
                *(n.email_message_id for n in self.notes),
                *(u.email_message_id for u in self.updates),
            )
            if m
        )

    def attachment(self, sha256: str) -> tuple[Note, Attachment] | None:
        """The first note that brought a file with this hash: the case's right to hand it out."""
        for note in self.notes:
            for attached in note.attachments:
                if attached.sha256 == sha256:
                    return note, attached
        return None
