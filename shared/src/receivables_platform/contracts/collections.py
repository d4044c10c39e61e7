"""Events collections-service publishes on `collections.events.v1`, keyed by account id.

Every event names its `account_id`, so a consumer can route it without the
envelope, and the collector it is credited to (`collector_id`, the `sub` of
that person's token; absent only while an account has nobody assigned).
Money is integer minor units in the account's currency; business dates are
dates, instants are UTC datetimes.

What the reporting projections read from them (docs/architecture.md#metrics):

- cadence completion per collector per day: a task is *due* on the
  `business_date` of `task.scheduled` and on every `carried_over_to` of its
  `task.missed`; it is done on the `completed_on` of `task.completed`;
  `task.cancelled` takes it out of what is due from `cancelled_on`;
- follow-up timeliness: `task.completed.completed_on` against the task's
  due date: its first `business_date`, or the `due_on` of its latest
  `task.rescheduled` (`kind` tells follow-ups from cadence steps);
- collections secured: `contact.attempted` and `commitment.made` start the
  attribution window on their account (`business_date` / `made_on`);
- promise-kept rate by count and amount: `commitment.kept/partially_kept/
  broken` carry the promised and the paid amounts;
- auto-pay conversion: `autopay.offered`, `autopay.offer_answered` and
  `autopay.converted` (enrolment within 30 days of an offer).

Every contact (call, email, letter) is one `contact.attempted`; an email adds
`email.sent` or `email.failed` with the delivery details, under the same
`contact_id`.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, Field

from receivables_platform.contracts.base import EventContract, Part, contract_for
from receivables_platform.contracts.topics import context_of
from receivables_platform.money import CurrencyCode

TOPIC = context_of("collections.").topic

CollectorId = Annotated[str, Field(min_length=1, max_length=200)]
PositiveMinor = Annotated[int, Field(gt=0)]
NonNegativeMinor = Annotated[int, Field(ge=0)]
TemplateName = Annotated[str, Field(min_length=1, max_length=100)]
Notes = Annotated[str, Field(max_length=4000)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
Instant = AwareDatetime


class Channel(StrEnum):
    EMAIL = "email"
    CALL = "call"
    LETTER = "letter"
    OTHER = "other"


# -- tasks ----------------------------------------------------------------------------------------


class TaskKind(StrEnum):
    """Why a task exists: a cadence step fell due, a broken promise needs a follow-up, a
    collector set themselves a follow-up, or an account was escalated to a supervisor."""

    CADENCE = "cadence"
    COMMITMENT_FOLLOW_UP = "commitment_follow_up"
    FOLLOW_UP = "follow_up"
    ESCALATION = "escalation"


class CadenceStepRef(Part):
    """One policy step that fell due for some of the account's invoices on the task's date."""

    policy_id: UUID
    policy_version: int = Field(ge=1)
    step_id: str = Field(min_length=1, max_length=64)
    offset_days: int = Field(ge=-365, le=3650)
    channel: Channel
    template: TemplateName
    escalates: bool
    invoice_ids: list[UUID] = Field(min_length=1)


@contract_for("collections.task.scheduled", 1, aggregate="task")
class TaskScheduled(EventContract):
    """The account's one consolidated task for `business_date`, covering all its overdue invoices.

    `channel`, `template` and `escalates` are those of the most advanced step
    due; `steps` lists every step that fell due for it. `invoice_ids` and the
    amounts are the consolidated statement: every overdue invoice not on hold.
    """

    task_id: UUID
    account_id: UUID
    collector_id: CollectorId | None
    kind: TaskKind
    business_date: date
    channel: Channel
    template: TemplateName | None
    escalates: bool
    steps: list[CadenceStepRef]
    invoice_ids: list[UUID]
    amount_past_due_minor: NonNegativeMinor
    currency: CurrencyCode
    days_past_due: int = Field(ge=0)
    priority_score: int = Field(ge=0)
    commitment_id: UUID | None = None
    due_at: Instant | None = None
    """A follow-up's agreed moment ("call back Thursday 10:00"); its team date is the due date."""
    note: Notes | None = None
    created_by: CollectorId | None = None
    """Who set a follow-up or escalation by hand; None for the cadence's own tasks."""


