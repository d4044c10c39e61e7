"""The KPI report: every KPI of docs/architecture.md#metrics for one period and currency,
per group.

Collections KPIs are per collector or team (group `all` for the whole
department); case KPIs are for the department, since cases belong to case
agents rather than collectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

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

DEFAULT_ATTRIBUTION_WINDOW_DAYS = 14


@dataclass(frozen=True)
class KpiQuery:
    period: Period
    currency: str
    group: KpiGroup = KpiGroup.all
    attribution_window_days: int = DEFAULT_ATTRIBUTION_WINDOW_DAYS


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


async def group_kpis(conn: asyncpg.Connection, query: KpiQuery) -> list[dict[str, Any]]:
    period, group = query.period, query.group
    ar = await q.ar_figures(conn, period, query.currency, group)
    cadence = await q.cadence(conn, period, group)
    promises = await q.promises(conn, period, query.currency, group)
    secured = await q.collections_secured(conn, period, query.currency, group,
                                          query.attribution_window_days)
    autopay = await q.autopay(conn, period, group)
    timeliness = await q.follow_up_timeliness(conn, period, group)
    keys = sorted(set(ar) | set(cadence) | set(promises) | set(secured) | set(timeliness))
    return [_row(key, query, _Figures(
        ar=ar.get(key, ArFigures(0, 0, 0, 0)), tasks=cadence.get(key, q.Counted(0, 0)),
        promises=promises.get(key, PromiseFigures(0, 0, 0, 0, 0)),
        secured=secured.get(key, q.Secured(0, 0)),
        autopay=autopay.get(key, q.AutoPayFigures(0, 0, 0, 0, 0)),
        timeliness=timeliness.get(key, {}))) for key in keys]


def _row(key: str, query: KpiQuery, f: _Figures) -> dict[str, Any]:
    kpis = ar_kpis(f.ar, query.period.days)
    return {
        "key": key,
        "ar": {"opening_ar_minor": f.ar.opening_ar, "credit_sales_minor": f.ar.credit_sales,
               "closing_ar_minor": f.ar.closing_ar,
               "closing_current_ar_minor": f.ar.closing_current_ar},
        "dso": as_number(kpis.dso), "best_possible_dso": as_number(kpis.best_possible_dso),
        "add": as_number(kpis.add), "cei": as_number(kpis.cei),
        "cadence": {"completed": f.tasks.done, "due": f.tasks.of,
                    "completion_pct": _percent(cadence_completion(f.tasks.done, f.tasks.of))},
        "collections_secured": {"payments": f.secured.payments,
                                "amount_minor": f.secured.amount_minor,
                                "attribution_window_days": query.attribution_window_days},
        "promises": _promises(f.promises),
        "autopay": _autopay(f.autopay),
        "follow_up_timeliness": _timeliness(f.timeliness),
    }


def _promises(p: PromiseFigures) -> dict[str, Any]:
    return {"kept": p.kept, "partially_kept": p.partially_kept, "broken": p.broken,
            "promised_minor": p.promised_minor, "paid_minor": p.paid_minor,
            "kept_rate_by_count_pct": _percent(promise_kept_rate_by_count(p)),
            "kept_rate_by_amount_pct": _percent(promise_kept_rate_by_amount(p))}


def _autopay(a: q.AutoPayFigures) -> dict[str, Any]:
    return {"not_on_autopay_at_start": a.not_on_autopay_at_start,
            "enrolled_in_period": a.enrolled_in_period,
            "conversion_pct": _percent(autopay_conversion(a.enrolled_in_period,
                                                          a.not_on_autopay_at_start)),
            "on_autopay_at_end": a.on_autopay_at_end, "accounts_at_end": a.accounts_at_end,
            "penetration_pct": _percent(autopay_penetration(a.on_autopay_at_end,
                                                            a.accounts_at_end)),
            "offers_converted": a.offers_converted}


def _timeliness(t: dict[str, q.Counted]) -> dict[str, Any]:
    tasks = t.get("tasks", q.Counted(0, 0))
    answers = t.get("escalation_answers", q.Counted(0, 0))
    return {"tasks_on_time": tasks.done, "tasks_due": tasks.of,
            "escalation_answers_on_time": answers.done, "escalation_answers_due": answers.of,
            "on_time_pct": _percent(ratio(tasks.done + answers.done, tasks.of + answers.of))}


async def case_kpis(conn: asyncpg.Connection, period: Period) -> dict[str, Any]:
    figures = await q.case_figures(conn, period)
    return {
        "opened": figures.opened, "closed": figures.closed,
        "investigations_completed": figures.investigations_completed,
        "open_over_14_days": figures.open_over_14_days,
        "mean_days_to_resolution": as_number(mean(figures.resolution_days)),
        "median_days_to_resolution": as_number(median(figures.resolution_days)),
        "documentation_complete": figures.documentation_complete,
        "documentation_checked": figures.documented_closed,
        "documentation_completeness_pct": _percent(
            ratio(figures.documentation_complete, figures.documented_closed)),
        "escalations_by_cause": figures.escalations_by_cause,
    }


async def kpi_report(conn: asyncpg.Connection, query: KpiQuery) -> dict[str, Any]:
    return {"period": {"start": query.period.start, "end": query.period.end,
                       "days": query.period.days},
            "currency": query.currency, "group_by": query.group.value,
            "groups": await group_kpis(conn, query), "cases": await case_kpis(conn, query.period)}
