"""Request and response bodies of the case API (pydantic: FastAPI validates and documents them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from case_service.domain.checklist import completeness
from case_service.domain.state import Case, CorrectionOutcome
from receivables_platform.business_dates import BusinessDate, BusinessInstant
from receivables_platform.contracts.cases import (
    Attachment,
    CaseOrigin,
    CasePriority,
    CaseStatus,
    CaseType,
    Completeness,
    CorrectionDirection,
    CustomerChannel,
    EscalationCause,
    EscalationTeam,
    NoteSource,
    RootCause,
    Satisfaction,
)
from receivables_platform.money import CurrencyCode
from receivables_platform.web.bodies import EmailAddress, RequestBody
from receivables_platform.web.pages import Page

Text = Annotated[str, Field(min_length=1, max_length=10_000)]
Summary = Annotated[str, Field(min_length=1, max_length=2000)]
UserId = Annotated[str, Field(min_length=1, max_length=200)]


class Body(RequestBody):
    """Unknown fields and NUL characters refused (the platform's request body)."""


class OpenCaseRequest(Body):
    account_id: UUID | None = None
    type: CaseType
    origin: CaseOrigin
    priority: CasePriority = CasePriority.NORMAL
    subject: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=10_000)
    invoice_ids: list[UUID] = Field(default_factory=list, max_length=100)
    owner_id: UserId | None = None


class AssignRequest(Body):
    owner_id: UserId


class LinkRequest(Body):
    account_id: UUID
    invoice_ids: list[UUID] = Field(default_factory=list, max_length=100)


class ReclassifyRequest(Body):
    type: CaseType
    reason: str = Field(
        min_length=1,
        max_length=2000,
        description="Why the case is of another type, kept on its record",
    )


class NoteRequest(Body):
    body: Text


class StatusRequest(Body):
    status: CaseStatus
    reason: str | None = Field(default=None, max_length=2000)


class RootCauseRequest(Body):
    category_id: UUID
    detail: str | None = Field(default=None, max_length=10_000)


class CorrectionRequest(Body):
    invoice_id: UUID
    amount_minor: int = Field(gt=0, le=10**13)
    direction: CorrectionDirection
    currency: CurrencyCode | None = None
    reason: Text
    reason_code: str = Field(min_length=1, max_length=64)


class EscalationRequest(Body):
    team: EscalationTeam
    question: Text
    due_date: BusinessDate
    cause: EscalationCause | None = Field(
        default=None,
        description="Why the case needs the team: delay, documentation_gap or "
        "other; what the escalations-by-cause KPI counts",
    )


class AnswerRequest(Body):
    answer: Text


class CustomerUpdateRequest(Body):
    channel: CustomerChannel
    summary: Summary
    recipient: EmailAddress | None = Field(
        default=None, description="Email address; required when channel is email"
    )
    message: str | None = Field(
        default=None, max_length=100_000, description="The email's body; the summary when absent"
    )


class ConfirmationRequest(Body):
    confirmed_by_name: str = Field(min_length=1, max_length=200)
    channel: CustomerChannel
    confirmed_at: BusinessInstant
    note: str | None = Field(default=None, max_length=2000)
    satisfaction: Satisfaction | None = Field(
        default=None, description="The customer's satisfaction with the outcome, 1 to 5"
    )
    satisfaction_comment: str | None = Field(default=None, max_length=2000)


class ResolveRequest(Body):
    resolution_summary: Summary


class ReopenRequest(Body):
    reason: str = Field(min_length=1, max_length=2000)


class NextActionRequest(Body):
    next_action_on: BusinessDate | None = Field(
        description="The business day the owner is reminded on; null clears the next action"
    )
    next_action: str | None = Field(default=None, min_length=1, max_length=500)


class AgentRequest(Body):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    active: bool = True


# -- responses ------------------------------------------------------------------------------------


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class NoteOut(Out):
    note_id: UUID
    body: str
    source: NoteSource
    author: str
    added_at: datetime
    email_message_id: str | None
    attachments: list[Attachment]


class CorrectionOut(Out):
    correction_id: UUID
    invoice_id: UUID
    amount_minor: int
    direction: CorrectionDirection
    currency: str
    reason: str
    reason_code: str
    requested_by: str
    requested_at: datetime
    outcome: CorrectionOutcome
    adjustment_id: UUID | None
    rejection_code: str | None
    rejection_detail: str | None
    decided_at: datetime | None