class TaskOutcome(StrEnum):
    REACHED_PROMISED = "reached_promised"
    REACHED_REFUSED = "reached_refused"
    REACHED_DISPUTED = "reached_disputed"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    EMAIL_SENT = "email_sent"
    EMAIL_FAILED = "email_failed"
    LETTER_SENT = "letter_sent"
    NO_ACTION_NEEDED = "no_action_needed"


@contract_for("collections.task.completed", 1, aggregate="task")
class TaskCompleted(EventContract):
    """`collector_id` is who did it (a supervisor may complete a collector's task)."""

    task_id: UUID
    account_id: UUID
    collector_id: CollectorId
    assigned_collector_id: CollectorId | None
    kind: TaskKind
    business_date: date
    completed_on: date
    completed_at: Instant
    outcome: TaskOutcome
    contact_id: UUID | None = None
    notes: Notes | None = None


@contract_for("collections.task.missed", 1, aggregate="task")
class TaskMissed(EventContract):
    """Not done by the end of `missed_on`: counted missed there, due again on `carried_over_to`."""

    task_id: UUID
    account_id: UUID
    collector_id: CollectorId | None
    kind: TaskKind
    business_date: date
    missed_on: date
    carried_over_to: date
    times_missed: int = Field(ge=1)


class TaskCancellation(StrEnum):
    NOTHING_OVERDUE = "nothing_overdue"
    ON_HOLD = "on_hold"
    COMMITMENT_OPEN = "commitment_open"
    SUPERSEDED = "superseded"


@contract_for("collections.task.cancelled", 1, aggregate="task")
class TaskCancelled(EventContract):
    """No longer needed (paid, held, promised): not due from `cancelled_on`, and not missed."""

    task_id: UUID
    account_id: UUID
    collector_id: CollectorId | None
    kind: TaskKind
    business_date: date
    cancelled_on: date
    reason: TaskCancellation


@contract_for("collections.task.rescheduled", 1, aggregate="task")
class TaskRescheduled(EventContract):
    """Due on `due_on` (at `due_at`) instead of `previous_due_on`; `snoozed` when put off
    rather than agreed anew. Follow-up timeliness measures against the new due date."""

    task_id: UUID
    account_id: UUID
    collector_id: CollectorId | None
    kind: TaskKind
    business_date: date
    previous_due_on: date
    due_on: date
    due_at: Instant | None = None
    snoozed: bool
    rescheduled_by: CollectorId
    rescheduled_on: date
    note: Notes | None = None


@contract_for("collections.task.handed_over", 1, aggregate="task")
class TaskHandedOver(EventContract):
    """The task is `collector_id`'s now, no longer `previous_collector_id`'s."""

    task_id: UUID
    account_id: UUID
    collector_id: CollectorId
    previous_collector_id: CollectorId | None
    kind: TaskKind
    business_date: date
    due_on: date
    handed_over_by: CollectorId
    handed_over_on: date


# -- contacts -------------------------------------------------------------------------------------


class ContactOutcome(StrEnum):
    REACHED_PROMISED = "reached_promised"
    REACHED_REFUSED = "reached_refused"
    REACHED_DISPUTED = "reached_disputed"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    EMAIL_SENT = "email_sent"
    EMAIL_FAILED = "email_failed"
    LETTER_SENT = "letter_sent"


@contract_for("collections.contact.attempted", 1, aggregate="contact")
class ContactAttempted(EventContract):
    """One attempt to reach the customer, on any channel, about the invoices it names."""

    contact_id: UUID
    account_id: UUID
    collector_id: CollectorId
    channel: Channel
    outcome: ContactOutcome
    task_id: UUID | None = None
    invoice_ids: list[UUID]
    amount_past_due_minor: NonNegativeMinor
    currency: CurrencyCode
    attempted_at: Instant
    business_date: date
    notes: Notes | None = None


