"""Events case-service publishes on `cases.events.v1`, keyed (and subjected) by account id.

A case is one billing question or dispute followed from first contact to the
customer's confirmation. Every event names its `case_id` and its `account_id`
so a consumer routes it without the envelope; `account_id` is null only for a
case opened from an email whose sender matched no account (such a case's
events are keyed by the case id).

Invoices (and the account, for a case opened without one) can be linked
later with `case.linked`; a hold on disputed invoices follows `case.opened`,
`case.linked` and `case.reopened`, and is lifted by `case.closed`.

The status flow is new, investigating, waiting_on_customer,
waiting_on_internal, resolved, closed. `case.status_changed` carries the moves
between the working statuses; reaching `resolved`, `closed` and back to
`investigating` after a close has its own event (`case.resolved`,
`case.closed`, `case.reopened`) because those carry what a consumer needs:
the resolution summary, the root cause and the documentation checklist on the
close (collections lifts its holds on `invoice_ids` from it), the invoices to
hold again on a reopen.

A correction is asked of billing with `case.correction_requested`; billing
answers with `billing.invoice.adjusted` (its `case_id` set, `adjustment_id`
equal to the request's `correction_id`) or `billing.correction.rejected`
(same `correction_id`), and the case records the outcome as
`case.correction_applied` or `case.correction_rejected`.

Money is integer minor units with the currency beside it; an amount whose
direction is named by a field (`direction`) is positive.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import Field

from receivables_platform.contracts.base import EventContract, Part, contract_for
from receivables_platform.contracts.billing import PositiveMinor, ReasonCode
from receivables_platform.contracts.topics import context_of
from receivables_platform.money import CurrencyCode

TOPIC = context_of("cases.").topic

CaseNumber = Annotated[str, Field(pattern=r"^CASE-\d{6,}$", max_length=20)]
UserId = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=10_000)]
Summary = Annotated[str, Field(min_length=1, max_length=2000)]


# -- vocabularies ---------------------------------------------------------------------------------


class CaseOrigin(StrEnum):
    COLLECTIONS = "collections"
    INBOUND_PHONE = "inbound_phone"
    INBOUND_EMAIL = "inbound_email"
    INTERNAL_REFERRAL = "internal_referral"


class CaseType(StrEnum):
    BILLING_INQUIRY = "billing_inquiry"
    DISPUTE = "dispute"
    ACCOUNT_SETUP = "account_setup"
    PAYMENT_MISAPPLIED = "payment_misapplied"
    REFUND_REQUEST = "refund_request"
    OTHER = "other"


BILLING_CASE_TYPES = frozenset(
    {
        CaseType.BILLING_INQUIRY,
        CaseType.DISPUTE,
        CaseType.PAYMENT_MISAPPLIED,
        CaseType.REFUND_REQUEST,
    }
)
"""Types about money billed: they cannot close without the customer's confirmation."""


class CasePriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class CaseStatus(StrEnum):
    NEW = "new"
    INVESTIGATING = "investigating"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    WAITING_ON_INTERNAL = "waiting_on_internal"
    RESOLVED = "resolved"
    CLOSED = "closed"


class EscalationTeam(StrEnum):
    SERVICE = "service"
    INSTALLATION = "installation"
    OPERATIONS = "operations"
    BILLING_OPERATIONS = "billing_operations"


class EscalationCause(StrEnum):
    """Why a case needed an internal team: the causes the team works to reduce."""

    DELAY = "delay"
    DOCUMENTATION_GAP = "documentation_gap"
    OTHER = "other"


Satisfaction = Annotated[int, Field(ge=1, le=5)]
"""The customer's satisfaction with the outcome, 1 (very unhappy) to 5 (very happy)."""


class CustomerChannel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    LETTER = "letter"
    SMS = "sms"
    PORTAL = "portal"
    IN_PERSON = "in_person"


class CorrectionDirection(StrEnum):
    """A credit lowers what the customer owes, a debit raises it (billing's adjustment kind)."""

    CREDIT = "credit"
    DEBIT = "debit"


class NoteSource(StrEnum):
    AGENT = "agent"
    INBOUND_EMAIL = "inbound_email"


class ChecklistItem(StrEnum):
    PROBLEM_STATEMENT = "problem_statement"
    INVESTIGATION_NOTE = "investigation_note"
    ROOT_CAUSE = "root_cause"
    RESOLUTION_SUMMARY = "resolution_summary"
    CUSTOMER_UPDATE = "customer_update"
    CUSTOMER_CONFIRMATION = "customer_confirmation"
    LINKED_INVOICE = "linked_invoice"


# -- values inside events -------------------------------------------------------------------------


