"""The weekly root-cause review over HTTP: JSON, CSV, an HTML page with charts, and PNGs."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from receivables_platform.money import CurrencyCode
from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.connection import pooled
from receivables_platform.web.problems import Problem
from reporting_service.adapters import charts
from reporting_service.api.kpis import business_period
from reporting_service.api.responses import WeeklyReview
from reporting_service.domain.kpis import InvalidPeriod, iso_week
from reporting_service.domain.review import DEFAULT_SOP_THRESHOLD
from reporting_service.service_layer.kpis import DEFAULT_ATTRIBUTION_WINDOW_DAYS
from reporting_service.service_layer.weekly_review import (
    default_currency,
    review_csv,
    review_html,
    weekly_review,
)

router = APIRouter(prefix="/v1/reports", tags=["reports"])
READERS = require_roles("supervisor", "integration", "admin", "collector", "case_agent")


class Format(StrEnum):
    json = "json"
    csv = "csv"
    html = "html"


_MEDIA = {"text/csv": Format.csv, "text/html": Format.html, "application/json": Format.json}


def _format(requested: Format | None, accept: str | None) -> Format:
    """`format=` wins; otherwise the first Accept media type we can produce; JSON by default."""
    if requested is not None:
        return requested
    for part in (accept or "").split(","):
        media = part.split(";")[0].strip().lower()
        if media in _MEDIA:
            return _MEDIA[media]
    return Format.json


async def _review(
    request: Request, week: str, currency: str | None, sop_threshold: int, window: int
) -> dict[str, Any]:
    try:
        business_period(iso_week(week), "query.week")
    except InvalidPeriod as exc:
        raise Problem(400, "Invalid week", str(exc), field="query.week") from exc
    async with pooled(request) as conn:
        chosen = currency or await default_currency(conn)
        return await weekly_review(conn, week, chosen, sop_threshold, window)


Week = Annotated[str, Query(description="ISO week, e.g. 2026-W47")]
Currency = Annotated[
    CurrencyCode | None, Query(description="Default: the currency most invoices are in")
]
Threshold = Annotated[
    int,
    Query(
        ge=1,
        le=1000,
        description=("Closed cases of one root cause in the week that make it an SOP candidate"),
    ),
]
Window = Annotated[int, Query(ge=0, le=365)]


@router.get(
    "/weekly-review",
    response_model=WeeklyReview,
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
            }
        }
    },
)
async def weekly_review_report(
    request: Request,
    week: Week,
    currency: Currency = None,
    format: Annotated[Format | None, Query(description="json, csv or html; or use Accept")] = None,
    sop_threshold: Threshold = DEFAULT_SOP_THRESHOLD,
    attribution_window_days: Window = DEFAULT_ATTRIBUTION_WINDOW_DAYS,
    _: Principal = Depends(READERS),
) -> Response:
    """The weekly root-cause review of an ISO week against the week before: aging trend, root-
    cause Pareto by count and amount, SOP candidates, KPI table and escalations; JSON, CSV
    or an HTML page with charts (`format`, or Accept)."""
    review = await _review(request, week, currency, sop_threshold, attribution_window_days)
    chosen = _format(format, request.headers.get("accept"))
    if chosen is Format.csv:
        return Response(
            review_csv(review),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="weekly-review-{week}.csv"'},
        )
    if chosen is Format.html:
        return HTMLResponse(review_html(review))
    return JSONResponse(WeeklyReview.model_validate(review).model_dump(mode="json"))


@router.get(
    "/weekly-review/charts/{chart}.png",
    responses={200: {"content": {"image/png": {}}}},
    response_class=Response,
)
async def weekly_review_chart(
    request: Request,
    chart: str,
    week: Week,
    currency: Currency = None,
    sop_threshold: Threshold = DEFAULT_SOP_THRESHOLD,
    attribution_window_days: Window = DEFAULT_ATTRIBUTION_WINDOW_DAYS,
    _: Principal = Depends(READERS),
) -> Response:
    """One chart of the weekly review as a PNG: the HTML page's images, for a slide or an
    email."""
    if chart not in charts.CHARTS:
        raise Problem(
            404, "No such chart", f"charts are {', '.join(charts.CHARTS)}", field="path.chart"
        )
    review = await _review(request, week, currency, sop_threshold, attribution_window_days)
    return Response(charts.render(chart, review), media_type="image/png")