@contract_for("collections.email.sent", 1, aggregate="contact")
class EmailSent(EventContract):
    """The SMTP server accepted the message (`message_id` is its RFC 5322 Message-ID)."""

    contact_id: UUID
    account_id: UUID
    collector_id: CollectorId
    task_id: UUID | None = None
    template: TemplateName
    language: str = Field(min_length=2, max_length=16)
    recipient: str = Field(min_length=3, max_length=320)
    message_id: str = Field(min_length=1, max_length=500)
    invoice_ids: list[UUID]
    amount_past_due_minor: NonNegativeMinor
    currency: CurrencyCode
    sent_at: Instant
    cc: list[str] = Field(default_factory=list, max_length=50)
    language_requested: str | None = Field(default=None, min_length=2, max_length=16)
    """The account's language when no template was written in it (`language` fell back)."""
    automatic: bool = False
    """Sent by the cadence on its business day, not by a person."""


@contract_for("collections.email.failed", 1, aggregate="contact")
class EmailFailed(EventContract):
    """The SMTP server refused the message or could not be reached; `permanent` for a 5xx."""

    contact_id: UUID
    account_id: UUID
    collector_id: CollectorId
    task_id: UUID | None = None
    template: TemplateName
    language: str = Field(min_length=2, max_length=16)
    recipient: str | None = Field(default=None, max_length=320)
    error: str = Field(min_length=1, max_length=1000)
    permanent: bool
    failed_at: Instant
    language_requested: str | None = Field(default=None, min_length=2, max_length=16)
    automatic: bool = False


@contract_for("collections.email.bounced", 1, aggregate="contact")
class EmailBounced(EventContract):
    """A delivery status notification came back for a sent email: it reached nobody."""

    contact_id: UUID
    account_id: UUID
    collector_id: CollectorId
    message_id: str = Field(min_length=1, max_length=500)
    recipient: str | None = Field(default=None, max_length=320)
    status: str = Field(min_length=1, max_length=32, description="RFC 3464 Status, e.g. 5.1.1")
    diagnostic: str | None = Field(default=None, max_length=1000)
    permanent: bool
    bounced_at: Instant


# -- commitments (promises to pay) ----------------------------------------------------------------


class Instalment(Part):
    due_date: date
    amount_minor: PositiveMinor


@contract_for("collections.commitment.made", 1, aggregate="commitment")
class CommitmentMade(EventContract):
    """A promise to pay `amount_minor` by `promised_date`; no `invoice_ids` means the account.

    It is judged at the end of `promised_date` plus `grace_days` business days.
    """

    commitment_id: UUID
    account_id: UUID
    collector_id: CollectorId
    amount_minor: PositiveMinor
    currency: CurrencyCode
    promised_date: date
    grace_days: int = Field(ge=0, le=30)
    invoice_ids: list[UUID]
    channel: Channel
    made_on: date
    made_at: Instant
    contact_id: UUID | None = None
    instalments: list[Instalment] = Field(default_factory=list, max_length=36)
    """A plan: dated amounts adding up to `amount_minor`, the last on `promised_date`; each
    is judged on its own date plus `grace_days` business days. Empty: one payment."""


@contract_for("collections.commitment.kept", 1, aggregate="commitment")
class CommitmentKept(EventContract):
    """Paid in full by the promised date plus grace; `kept_on` is the completing payment's date."""

    commitment_id: UUID
    account_id: UUID
    collector_id: CollectorId
    amount_minor: PositiveMinor
    paid_minor: PositiveMinor
    currency: CurrencyCode
    promised_date: date
    kept_on: date


@contract_for("collections.commitment.partially_kept", 1, aggregate="commitment")
class CommitmentPartiallyKept(EventContract):
    """Some but not all of the promise was paid by the promised date plus grace."""

    commitment_id: UUID
    account_id: UUID
    collector_id: CollectorId
    amount_minor: PositiveMinor
    paid_minor: PositiveMinor
    shortfall_minor: PositiveMinor
    currency: CurrencyCode
    promised_date: date
    evaluated_on: date
    follow_up_task_id: UUID | None = None