class Attachment(Part):
    """A file that came with an inbound email, recorded by name, type, size and SHA-256."""

    filename: str = Field(min_length=1, max_length=500)
    content_type: str = Field(min_length=1, max_length=200)
    size_bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class RootCause(Part):
    """The taxonomy category as it was named when identified, plus the agent's own words."""

    category_id: UUID
    category_code: str = Field(min_length=1, max_length=64)
    category_name: str = Field(min_length=1, max_length=200)
    detail: str | None = Field(default=None, max_length=10_000)


class ChecklistEntry(Part):
    """`required` is false for an item that does not apply (no invoice for an account setup)."""

    item: ChecklistItem
    required: bool
    satisfied: bool


class Completeness(Part):
    """The documentation checklist: `required` items must be satisfied for `complete`."""

    entries: list[ChecklistEntry]
    complete: bool
    satisfied_count: int = Field(ge=0)
    required_count: int = Field(ge=0)


# -- the case lifecycle ---------------------------------------------------------------------------


@contract_for("cases.case.opened", 1, aggregate="case")
class CaseOpened(EventContract):
    """A new case; `description` is the problem statement, `invoice_ids` the disputed invoices."""

    case_id: UUID
    case_number: CaseNumber
    account_id: UUID | None
    type: CaseType
    origin: CaseOrigin
    priority: CasePriority
    subject: str = Field(min_length=1, max_length=300)
    description: str = Field(max_length=10_000)
    invoice_ids: list[UUID]
    owner_id: UserId | None = None
    opened_by: UserId
    opened_at: datetime
    sla_target_days: int = Field(gt=0, le=365)
    sla_due_at: datetime


@contract_for("cases.case.assigned", 1, aggregate="case")
class CaseAssigned(EventContract):
    case_id: UUID
    account_id: UUID | None
    owner_id: UserId
    previous_owner_id: UserId | None = None
    assigned_by: UserId
    assigned_at: datetime


@contract_for("cases.case.linked", 1, aggregate="case")
class CaseLinked(EventContract):
    """The case's account was set (it had none: an email from an unknown sender) or invoices
    were added; `invoice_ids` is the whole list now, `added_invoice_ids` what is new."""

    case_id: UUID
    account_id: UUID
    type: CaseType
    invoice_ids: list[UUID]
    added_invoice_ids: list[UUID]
    linked_by: UserId
    linked_at: datetime


@contract_for("cases.case.reclassified", 1, aggregate="case")
class CaseReclassified(EventContract):
    """The case is of another type than it was opened as: an emailed question that turns out to
    be a dispute, or a dispute that was only a question. `invoice_ids` is the case's list now,
    so a consumer can hold (or release) them without having seen the earlier events."""

    case_id: UUID
    account_id: UUID | None
    type: CaseType
    previous_type: CaseType
    invoice_ids: list[UUID]
    reason: str = Field(min_length=1, max_length=2000)
    reclassified_by: UserId
    reclassified_at: datetime


@contract_for("cases.case.note_added", 1, aggregate="case")
class CaseNoteAdded(EventContract):
    """One entry of the investigation timeline; an inbound email arrives as one too."""

    case_id: UUID
    account_id: UUID | None
    note_id: UUID
    body: str = Field(max_length=100_000)
    source: NoteSource = NoteSource.AGENT
    author: UserId
    added_at: datetime
    email_message_id: str | None = Field(default=None, max_length=1000)
    email_from: str | None = Field(default=None, max_length=320)
    email_subject: str | None = Field(default=None, max_length=1000)
    attachments: list[Attachment] = Field(default_factory=list)


@contract_for("cases.case.status_changed", 1, aggregate="case")
class CaseStatusChanged(EventContract):
    """A move between new, investigating and the two waiting statuses."""

    case_id: UUID
    account_id: UUID | None
    from_status: CaseStatus
    to_status: CaseStatus
    reason: str | None = Field(default=None, max_length=2000)
    changed_by: UserId
    changed_at: datetime


@contract_for("cases.case.root_cause_identified", 1, aggregate="case")
class CaseRootCauseIdentified(EventContract):
    """Identifying again replaces the earlier root cause."""

    case_id: UUID
    account_id: UUID | None
    root_cause: RootCause
    identified_by: UserId
    identified_at: datetime


@contract_for("cases.case.correction_requested", 1, aggregate="case")
class CaseCorrectionRequested(EventContract):
    """Asks billing to adjust one invoice; billing answers by `correction_id`."""

    case_id: UUID
    case_number: CaseNumber
    account_id: UUID
    correction_id: UUID
    invoice_id: UUID
    amount_minor: PositiveMinor
    direction: CorrectionDirection
    currency: CurrencyCode
    reason: Text
    reason_code: ReasonCode
    requested_by: UserId
    requested_at: datetime


@contract_for("cases.case.correction_applied", 1, aggregate="case")
class CaseCorrectionApplied(EventContract):
    """Billing applied the correction (its `billing.invoice.adjusted`)."""

    case_id: UUID
    account_id: UUID
    correction_id: UUID
    invoice_id: UUID
    adjustment_id: UUID
    amount_minor: PositiveMinor
    direction: CorrectionDirection
    currency: CurrencyCode
    effective_date: date
    recorded_at: datetime


