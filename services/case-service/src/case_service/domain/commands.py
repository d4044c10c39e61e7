"""What agents, supervisors and connectors ask of a case; pure data, decided by `case.decide`.

Every command carries who asks (`actor`) and when (`at`): the domain has no
clock, so a test states the time and the SLA and reopen window are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
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


@dataclass(frozen=True)
class OpenCase:
    case_id: UUID
    case_number: str
    account_id: UUID | None
    type: CaseType
    origin: CaseOrigin
    priority: CasePriority
    subject: str
    description: str
    invoice_ids: tuple[UUID, ...]
    sla_target_days: int
    actor: str
    at: datetime
    owner_id: str | None = None


@dataclass(frozen=True)
class AssignCase:
    case_id: UUID
    owner_id: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class LinkCase:
    """Set the account of a case that has none, and/or link more of the account's invoices."""

    case_id: UUID
    account_id: UUID
    invoice_ids: tuple[UUID, ...]
    actor: str
    at: datetime


@dataclass(frozen=True)
class ReclassifyCase:
    """Change the case's type, with why: the SLA clock it started with keeps running."""

    case_id: UUID
    type: CaseType
    reason: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class AddNote:
    case_id: UUID
    note_id: UUID
    body: str
    actor: str
    at: datetime
    source: NoteSource = NoteSource.AGENT
    email_message_id: str | None = None
    email_from: str | None = None
    email_subject: str | None = None
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ChangeStatus:
    case_id: UUID
    to_status: CaseStatus
    actor: str
    at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class IdentifyRootCause:
    case_id: UUID
    root_cause: RootCause
    actor: str
    at: datetime


@dataclass(frozen=True)
class RequestCorrection:
    case_id: UUID
    correction_id: UUID
    invoice_id: UUID
    amount_minor: int
    direction: CorrectionDirection
    currency: str
    reason: str
    reason_code: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class RecordCorrectionApplied:
    case_id: UUID
    correction_id: UUID
    adjustment_id: UUID
    amount_minor: int
    direction: CorrectionDirection
    currency: str
    effective_date: date
    at: datetime


@dataclass(frozen=True)
class RecordCorrectionRejected:
    case_id: UUID
    correction_id: UUID
    reason_code: str
    detail: str
    at: datetime


@dataclass(frozen=True)
class Escalate:
    case_id: UUID
    escalation_id: UUID
    team: EscalationTeam
    question: str
    due_date: date
    actor: str
    at: datetime
    cause: EscalationCause | None = None


@dataclass(frozen=True)
class AnswerEscalation:
    case_id: UUID
    escalation_id: UUID
    answer: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class ClaimEscalation:
    """A member of the escalation's team takes it; `teams` are the actor's teams (token roles)."""

    case_id: UUID
    escalation_id: UUID
    teams: frozenset[str]
    actor: str
    at: datetime


@dataclass(frozen=True)
class SetNextAction:
    """The owner's next step and its day; `next_action_on` None clears it."""

    case_id: UUID
    next_action_on: date | None
    next_action: str | None
    today: date
    actor: str
    at: datetime


@dataclass(frozen=True)
class RecordCustomerUpdate:
    case_id: UUID
    update_id: UUID
    channel: CustomerChannel
    summary: str
    actor: str
    at: datetime
    recipient: str | None = None
    email_message_id: str | None = None


@dataclass(frozen=True)
class RecordConfirmation:
    case_id: UUID
    confirmed_by_name: str
    channel: CustomerChannel
    confirmed_at: datetime
    actor: str
    at: datetime
    note: str | None = None
    satisfaction: int | None = None
    satisfaction_comment: str | None = None


@dataclass(frozen=True)
class ResolveCase:
    case_id: UUID
    resolution_summary: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class CloseCase:
    case_id: UUID
    actor: str
    at: datetime


@dataclass(frozen=True)
class ReopenCase:
    case_id: UUID
    reason: str
    reopen_window_days: int
    actor: str
    at: datetime


@dataclass(frozen=True)
class CheckSla:
    """Emit the breach once the SLA clock has run out (run by the SLA sweep)."""

    case_id: UUID
    at: datetime


Command = (
    OpenCase
    | AssignCase
    | LinkCase
    | ReclassifyCase
    | AddNote
    | ChangeStatus
    | IdentifyRootCause
    | RequestCorrection
    | RecordCorrectionApplied
    | RecordCorrectionRejected
    | Escalate
    | AnswerEscalation
    | ClaimEscalation
    | SetNextAction
    | RecordCustomerUpdate
    | RecordConfirmation
    | ResolveCase
    | CloseCase
    | ReopenCase
    | CheckSla
)