@contract_for("collections.commitment.broken", 1, aggregate="commitment")
class CommitmentBroken(EventContract):
    """Nothing paid by the promised date plus grace: a follow-up task is due next business day."""

    commitment_id: UUID
    account_id: UUID
    collector_id: CollectorId
    amount_minor: PositiveMinor
    paid_minor: NonNegativeMinor
    currency: CurrencyCode
    promised_date: date
    broken_on: date
    follow_up_task_id: UUID | None = None


@contract_for("collections.commitment.instalment_judged", 1, aggregate="commitment")
class CommitmentInstalmentJudged(EventContract):
    """Instalment `number` (from 1) of a plan kept (what was paid towards the plan reached
    the instalments due so far, by its deadline) or broken. A broken instalment breaks the
    plan: `commitment.broken` or `partially_kept` follows."""

    commitment_id: UUID
    account_id: UUID
    collector_id: CollectorId
    number: int = Field(ge=1, le=36)
    due_date: date
    amount_minor: PositiveMinor
    currency: CurrencyCode
    kept: bool
    paid_minor: NonNegativeMinor
    """Paid towards the plan by then, all instalments together."""
    judged_on: date


@contract_for("collections.commitment.cancelled", 1, aggregate="commitment")
class CommitmentCancelled(EventContract):
    """Withdrawn before it was judged (taken in error, superseded): neither kept nor broken."""

    commitment_id: UUID
    account_id: UUID
    collector_id: CollectorId
    cancelled_by: CollectorId
    reason: Reason
    cancelled_on: date


# -- auto-pay conversion --------------------------------------------------------------------------


@contract_for("collections.autopay.offered", 1, aggregate="autopay_offer")
class AutoPayOffered(EventContract):
    offer_id: UUID
    account_id: UUID
    collector_id: CollectorId
    channel: Channel
    offered_on: date
    contact_id: UUID | None = None