@contract_for("cases.case.correction_rejected", 1, aggregate="case")
class CaseCorrectionRejected(EventContract):
    """Billing refused the correction (its `billing.correction.rejected`), and why."""

    case_id: UUID
    account_id: UUID
    correction_id: UUID
    invoice_id: UUID | None = None
    reason_code: ReasonCode
    detail: str = Field(min_length=1, max_length=1000)
    recorded_at: datetime


@contract_for("cases.case.escalated", 1, aggregate="case")
class CaseEscalated(EventContract):
    """A question to an internal team, due on `due_date`."""

    case_id: UUID
    account_id: UUID | None
    escalation_id: UUID
    team: EscalationTeam
    question: Text
    due_date: date
    escalated_by: UserId
    escalated_at: datetime
    cause: EscalationCause | None = None  # events before causes were asked for have none


@contract_for("cases.case.escalation_answered", 1, aggregate="case")
class CaseEscalationAnswered(EventContract):
    case_id: UUID
    account_id: UUID | None
    escalation_id: UUID
    team: EscalationTeam
    answer: Text
    answered_by: UserId
    answered_at: datetime
    overdue: bool


@contract_for("cases.case.escalation_claimed", 1, aggregate="case")
class CaseEscalationClaimed(EventContract):
    """A member of the escalation's team took it from the team's inbox: the others see it is
    being worked, and only the claimer answers it from then on."""

    case_id: UUID
    account_id: UUID | None
    escalation_id: UUID
    team: EscalationTeam
    claimed_by: UserId
    claimed_at: datetime


@contract_for("cases.case.next_action_set", 1, aggregate="case")
class CaseNextActionSet(EventContract):
    """The owner's next step on the case and the business day it is due (None: cleared); a
    reminder goes to the owner when the day comes."""

    case_id: UUID
    account_id: UUID | None
    next_action_on: date | None
    next_action: str | None = Field(default=None, max_length=500)
    set_by: UserId
    set_at: datetime


@contract_for("cases.case.customer_updated", 1, aggregate="case")
class CaseCustomerUpdated(EventContract):
    """What the customer was told, and how; `email_message_id` when sent by email."""

    case_id: UUID
    account_id: UUID | None
    update_id: UUID
    channel: CustomerChannel
    summary: Summary
    recipient: str | None = Field(default=None, max_length=320)
    email_message_id: str | None = Field(default=None, max_length=1000)
    sent_by: UserId
    sent_at: datetime


@contract_for("cases.case.customer_confirmed", 1, aggregate="case")
class CaseCustomerConfirmed(EventContract):
    """The customer confirmed the outcome: who, how and when."""

    case_id: UUID
    account_id: UUID | None
    confirmed_by_name: str = Field(min_length=1, max_length=200)
    channel: CustomerChannel
    confirmed_at: datetime
    note: str | None = Field(default=None, max_length=2000)
    recorded_by: UserId
    recorded_at: datetime
    # asked when confirming since satisfaction became a KPI; earlier events have none
    satisfaction: Satisfaction | None = None
    satisfaction_comment: str | None = Field(default=None, max_length=2000)


@contract_for("cases.case.resolved", 1, aggregate="case")
class CaseResolved(EventContract):
    case_id: UUID
    account_id: UUID | None
    from_status: CaseStatus
    resolution_summary: Summary
    resolved_by: UserId
    resolved_at: datetime


@contract_for("cases.case.closed", 1, aggregate="case")
class CaseClosed(EventContract):
    """The case is done: what a hold, a report or a root-cause review needs, in one event."""

    case_id: UUID
    case_number: CaseNumber
    account_id: UUID | None
    type: CaseType
    priority: CasePriority
    invoice_ids: list[UUID]
    root_cause: RootCause | None
    resolution_summary: Summary
    completeness: Completeness
    opened_at: datetime
    closed_by: UserId
    closed_at: datetime
    sla_breached: bool


@contract_for("cases.case.reopened", 1, aggregate="case")
class CaseReopened(EventContract):
    """Back to investigating; the invoices are disputed again."""

    case_id: UUID
    account_id: UUID | None
    type: CaseType
    invoice_ids: list[UUID]
    reason: str = Field(min_length=1, max_length=2000)
    reopened_by: UserId
    reopened_at: datetime


@contract_for("cases.case.sla_breached", 1, aggregate="case")
class CaseSlaBreached(EventContract):
    """The case passed its SLA due time (time waiting on the customer not counted)."""

    case_id: UUID
    account_id: UUID | None
    type: CaseType
    priority: CasePriority
    sla_target_days: int = Field(gt=0, le=365)
    sla_due_at: datetime
    breached_at: datetime
