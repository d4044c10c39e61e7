"""Request and response bodies of the collections API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from collections_service.adapters.pay_links import PayLink
from collections_service.domain.cadence import Step
from collections_service.domain.dunning import CatchUp
from receivables_platform.business_dates import BusinessDate
from receivables_platform.contracts.billing import PayLinkPurpose
from receivables_platform.contracts.collections import (
    AutoPayOfferOutcome,
    Channel,
    ContactOutcome,
    TaskOutcome,
)
from receivables_platform.money import MAX_MINOR, CurrencyCode
from receivables_platform.web.bodies import RequestBody
from receivables_platform.web.pages import Page

CollectorId = Annotated[str, Field(min_length=1, max_length=200)]
Segment = Annotated[str, Field(min_length=1, max_length=64)]
Template = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9_\-]+$")]


Minor = Annotated[int, Field(ge=0, le=MAX_MINOR)]


class Body(RequestBody):
    """A request body: unknown fields and NUL characters (PostgreSQL text has none) refused."""


def _row(row: asyncpg.Record) -> dict[str, Any]:
    return dict(row)


# -- policies -------------------------------------------------------------------------------------


class StepBody(Body):
    step_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_\-]+$",
        description="Stable across versions; default d<offset>-<channel>",
    )
    offset_days: int = Field(
        ge=-365, le=3650, description="Days from the invoice's due date; negative: before"
    )
    channel: Channel
    template: Template
    escalates: bool = False

    def step(self) -> Step:
        sid = self.step_id or f"d{self.offset_days:+d}-{self.channel.value}"
        return Step(sid, self.offset_days, self.channel, self.template, self.escalates)


CATCH_UP = Field(
    default=CatchUp.FIRST_NOT_DONE,
    description=(
        "An account behind its cadence (go-live): first_not_done sends the earliest step not yet "
        "done, one a business day; latest sends only the most advanced step"
    ),
)


class PolicyRequest(Body):
    segment: Segment | None = Field(default=None, description="None: the default policy")
    name: str = Field(min_length=1, max_length=200)
    steps: list[StepBody] = Field(min_length=1, max_length=30)
    catch_up: CatchUp = CATCH_UP


class PolicyRevision(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    steps: list[StepBody] = Field(min_length=1, max_length=30)
    catch_up: CatchUp = CATCH_UP


class PolicyResponse(BaseModel):
    policy_id: UUID
    version: int
    segment: str | None
    name: str
    steps: list[dict[str, Any]]
    catch_up: CatchUp
    created_by: str

    @classmethod
    def of(cls, row: asyncpg.Record) -> PolicyResponse:
        return cls(
            policy_id=row["policy_id"],
            version=row["version"],
            segment=row["segment"],
            name=row["name"],
            steps=row["steps"],
            catch_up=row["catch_up"],
            created_by=row["created_by"],
        )


# -- portfolios -----------------------------------------------------------------------------------


class RuleRequest(Body):
    collector_id: CollectorId
    rank: int = Field(ge=0, le=10_000, description="Lower ranks are tried first")
    segment: Segment | None = None
    min_balance_minor: Minor | None = None
    max_balance_minor: Minor | None = None


class RuleResponse(BaseModel):
    rule_id: UUID
    collector_id: str
    rank: int
    segment: str | None
    min_balance_minor: int | None
    max_balance_minor: int | None


class RuleTerms(BaseModel):
    """What a rule said at one point of its history."""

    collector_id: str
    rank: int
    segment: str | None = Field(default=None, description="Any segment when null")
    min_balance_minor: int | None = Field(default=None, description="No lower bound when null")
    max_balance_minor: int | None = Field(default=None, description="No upper bound when null")


class RuleHistoryEntry(BaseModel):
    version: int
    change: Literal["recorded", "added", "changed", "retired"] = Field(
        description=(
            "`recorded`: the rule as it stood when history began (earlier edits were not kept)"
        )
    )
    changed_by: str
    changed_at: datetime
    rule: RuleTerms = Field(description="The rule after the change (as retired, for `retired`)")
    before: RuleTerms | None = Field(
        default=None, description="The rule before a `changed`, else null"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": 1,
                    "change": "added",
                    "changed_by": "sup-sue",
                    "changed_at": "2026-11-02T09:00:00Z",
                    "before": None,
                    "rule": {
                        "collector_id": "kim",
                        "rank": 1,
                        "segment": "smb",
                        "min_balance_minor": None,
                        "max_balance_minor": 500000,
                    },
                }
            ]
        }
    )


class RuleHistory(BaseModel):
    rule_id: UUID
    entries: list[RuleHistoryEntry]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rule_id": "01934f9e-8d2a-7c4b-9b1e-3f6a2d5c7e10",
                    "entries": [
                        {
                            "version": 1,
                            "change": "added",
                            "changed_by": "sup-sue",
                            "changed_at": "2026-11-02T09:00:00Z",
                            "before": None,
                            "rule": {
                                "collector_id": "kim",
                                "rank": 1,
                                "segment": "smb",
                                "min_balance_minor": None,
                                "max_balance_minor": 500000,
                            },
                        },
                        {
                            "version": 2,
                            "change": "changed",
                            "changed_by": "sup-tom",
                            "changed_at": "2026-11-09T09:00:00Z",
                            "before": {
                                "collector_id": "kim",
                                "rank": 1,
                                "segment": "smb",
                                "min_balance_minor": None,
                                "max_balance_minor": 500000,
                            },
                            "rule": {
                                "collector_id": "lee",
                                "rank": 1,
                                "segment": "smb",
                                "min_balance_minor": None,
                                "max_balance_minor": 500000,
                            },
                        },
                    ],
                }
            ]
        }
    )


class ApplyRulesRequest(Body):
    rebalance: bool = Field(default=False, description="Also move accounts a rule assigned before")


class AssignRequest(Body):
    collector_id: CollectorId


# -- accounts -------------------------------------------------------------------------------------


class InvoiceView(BaseModel):
    invoice_id: UUID
    external_id: str | None
    due_date: date | None = Field(
        description="When its oldest open instalment fell (or falls) "
        "due: the invoice's due date unless it is paid in instalments"
    )
    balance_minor: int
    past_due_minor: int = Field(
        default=0,
        description="What of the balance is past due: its open instalments due before today",
    )
    currency: str | None
    days_past_due: int
    held: bool
    paused_until: date | None = Field(
        default=None,
        description=("An open promise covers it: out of the cadence until this day (its deadline)"),
    )


class AccountView(BaseModel):
    account_id: UUID
    name: str | None
    segment: str | None
    currency: str | None
    collector_id: str | None
    autopay: bool
    at_risk_since: date | None
    open_balance_minor: int
    past_due_minor: int
    days_past_due: int
    paused_until: date | None = Field(
        default=None,
        description=("An open promise naming no invoice pauses the whole account until this day"),
    )
    invoices: list[InvoiceView]
    version: int


class AccountSummary(BaseModel):
    account_id: UUID
    name: str | None
    segment: str | None
    open_balance_minor: int
    currency: str | None


class PortfolioPage(Page[AccountSummary]):
    """A page of a collector's accounts, by name."""