class AutoPayOfferOutcome(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    UNDECIDED = "undecided"


@contract_for("collections.autopay.offer_answered", 1, aggregate="autopay_offer")
class AutoPayOfferAnswered(EventContract):
    """What the customer said; only `autopay.converted` says they actually enrolled."""

    offer_id: UUID
    account_id: UUID
    collector_id: CollectorId
    outcome: AutoPayOfferOutcome
    answered_on: date


@contract_for("collections.autopay.converted", 1, aggregate="autopay_offer")
class AutoPayConverted(EventContract):
    """`billing.autopay.enrolled` came within 30 days of the offer: the collector converted it."""

    offer_id: UUID
    account_id: UUID
    collector_id: CollectorId
    offered_on: date
    enrolled_on: date
    days_after_offer: int = Field(ge=0, le=30)


# -- accounts -------------------------------------------------------------------------------------


class AssignmentBasis(StrEnum):
    EXPLICIT = "explicit"
    RULE = "rule"


@contract_for("collections.account.assigned", 1, aggregate="account")
class AccountAssigned(EventContract):
    """The account's collector from `effective_on`; `rule_id` when a portfolio rule chose them."""

    account_id: UUID
    collector_id: CollectorId
    previous_collector_id: CollectorId | None = None
    basis: AssignmentBasis
    rule_id: UUID | None = None
    assigned_by: CollectorId
    effective_on: date


class HoldSource(StrEnum):
    CASE = "case"
    MANUAL = "manual"


@contract_for("collections.account.hold_placed", 1, aggregate="account")
class HoldPlaced(EventContract):
    """These invoices leave the cadence (not aging) until released; a manual hold may end itself."""

    hold_id: UUID
    account_id: UUID
    invoice_ids: list[UUID] = Field(min_length=1)
    source: HoldSource
    reason: Reason
    case_id: str | None = Field(default=None, max_length=64)
    placed_by: CollectorId | None = None
    placed_on: date
    ends_on: date | None = None


class HoldRelease(StrEnum):
    CASE_RESOLVED = "case_resolved"
    CASE_CLOSED = "case_closed"
    EXPIRED = "expired"
    MANUAL = "manual"
    CASE_RECLASSIFIED = "case_reclassified"


@contract_for("collections.account.hold_released", 1, aggregate="account")
class HoldReleased(EventContract):
    hold_id: UUID
    account_id: UUID
    invoice_ids: list[UUID] = Field(min_length=1)
    release: HoldRelease
    case_id: str | None = Field(default=None, max_length=64)
    released_by: CollectorId | None = None
    released_on: date


class RiskReason(StrEnum):
    COMMITMENT_BROKEN = "commitment_broken"
    COMMITMENT_PARTIALLY_KEPT = "commitment_partially_kept"
    MANUAL = "manual"


@contract_for("collections.account.marked_at_risk", 1, aggregate="account")
class AccountMarkedAtRisk(EventContract):
    account_id: UUID
    collector_id: CollectorId | None
    reason: RiskReason
    commitment_id: UUID | None = None
    marked_on: date


class RiskClearance(StrEnum):
    COMMITMENT_KEPT = "commitment_kept"
    PAID_UP = "paid_up"


@contract_for("collections.account.risk_cleared", 1, aggregate="account")
class AccountRiskCleared(EventContract):
    """The account is no longer at risk: a promise was kept in full, or nothing is past due."""

    account_id: UUID
    collector_id: CollectorId | None
    reason: RiskClearance
    commitment_id: UUID | None = None
    at_risk_since: date
    cleared_on: date


@contract_for("collections.account.escalated", 1, aggregate="account")
class AccountEscalated(EventContract):
    """A cadence step that escalates fell due: the account goes to a supervisor's attention."""

    account_id: UUID
    collector_id: CollectorId | None
    task_id: UUID | None = None
    template: TemplateName | None = None
    reason: Reason
    escalated_on: date
    escalated_by: CollectorId | None = None
    """Who escalated by hand; None when a cadence step escalated."""
    supervisor_task_id: UUID | None = None
    """The escalation task put on a supervisor's worklist."""


# -- what collectors learn about a customer ---------------------------------------------------

ProfileValue = str | bool | list[str] | None


class ProfileFieldChange(Part):
    """One field of the customer-behaviour profile, as it was and as it became."""

    field: str = Field(min_length=1, max_length=64, examples=["preferred_channel"])
    before: ProfileValue = None
    after: ProfileValue = None


@contract_for("collections.account.profile_changed", 1, aggregate="account")
class AccountProfileChanged(EventContract):
    """A collector edited the customer-behaviour profile (tags, channel, contact hours,
    language, do-not-contact, email opt-out): who, and only the fields that changed.

    The profile decides who may be emailed and when to call, so an edit is kept as
    the audit trail of that decision, not only as the profile's current value.
    """

    account_id: UUID
    changes: list[ProfileFieldChange] = Field(min_length=1)
    changed_by: CollectorId
    profile_version: int = Field(ge=1)
    """The profile's version after the edit (its ETag)."""


@contract_for("collections.account.note_added", 1, aggregate="account")
class AccountNoteAdded(EventContract):
    """A collector's note on the customer ("pays on day 45"); notes are never edited."""

    account_id: UUID
    note_id: UUID
    body: str = Field(min_length=1, max_length=4000)
    author: CollectorId


__all__ = [
    "TOPIC",
    "AccountAssigned",
    "AccountEscalated",
    "AccountMarkedAtRisk",
    "AccountNoteAdded",
    "AccountProfileChanged",
    "AssignmentBasis",
    "AutoPayConverted",
    "AutoPayOfferAnswered",
    "AutoPayOfferOutcome",
    "AutoPayOffered",
    "CadenceStepRef",
    "Channel",
    "CommitmentBroken",
    "CommitmentCancelled",
    "CommitmentInstalmentJudged",
    "CommitmentKept",
    "CommitmentMade",
    "CommitmentPartiallyKept",
    "ContactAttempted",
    "ContactOutcome",
    "EmailBounced",
    "EmailFailed",
    "EmailSent",
    "HoldPlaced",
    "HoldRelease",
    "HoldReleased",
    "HoldSource",
    "Instalment",
    "ProfileFieldChange",
    "RiskReason",
    "TaskCancellation",
    "TaskCancelled",
    "TaskCompleted",
    "TaskHandedOver",
    "TaskKind",
    "TaskMissed",
    "TaskOutcome",
    "TaskRescheduled",
    "TaskScheduled",
]
