"""KPIs over HTTP: every DESIGN.md section 6 KPI for a period, per collector, team or all."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from receivables_platform.money import CurrencyCode
from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.connection import pooled
from receivables_platform.web.problems import Problem
from reporting_service.adapters.kpi_query import KpiGroup
from reporting_service.domain.kpis import InvalidPeriod, Period, parse_period
from reporting_service.service_layer.kpis import (
    DEFAULT_ATTRIBUTION_WINDOW_DAYS,
    KpiQuery,
    kpi_report,
)

router = APIRouter(prefix="/v1/kpis", tags=["kpis"])
READERS = require_roles("collector", "case_agent", "supervisor", "integration", "admin")


EARLIEST, LATEST = date(1900, 1, 1), date(9000, 12, 31)


def period_from(period: str | None, start: date | None, end: date | None) -> Period:
    """`period` (2026-W47, 2026-11, 2026-11-20) or `from` and `to`; a 400 names the input."""
    try:
        if period is not None:
            return parse_period(period)
        if start is not None and end is not None:
            for name, day in (("from", start), ("to", end)):
                # reports compare with the period before; keep both inside the calendar
                if not EARLIEST <= day <= LATEST:
                    raise Problem(400, "Invalid period", f"{name} must be between "
                                  f"{EARLIEST} and {LATEST}", field=f"query.{name}")
            return Period(start, end)
    except InvalidPeriod as exc:
        raise Problem(400, "Invalid period", str(exc),
                      field="query.period" if period is not None else "query.to") from exc
    raise Problem(400, "Missing period", "give period=2026-W47 (or a month or a day), "
                  "or both from and to", field="query.period")


@router.get("")
async def kpis(
    request: Request,
    currency: Annotated[CurrencyCode, Query(description="KPIs are for one currency at a time")],
    period: Annotated[str | None, Query(description="2026-W47, 2026-11 or 2026-11-20")] = None,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    group_by: KpiGroup = KpiGroup.all,
    attribution_window_days: Annotated[int, Query(
        ge=0, le=365, description="Collections secured: days after a contact or promise")
    ] = DEFAULT_ATTRIBUTION_WINDOW_DAYS,
    _: Principal = Depends(READERS),
) -> dict[str, Any]:
    query = KpiQuery(period_from(period, start, end), currency, group_by,
                     attribution_window_days)
    async with pooled(request) as conn:
        return await kpi_report(conn, query)