# -- cadence and tasks ----------------------------------------------------------------------------


class RunRequest(Body):
    business_date: BusinessDate | None = Field(
        default=None, description="Default: today (the clock)"
    )


class RunResponse(BaseModel):
    business_date: date
    business_day: bool
    holds_released: int
    commitments_judged: int
    accounts_assigned: int
    tasks_missed: int
    tasks_cancelled: int
    tasks_scheduled: int


class TaskView(BaseModel):
    task_id: UUID
    account_id: UUID
    account_name: str | None = None
    collector_id: str | None
    kind: str
    business_date: date
    due_on: date
    status: str
    times_missed: int
    channel: str
    template: str | None
    escalates: bool
    invoice_ids: list[UUID]
    amount_past_due_minor: int
    currency: str
    days_past_due: int
    priority_score: int
    commitment_id: UUID | None
    outcome: str | None
    due_at: datetime | None = Field(
        default=None, description="The agreed moment, in the team's time zone (TEAM_TIMEZONE)"
    )
    note: str | None = None
    created_by: str | None = Field(
        default=None, description="Who set it by hand; None: the cadence"
    )
    call_sheet: CallSheet | None = Field(
        default=None, description="On the worklist: who to call and what about"
    )
    version: int

    @classmethod
    def of(cls, row: asyncpg.Record) -> TaskView:
        return cls.model_validate({k: v for k, v in dict(row).items() if k in cls.model_fields})


