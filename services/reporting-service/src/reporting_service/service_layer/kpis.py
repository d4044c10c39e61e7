"""The KPI report: every KPI of docs/architecture.md#metrics for one period and currency,
per group.

Collections KPIs are per collector or team (group `all` for the whole
department); case KPIs per case owner or the owner's team, in each row's
`cases`, and for the whole department in the report's `cases`. A period still
running is reported up to today (`KpiQuery.through`): its end has not happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

import asyncpg

from receivables_platform.business_dates import business_dates
from receivables_platform.contracts.cases import EscalationCause
from reporting_service.adapters import kpi_query as q
from reporting_service.adapters.kpi_query import KpiGroup
from reporting_service.domain.kpis import (
    ArFigures,
    Period,
    PromiseFigures,
    ar_kpis,
    as_number,
    autopay_conversion,
    autopay_penetration,
    cadence_completion,
    mean,
    median,
    promise_kept_rate_by_amount,
    promise_kept_rate_by_count,
    ratio,
)

DEFAULT_ATTRIBUTION_WINDOW_DAYS = q.KEPT_ATTRIBUTION_WINDOW_DAYS


@dataclass(frozen=True)
class KpiQuery:
    period: Period  # the days to report: already cut at today when the period is running
    currency: str
    group: KpiGroup = KpiGroup.all
    attribution_window_days: int = DEFAULT_ATTRIBUTION_WINDOW_DAYS
    requested: Period | None = None  # the period asked for, when it runs past today

    @classmethod
    def up_to_today(
        cls,
        period: Period,
        today: date,
        currency: str,
        group: KpiGroup = KpiGroup.all,
        attribution_window_days: int = DEFAULT_ATTRIBUTION_WINDOW_DAYS,
    ) -> KpiQuery:
        """The query over the days of `period` that have happened by `today`."""
        through = period.up_to(today)
        return cls(
            through, currency, group, attribution_window_days, None if through == period else period
        )


def _zone() -> str:
    return business_dates().team_timezone


def _percent(value: Any) -> float | None:
    return as_number(None if value is None else value * 100)


@dataclass(frozen=True)
class _Figures:
    """Everything one group's row is computed from."""

    ar: ArFigures
    tasks: q.Counted
    promises: PromiseFigures
    secured: q.Secured
    autopay: q.AutoPayFigures
    timeliness: dict[str, q.Counted]
    cases: q.CaseFigures
    causes: dict[str, q.CauseCounts]


async def group_kpis(conn: asyncpg.Connection, query: KpiQuery) -> list[dict[str, Any]]:
    period, group = query.period, query.group
    ar = await q.ar_figures(conn, period, query.currency, group)
    cadence = await q.cadence(conn, period, group)
    promises = await q.promises(conn, period, query.currency, group)
    secured = await q.collections_secured(
        conn, period, query.currency, group, query.attribution_window_days
    )
    autopay = await q.autopay(conn, period, group)
    timeliness = await q.follow_up_timeliness(conn, period, group)
    cases = await q.case_figures(conn, period, group, _zone())
    causes = await q.escalations_by_cause(conn, period, group)
    keys = sorted(
        set(ar)
        | set(cadence)
        | set(promises)
        | set(secured)
        | set(timeliness)
        | {k for k, f in cases.items() if f != q.EMPTY_CASES}
        | set(causes)
    )
    return [
        _row(
            key,
            query,
            _Figures(
                ar=ar.get(key, ArFigures(0, 0, 0, 0)),
                tasks=cadence.get(key, q.Counted(0, 0)),
                promises=promises.get(key, PromiseFigures(0, 0, 0, 0, 0)),
                secured=secured.get(key, q.Secured(0, 0)),
                autopay=autopay.get(key, q.AutoPayFigures(0, 0, 0, 0, 0)),
                timeliness=timeliness.get(key, {}),
                cases=cases.get(key, q.EMPTY_CASES),
                causes=causes.get(key, {}),
            ),
        )
        for key in keys
    ]


def _row(key: str, query: KpiQuery, f: _Figures) -> dict[str, Any]:
    kpis = ar_kpis(f.ar, query.period.days)
    return {
        "key": key,
        "ar": {
            "opening_ar_minor": f.ar.opening_ar,
            "credit_sales_minor": f.ar.credit_sales,
            "closing_ar_minor": f.ar.closing_ar,
            "closing_current_ar_minor": f.ar.closing_current_ar,
        },
        "dso": as_number(kpis.dso),
        "best_possible_dso": as_number(kpis.best_possible_dso),
        "add": as_number(kpis.add),
        "cei": as_number(kpis.cei),
        "dso_withheld": kpis.dso_withheld,
        "cadence": {
            "completed": f.tasks.done,
            "due": f.tasks.of,
            "completion_pct": _percent(cadence_completion(f.tasks.done, f.tasks.of)),
        },
        "collections_secured": {
            "payments": f.secured.payments,
            "amount_minor": f.secured.amount_minor,
            "attribution_window_days": query.attribution_window_days,
        },
        "promises": _promises(f.promises),
        "autopay": _autopay(f.autopay),
        "follow_up_timeliness": _timeliness(f.timeliness),
        "cases": _cases(f.cases, f.causes),
    }


