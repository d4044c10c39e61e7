"""KPIs over HTTP: every KPI of docs/architecture.md#metrics for a period, per collector,
team or all."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from receivables_platform.business_dates import BusinessDate, business_dates
from receivables_platform.money import CurrencyCode
from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.connection import pooled
from receivables_platform.web.problems import Problem, problem_type
from reporting_service.adapters.kpi_query import KpiGroup
from reporting_service.api.responses import KpiReport
from reporting_service.clock import today
from reporting_service.domain.kpis import (
    InvalidPeriod,
    Period,
    PeriodNotStarted,
    PeriodOutOfRange,
    parse_period,
    within,
)
from reporting_service.service_layer.kpis import (
    DEFAULT_ATTRIBUTION_WINDOW_DAYS,
    KpiQuery,
    kpi_report,
)

router = APIRouter(prefix="/v1/kpis", tags=["kpis"])
READERS = require_roles("collector", "case_agent", "supervisor", "integration", "admin")


def business_period(period: Period, field: str) -> Period:
    """The period when it lies within the business dates; else a 422 naming `field`."""
    settings = business_dates()
    try:
        return within(period, settings.earliest, settings.latest)
    except PeriodOutOfRange as exc:
        raise Problem(
            422, "Period out of range", str(exc), type=problem_type("out-of-range"), field=field
        ) from exc


def period_from(period: str | None, start: date | None, end: date | None) -> Period:
    """`period` (2026-W47, 2026-11, 2026-11-20) or `from` and `to`; a 400 names the input.

    `from` and `to` are business dates already (a 422 when they are not); a `period`
    that is a real week, month or day outside them is a 422 too.
    """
    try:
        if period is not None:
            return business_period(parse_period(period), "query.period")
        if start is not None and end is not None:
            return Period(start, end)
    except InvalidPeriod as exc:
        raise Problem(
            400,
            "Invalid period",
            str(exc),
            field="query.period" if period is not None else "query.to",
        ) from exc
    raise Problem(
        400,
        "Missing period",
        "give period=2026-W47 (or a month or a day), or both from and to",
        field="query.period",
    )


@router.get("")
async def kpis(
    request: Request,
    currency: Annotated[CurrencyCode, Query(description="KPIs are for one currency at a time")],
    period: Annotated[str | None, Query(description="2026-W47, 2026-11 or 2026-11-20")] = None,
    start: Annotated[BusinessDate | None, Query(alias="from")] = None,
    end: Annotated[BusinessDate | None, Query(alias="to")] = None,
    group_by: KpiGroup = KpiGroup.all,
    attribution_window_days: Annotated[
        int, Query(ge=0, le=365, description="Collections secured: days after a contact or promise")
    ] = DEFAULT_ATTRIBUTION_WINDOW_DAYS,
    _: Principal = Depends(READERS),
) -> KpiReport:
    """Each KPI per group (collections and cases: a case counts for its owner and the
    owner's team), the department's case KPIs and billing accuracy. A period that runs
    past today is reported up to today; `requested_period` then says what was asked."""
    try:
        query = KpiQuery.up_to_today(
            period_from(period, start, end),
            today(request),
            currency,
            group_by,
            attribution_window_days,
        )
    except PeriodNotStarted as exc:
        raise Problem(
            422,
            "Period not started",
            str(exc),
            type=problem_type("out-of-range"),
            field="query.period" if period is not None else "query.from",
        ) from exc
    async with pooled(request) as conn:
        return KpiReport.model_validate(await kpi_report(conn, query))