class PayLinkView(BaseModel):
    """A link the customer pays the account's open invoices through (or enrols in auto-pay)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account_id": "0192f0c4-8a7e-7c1d-9d0e-3b1f2a4c5d6e",
                    "purpose": "payment",
                    "url": "https://checkout.stripe.com/c/pay/cs_test_a1b2c3",
                    "expires_at": "2026-11-03T14:00:00Z",
                    "provider": "stripe",
                    "pay_link_id": "0192f0c4-9b1a-7e2f-8c3d-4e5f6a7b8c9d",
                }
            ]
        }
    )

    account_id: UUID
    purpose: PayLinkPurpose = Field(
        description="`payment` pays the open invoices; `autopay` "
        "saves a payment method for auto-pay"
    )
    url: str = Field(description="Where the customer pays (or enrols)")
    expires_at: datetime | None = Field(
        description="When the link stops working; None: a template link, which does not expire"
    )
    provider: str | None = Field(description="Who made it (stripe); None: PAY_LINK_URL_TEMPLATE")
    pay_link_id: UUID | None = Field(
        description="Billing-adapter's id of the link; None: a template link"
    )

    @classmethod
    def of(cls, account_id: UUID, link: PayLink) -> PayLinkView:
        return cls(
            account_id=account_id,
            purpose=link.purpose,
            url=link.url,
            expires_at=link.expires_at,
            provider=link.provider,
            pay_link_id=link.pay_link_id,
        )


class ContactCard(BaseModel):
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class LastContact(BaseModel):
    channel: str
    outcome: str
    attempted_at: datetime
    business_date: date
    notes: str | None = None


class OpenPromise(BaseModel):
    commitment_id: UUID
    amount_minor: int
    currency: str
    promised_date: date
    deadline: date
    invoice_ids: list[UUID]


class TaskInvoice(BaseModel):
    invoice_id: UUID
    external_id: str | None
    due_date: date | None
    balance_minor: int
    currency: str | None
    days_past_due: int


class CallSheet(BaseModel):
    """Who to call and what about, as of the worklist's day."""

    contact: ContactCard | None
    preferred_channel: str | None
    contact_hours: str | None
    language: str
    tags: list[str]
    last_contact: LastContact | None
    open_promises: list[OpenPromise]
    invoices: list[TaskInvoice] = Field(description="The task's invoices still owed")

    @classmethod
    def of(cls, row: asyncpg.Record, invoice_ids: list[UUID], day: date) -> CallSheet:
        contacts = row["contacts"] or []
        covered = {str(i) for i in invoice_ids}
        invoices = [
            TaskInvoice(
                **i,
                days_past_due=max((day - date.fromisoformat(i["due_date"])).days, 0)
                if i["due_date"]
                else 0,
            )
            for i in row["invoices"]
            if not covered or i["invoice_id"] in covered
        ]
        return cls(
            contact=ContactCard(**contacts[0]) if contacts else None,
            preferred_channel=row["preferred_channel"],
            contact_hours=row["contact_hours"],
            language=row["language"],
            tags=list(row["tags"]),
            last_contact=row["last_contact"],
            open_promises=row["open_promises"],
            invoices=invoices,
        )


class Worklist(BaseModel):
    collector_id: str | None = Field(description="None: the unassigned accounts' tasks")
    business_date: date
    tasks: list[TaskView] = Field(description="The page asked for (every task without `limit`)")
    total: int = Field(
        ge=0,
        description="How many tasks the whole worklist has, whatever page was asked for",
        examples=[300],
    )


Assignee = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f]+$",
        description="A collector's id (their token's `sub`)",
    ),
]
ClockTime = Annotated[
    str,
    Field(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="HH:MM in the team's time zone (TEAM_TIMEZONE)",
        examples=["10:00"],
    ),
]


class TaskRequest(Body):
    """A follow-up a collector sets: "call back Thursday 10:00"."""

    account_id: UUID
    kind: Channel = Field(default=Channel.CALL, description="call, email, letter or other")
    due_on: BusinessDate = Field(description="A business day, today or later")
    due_time: ClockTime | None = None
    note: str | None = Field(default=None, max_length=4000)
    assignee: Assignee | None = Field(default=None, description="Default: yourself")


class TaskPatch(Body):
    """Reschedule (`due_on`, `due_time`), snooze (`snooze_days`) or hand over (`assignee`)."""

    due_on: BusinessDate | None = None
    due_time: ClockTime | None = Field(default=None, description="With due_on or snooze_days")
    snooze_days: int | None = Field(
        default=None,
        ge=1,
        le=30,
        description="Business days after today or the due date, whichever is later",
    )
    assignee: Assignee | None = None
    note: str | None = Field(default=None, max_length=4000)


class EscalationRequest(Body):
    reason: str = Field(min_length=1, max_length=500)
    supervisor_id: Assignee | None = Field(
        default=None,
        description="Default: COLLECTIONS_ESCALATION_SUPERVISOR, else the "
        "unassigned worklist every supervisor sees",
    )