def _promises(p: PromiseFigures) -> dict[str, Any]:
    return {
        "kept": p.kept,
        "partially_kept": p.partially_kept,
        "broken": p.broken,
        "promised_minor": p.promised_minor,
        "paid_minor": p.paid_minor,
        "kept_rate_by_count_pct": _percent(promise_kept_rate_by_count(p)),
        "kept_rate_by_amount_pct": _percent(promise_kept_rate_by_amount(p)),
    }


def _autopay(a: q.AutoPayFigures) -> dict[str, Any]:
    return {
        "not_on_autopay_at_start": a.not_on_autopay_at_start,
        "enrolled_in_period": a.enrolled_in_period,
        "conversion_pct": _percent(
            autopay_conversion(a.enrolled_in_period, a.not_on_autopay_at_start)
        ),
        "on_autopay_at_end": a.on_autopay_at_end,
        "accounts_at_end": a.accounts_at_end,
        "penetration_pct": _percent(autopay_penetration(a.on_autopay_at_end, a.accounts_at_end)),
        "offers_converted": a.offers_converted,
    }


def _timeliness(t: dict[str, q.Counted]) -> dict[str, Any]:
    tasks = t.get("tasks", q.Counted(0, 0))
    answers = t.get("escalation_answers", q.Counted(0, 0))
    return {
        "tasks_on_time": tasks.done,
        "tasks_due": tasks.of,
        "escalation_answers_on_time": answers.done,
        "escalation_answers_due": answers.of,
        "on_time_pct": _percent(ratio(tasks.done + answers.done, tasks.of + answers.of)),
    }


def _satisfaction(scores: list[int]) -> dict[str, Any]:
    return {
        "responses": len(scores),
        "mean": as_number(mean([Fraction(x) for x in scores])),
        "distribution": {str(score): scores.count(score) for score in range(1, 6)},
    }


def _causes(causes: dict[str, q.CauseCounts]) -> dict[str, Any]:
    """Every cause, with none as 0: a cause that vanished this week is the news."""
    result = {}
    for cause in EscalationCause:
        counts = causes.get(cause.value, q.CauseCounts(0, 0))
        change = ratio(counts.this_period - counts.previous_period, counts.previous_period)
        result[cause.value] = {
            "this_period": counts.this_period,
            "previous_period": counts.previous_period,
            "change": counts.this_period - counts.previous_period,
            "change_pct": _percent(change),
        }
    return result


def _cases(figures: q.CaseFigures, causes: dict[str, q.CauseCounts]) -> dict[str, Any]:
    return {
        "opened": figures.opened,
        "closed": figures.closed,
        "investigations_completed": figures.investigations_completed,
        "open_over_14_days": figures.open_over_14_days,
        "mean_days_to_resolution": as_number(mean(figures.resolution_days)),
        "median_days_to_resolution": as_number(median(figures.resolution_days)),
        "documentation_complete": figures.documentation_complete,
        "documentation_checked": figures.documented_closed,
        "documentation_completeness_pct": _percent(
            ratio(figures.documentation_complete, figures.documented_closed)
        ),
        "escalations_by_cause": _causes(causes),
        "satisfaction": _satisfaction(figures.satisfaction),
    }


async def case_kpis(conn: asyncpg.Connection, period: Period) -> dict[str, Any]:
    """The department's case KPIs, with every escalation by origin and what it named."""
    zone = _zone()
    figures = (await q.case_figures(conn, period, KpiGroup.all, zone)).get(q.ALL, q.EMPTY_CASES)
    causes = (await q.escalations_by_cause(conn, period, KpiGroup.all)).get(q.ALL, {})
    return {
        **_cases(figures, causes),
        "escalations_by_origin": await q.escalations_by_origin(conn, period),
        "satisfaction_comments": await q.satisfaction_comments(conn, period, zone),
    }


async def billing_accuracy(
    conn: asyncpg.Connection, period: Period, currency: str
) -> dict[str, Any]:
    """Share of the period's invoices that a case had billing correct or credit, by the
    case's root cause: the billing-accuracy compliance figure."""
    issued, corrected, by_cause = await q.billing_accuracy(conn, period, currency)
    return {
        "invoices_issued": issued,
        "invoices_corrected": corrected,
        "corrected_pct": _percent(ratio(corrected, issued)),
        "accuracy_pct": _percent(ratio(issued - corrected, issued)),
        "by_root_cause": [
            {
                "code": c.code,
                "name": c.name,
                "invoices": c.invoices,
                "amount_minor": c.amount_minor,
                "share_pct": _percent(ratio(c.invoices, issued)),
            }
            for c in by_cause
        ],
    }


def _period(period: Period) -> dict[str, Any]:
    return {"start": period.start, "end": period.end, "days": period.days}


async def kpi_report(conn: asyncpg.Connection, query: KpiQuery) -> dict[str, Any]:
    return {
        "period": _period(query.period),
        "requested_period": _period(query.requested) if query.requested else None,
        "currency": query.currency,
        "group_by": query.group.value,
        "groups": await group_kpis(conn, query),
        "cases": await case_kpis(conn, query.period),
        "billing_accuracy": await billing_accuracy(conn, query.period, query.currency),
    }
