"""What reporting's trend, KPI, weekly-review, account-summary, search and timeline routes
answer, as typed models.

The service layer builds these reports as plain dictionaries (the weekly review is
rendered to CSV, HTML and charts from the same one); the routes pass them through these
models so that the OpenAPI document, the generated clients and the schemathesis
response checks know every field. `extra="forbid"`: a key the service layer adds without
adding it here fails the route's tests instead of silently leaving the contract.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from reporting_service.adapters.kpi_query import KpiGroup

Percent = float | None
"""A share in percent rounded to two places; null when its denominator is 0."""
Days = float | None


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PeriodOut(Report):
    start: date = Field(description="First business date of the period")
    end: date = Field(description="Last business date of the period (inclusive)")


class KpiPeriod(PeriodOut):
    days: int = Field(description="Calendar days in the period, the DSO divisor")


class DailyBalance(Report):
    date: date
    total_minor: int = Field(description="Open AR in the day's end-of-day snapshot")
    past_due_minor: int = Field(description="Of it, 1 or more days past due")
    over_60_minor: int = Field(description="Of it, 61 or more days past due")


class BalanceChange(Report):
    this_period_minor: int | None = Field(
        description="In the last snapshot of this period; null without one"
    )
    last_period_minor: int | None = Field(
        description="In the last snapshot of the period before; null without one"
    )
    change_minor: int | None = Field(description="this_period_minor - last_period_minor")
    reduction_pct: Percent = Field(
        description="How much smaller the balance got, in percent of last period's "
        "(negative when it grew)"
    )


class AgingTrend(Report):
    currency: str
    period: PeriodOut
    previous_period: PeriodOut = Field(description="The period of the same length before")
    points: list[DailyBalance] = Field(
        description="One per snapshot day of both periods, oldest first"
    )
    past_due: BalanceChange
    over_60: BalanceChange
    total: BalanceChange


class ArFiguresOut(Report):
    opening_ar_minor: int = Field(description="Open AR at the start of the period")
    credit_sales_minor: int = Field(description="Invoiced in the period")
    closing_ar_minor: int = Field(description="Open AR at the end of the period")
    closing_current_ar_minor: int = Field(description="Of it, not yet due")


class CadenceOut(Report):
    completed: int = Field(description="Tasks due in the period that were completed")
    due: int = Field(description="Tasks due in the period, carried-over ones included")
    completion_pct: Percent


class CollectionsSecuredOut(Report):
    payments: int = Field(
        description="Payments on past-due invoices after a contact or "
        "promise on the account, within the window"
    )
    amount_minor: int
    attribution_window_days: int


class PromisesOut(Report):
    kept: int
    partially_kept: int
    broken: int
    promised_minor: int = Field(description="What the judged promises promised")
    paid_minor: int = Field(description="What was paid against them")
    kept_rate_by_count_pct: Percent
    kept_rate_by_amount_pct: Percent


class AutoPayOut(Report):
    not_on_autopay_at_start: int = Field(
        description="Accounts without auto-pay when the period began (the conversion base)"
    )
    enrolled_in_period: int
    conversion_pct: Percent
    on_autopay_at_end: int
    accounts_at_end: int
    penetration_pct: Percent = Field(description="Share of accounts on auto-pay at the end")
    offers_converted: int = Field(description="Auto-pay offers that ended in an enrolment")


class TimelinessOut(Report):
    tasks_on_time: int
    tasks_due: int
    escalation_answers_on_time: int
    escalation_answers_due: int
    on_time_pct: Percent = Field(description="Tasks and escalation answers on time, together")


class SatisfactionOut(Report):
    responses: int = Field(description="Customer confirmations that gave a score (1 to 5)")
    mean: float | None
    distribution: dict[str, int] = Field(description="Responses per score, `1` to `5`")


class CauseChange(Report):
    this_period: int
    previous_period: int = Field(description="In the period of the same length before")
    change: int
    change_pct: Percent


class CaseKpisOut(Report):
    opened: int
    closed: int
    investigations_completed: int = Field(description="Cases resolved in the period")
    open_over_14_days: int = Field(
        description="Cases open at the period's end, opened more "
        "than 14 days before (the two-week SLA)"
    )
    mean_days_to_resolution: Days = Field(
        description="Opened to resolved, of the cases resolved in the period"
    )
    median_days_to_resolution: Days
    documentation_complete: int = Field(description="Closed cases whose checklist was complete")
    documentation_checked: int = Field(description="Closed cases whose checklist was checked")
    documentation_completeness_pct: Percent
    escalations_by_cause: dict[str, CauseChange] = Field(
        description="Every escalation cause (`delay`, `documentation_gap`, `other`), none as 0"
    )
    satisfaction: SatisfactionOut


class SatisfactionComment(Report):
    case_id: UUID
    case_number: str | None
    owner_id: str | None
    satisfaction: int | None = Field(description="The customer's score, 1 (worst) to 5")
    comment: str
    confirmed_at: datetime | None


class DepartmentCases(CaseKpisOut):
    escalations_by_origin: dict[str, int] = Field(
        description="Every escalation by origin and cause: `case:service`, "
        "`collections:final notice`"
    )
    satisfaction_comments: list[SatisfactionComment] = Field(
        description="The customers' own words, lowest scores first (at most 20)"
    )


class GroupKpis(Report):
    key: str = Field(
        description="The collector, the team, or `all`, as `group_by` asked; "
        "`unassigned` / `no team` for what has none"
    )
    ar: ArFiguresOut
    dso: Days = Field(description="Days sales outstanding; null when dso_withheld says why")
    best_possible_dso: Days
    add: Days = Field(description="Average days delinquent: DSO - best possible DSO")
    cei: Percent = Field(description="Collection effectiveness index, in percent")
    dso_withheld: str | None = Field(
        description="`no_credit_sales` or `credit_sales_too_small` when DSO would mislead"
    )
    cadence: CadenceOut
    collections_secured: CollectionsSecuredOut
    promises: PromisesOut
    autopay: AutoPayOut
    follow_up_timeliness: TimelinessOut
    cases: CaseKpisOut = Field(
        description="Cases the group owns (a case counts for its owner and the owner's team)"
    )


class CorrectedByRootCause(Report):
    code: str
    name: str
    invoices: int = Field(description="Invoices of the period a case corrected or credited")
    amount_minor: int
    share_pct: Percent = Field(description="Of the invoices issued in the period")


class BillingAccuracyOut(Report):
    invoices_issued: int
    invoices_corrected: int
    corrected_pct: Percent
    accuracy_pct: Percent = Field(description="Invoices of the period no case had to correct")
    by_root_cause: list[CorrectedByRootCause]


class KpiReport(Report):
    period: KpiPeriod = Field(description="The days reported: cut at today while running")
    requested_period: KpiPeriod | None = Field(
        description="The period asked for, when it runs past today; else null"
    )
    currency: str
    group_by: KpiGroup
    groups: list[GroupKpis] = Field(description="One row per group with any activity")
    cases: DepartmentCases = Field(description="The whole department's case KPIs")
    billing_accuracy: BillingAccuracyOut


class RootCause(Report):
    code: str = Field(description="The root-cause category's code, `unidentified` for none")
    name: str
    cases: int = Field(description="Cases closed in the week with this root cause")
    amount_minor: int = Field(description="Total of the invoices those cases disputed")


class RootCauseThisWeek(RootCause):
    sop_candidate: bool = Field(description="Recurred at least sop_threshold times")


class ParetoEntry(Report):
    code: str
    name: str
    value: int = Field(description="Cases, or amount in minor units")
    share_pct: float
    cumulative_pct: float


class WeekOverWeek(Report):
    code: str
    name: str
    cases_this_week: int
    cases_last_week: int
    amount_this_week_minor: int
    amount_last_week_minor: int


class RootCauses(Report):
    this_week: list[RootCauseThisWeek]
    last_week: list[RootCause]
    pareto_by_count: list[ParetoEntry]
    pareto_by_amount: list[ParetoEntry]
    week_over_week: list[WeekOverWeek]
    sop_threshold: int
    sop_candidates: list[str] = Field(
        description="Codes to write a standard operating procedure for"
    )


class KpiRow(Report):
    kpi: str = Field(description="The KPI's label, its unit in brackets")
    this_week: int | float | None
    last_week: int | float | None


class WeeklyReview(Report):
    week: str = Field(description="ISO week, `2026-W47`")
    period: PeriodOut
    previous_period: PeriodOut
    currency: str
    aging_trend: AgingTrend
    root_causes: RootCauses
    kpis: list[KpiRow]
    escalations_by_cause: dict[str, CauseChange]


class AccountBalance(Report):
    currency: str
    total_minor: int = Field(description="Open balance as of the date")
    invoices: int = Field(description="Open invoices")
    buckets: dict[str, int] = Field(
        description="Open balance per aging bucket (days past due), every configured bucket present"
    )
    on_hold_minor: int
    in_dispute_minor: int
    on_hold_invoices: int
    in_dispute_invoices: int


class LastContact(Report):
    contact_id: UUID
    collector_id: str
    channel: str
    outcome: str
    business_date: date
    attempted_at: datetime


class OpenPromise(Report):
    commitment_id: UUID
    collector_id: str | None
    amount_minor: int | None
    currency: str | None
    promised_date: date | None
    made_on: date | None


class OpenCase(Report):
    case_id: UUID
    case_number: str | None
    type: str | None
    status: str | None
    owner_id: str | None
    opened_at: datetime | None
    invoice_ids: list[UUID]
    root_cause_code: str | None


class AccountSummary(Report):
    account_id: UUID
    external_id: str | None = Field(description="The billing system's id of the account")
    name: str | None
    segment: str | None
    currency: str | None = Field(description="The account's billing currency")
    payment_terms_days: int | None
    collector_id: str | None = Field(description="Who collects the account; null: unassigned")
    collector_since: date | None
    team: str | None = Field(description="The collector's team")
    on_autopay: bool
    as_of: date
    balances: list[AccountBalance] = Field(description="One per currency with open invoices")
    last_contact: LastContact | None
    open_promises: list[OpenPromise]
    open_cases: list[OpenCase]


class CollectorTeam(Report):
    collector_id: str
    team: str


class SearchResult(Report):
    kind: str = Field(description="`account`, `invoice`, `case` or `contact`")
    id: str = Field(description="The found thing's id (a contact's is `account_id:position`)")
    account_id: UUID | None
    title: str | None = Field(description="What to show: a name, an invoice or case number")
    subtitle: str | None = Field(
        description="What tells it apart: an external id, the account's name"
    )
    score: float = Field(description="How well it matches, 0 to 1; best first")


class SearchResults(Report):
    query: str = Field(description="The query as searched (trimmed)")
    results: list[SearchResult]


class TimelineEntry(Report):
    at: str = Field(description="When it happened (RFC 3339, UTC)")
    kind: str = Field(
        description="`invoice`, `payment`, `adjustment`, `call`, `email`, "
        "`letter`, `promise`, `hold`, `autopay` or `case`"
    )
    title: str
    detail: dict[str, Any] = Field(description="The entry's particulars; keys depend on kind")
    event_id: str = Field(description="The CloudEvent it was recorded from")


class AccountTimeline(Report):
    account_id: UUID
    entries: list[TimelineEntry] = Field(description="Newest first")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last"
    )