class CompleteRequest(Body):
    outcome: TaskOutcome
    notes: str | None = Field(default=None, max_length=4000)
    contact_id: UUID | None = None


# -- commitments ----------------------------------------------------------------------------------


class InstalmentBody(Body):
    due_date: BusinessDate
    amount_minor: int = Field(le=MAX_MINOR, description="Minor units; above zero")


class CommitmentRequest(Body):
    account_id: UUID
    amount_minor: int = Field(le=MAX_MINOR, description="Minor units; above zero")
    currency: CurrencyCode | None = None
    promised_date: BusinessDate
    grace_days: int | None = Field(
        default=None, ge=-1000, le=1000, description="Business days (0-30); default from config"
    )
    invoice_ids: list[UUID] = Field(
        default_factory=list, max_length=500, description="Empty: the whole account"
    )
    channel: Channel = Channel.CALL
    contact_id: UUID | None = None
    instalments: list[InstalmentBody] = Field(
        default_factory=list,
        max_length=36,
        description="A plan: dated amounts adding up to amount_minor, the last on "
        "promised_date; empty: one payment",
    )


class CommitmentView(BaseModel):
    commitment_id: UUID
    account_id: UUID
    collector_id: str
    amount_minor: int
    currency: str
    promised_date: date
    grace_days: int
    deadline: date
    invoice_ids: list[UUID]
    channel: str
    made_on: date
    status: str
    paid_minor: int
    judged_on: date | None
    instalments: list[dict[str, Any]] = Field(default_factory=list)
    instalments_judged: int = Field(
        default=0, description="Instalments judged so far (all kept but a broken last one)"
    )
    version: int

    @classmethod
    def of(cls, row: asyncpg.Record) -> CommitmentView:
        return cls.model_validate(_row(row))


class CommitmentPage(Page[CommitmentView]):
    """A page of a collector's open promises, soonest promised date first."""


class CancelRequest(Body):
    reason: str = Field(min_length=1, max_length=500)


# -- contacts, holds, auto-pay --------------------------------------------------------------------


class CallRequest(Body):
    account_id: UUID
    outcome: ContactOutcome
    notes: str | None = Field(default=None, max_length=4000)
    task_id: UUID | None = None
    invoice_ids: list[UUID] = Field(default_factory=list, max_length=500)


class EmailRequest(Body):
    account_id: UUID
    template: Template = "overdue_statement"
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    task_id: UUID | None = None


class ContactView(BaseModel):
    contact_id: UUID
    account_id: UUID
    collector_id: str
    channel: str
    outcome: str
    task_id: UUID | None
    business_date: date
    notes: str | None
    email_to: str | None
    email_message_id: str | None
    email_error: str | None
    email_cc: list[str] = Field(default_factory=list)
    language: str | None = Field(default=None, description="The language the email went out in")
    language_requested: str | None = Field(
        default=None,
        description=(
            "The account's language; differs from `language` when no template was written in "
            "it and English was sent instead"
        ),
    )
    bounced_at: datetime | None = Field(
        default=None, description="When a delivery status notification said it reached nobody"
    )

    @classmethod
    def of(cls, row: asyncpg.Record) -> ContactView:
        return cls.model_validate({k: v for k, v in dict(row).items() if k in cls.model_fields})


class HoldRequest(Body):
    account_id: UUID
    invoice_ids: list[UUID] = Field(min_length=1, max_length=500)
    reason: str = Field(min_length=1, max_length=500)
    ends_on: BusinessDate | None = None


class HoldView(BaseModel):
    hold_id: UUID
    account_id: UUID
    invoice_ids: list[UUID]
    source: str
    case_id: str | None
    reason: str
    placed_on: date
    ends_on: date | None
    released_on: date | None
    release: str | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> HoldView:
        return cls.model_validate(_row(row))


class OfferRequest(Body):
    account_id: UUID
    channel: Channel = Channel.CALL
    contact_id: UUID | None = None


class AnswerRequest(Body):
    outcome: AutoPayOfferOutcome


class OfferView(BaseModel):
    offer_id: UUID
    account_id: UUID
    collector_id: str
    channel: str
    offered_on: date
    outcome: str | None
    converted_on: date | None
    version: int

    @classmethod
    def of(cls, row: asyncpg.Record) -> OfferView:
        return cls.model_validate(_row(row))


class Candidate(BaseModel):
    account_id: UUID
    name: str | None
    collector_id: str | None
    late_payments: int


class CandidatePage(Page[Candidate]):
    """A page of auto-pay candidates, most late payments first."""