class EscalationOut(Out):
    escalation_id: UUID
    team: EscalationTeam
    question: str
    due_date: date
    escalated_by: str
    escalated_at: datetime
    cause: EscalationCause | None
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None
    claimed_by: str | None
    claimed_at: datetime | None


class CustomerUpdateOut(Out):
    update_id: UUID
    channel: CustomerChannel
    summary: str
    sent_by: str
    sent_at: datetime
    recipient: str | None


class ConfirmationOut(Out):
    confirmed_by_name: str
    channel: CustomerChannel
    confirmed_at: datetime
    recorded_by: str
    note: str | None
    satisfaction: int | None
    satisfaction_comment: str | None


class SlaOut(BaseModel):
    target_days: int
    due_at: datetime
    paused: bool
    breached: bool


class CaseResponse(BaseModel):
    case_id: UUID
    case_number: str
    account_id: UUID | None
    type: CaseType
    origin: CaseOrigin
    priority: CasePriority
    subject: str
    description: str
    invoice_ids: list[UUID]
    owner_id: str | None
    status: CaseStatus
    opened_by: str
    opened_at: datetime
    notes: list[NoteOut]
    root_cause: RootCause | None
    corrections: list[CorrectionOut]
    escalations: list[EscalationOut]
    customer_updates: list[CustomerUpdateOut]
    confirmation: ConfirmationOut | None
    resolution_summary: str | None
    resolved_at: datetime | None
    closed_at: datetime | None
    sla: SlaOut
    completeness: Completeness
    next_action_on: date | None
    next_action: str | None
    version: int

    @classmethod
    def of(cls, case: Case, version: int) -> CaseResponse:
        assert case.case_id and case.status and case.opened_at and case.sla
        return cls(
            case_id=case.case_id,
            case_number=case.case_number,
            account_id=case.account_id,
            type=case.type,
            origin=case.origin,
            priority=case.priority,
            subject=case.subject,
            description=case.description,
            invoice_ids=list(case.invoice_ids),
            owner_id=case.owner_id,
            status=case.status,
            opened_by=case.opened_by,
            opened_at=case.opened_at,
            notes=[NoteOut.model_validate(n) for n in case.notes],
            root_cause=case.root_cause,
            corrections=[CorrectionOut.model_validate(x) for x in case.corrections.values()],
            escalations=[EscalationOut.model_validate(x) for x in case.escalations.values()],
            customer_updates=[CustomerUpdateOut.model_validate(x) for x in case.updates],
            confirmation=None
            if case.confirmation is None
            else ConfirmationOut.model_validate(case.confirmation),
            resolution_summary=case.resolution_summary,
            resolved_at=case.resolved_at,
            closed_at=case.closed_at,
            sla=SlaOut(
                target_days=case.sla.target_days,
                due_at=case.sla.due_at,
                paused=case.sla.paused_since is not None,
                breached=case.sla.breached,
            ),
            completeness=completeness(case),
            next_action_on=case.next_action_on,
            next_action=case.next_action,
            version=version,
        )


class CaseSummary(BaseModel):
    case_id: UUID
    case_number: str
    account_id: UUID | None
    type: CaseType
    priority: CasePriority
    status: CaseStatus
    owner_id: str | None
    subject: str
    root_cause_code: str | None
    opened_at: datetime
    closed_at: datetime | None
    sla_due_at: datetime
    sla_state: str
    complete: bool
    next_action_on: date | None


class CasePage(Page[CaseSummary]):
    """One page of cases, newest first."""


class OverdueEscalation(BaseModel):
    escalation_id: UUID
    case_id: UUID
    case_number: str
    team: EscalationTeam
    question: str
    due_date: date
    escalated_by: str
    escalated_at: datetime
    days_overdue: int


class InboxEscalation(BaseModel):
    """One escalation in a team's inbox; `case_version` is the ETag to send as If-Match."""

    escalation_id: UUID
    case_id: UUID
    case_number: str
    case_version: int
    account_id: UUID | None
    team: EscalationTeam
    question: str
    due_date: date
    escalated_by: str
    escalated_at: datetime
    state: Literal["open", "claimed", "answered"]
    claimed_by: str | None
    claimed_at: datetime | None
    answered_by: str | None
    answered_at: datetime | None
    overdue: bool


class InboxPage(Page[InboxEscalation]):
    """One page of a team inbox, the soonest due first."""


class AttachmentOut(Attachment):
    """A file on the case, with the note that brought it and where to download it."""

    note_id: UUID
    source: NoteSource
    added_by: str
    added_at: datetime
    download: str
