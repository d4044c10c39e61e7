"""Aging snapshots and the aging trend over HTTP."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from receivables_platform.business_dates import BusinessDate
from receivables_platform.money import CurrencyCode
from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.bodies import RequestBody
from receivables_platform.web.connection import pooled
from receivables_platform.web.problems import Problem
from reporting_service.api.kpis import period_from
from reporting_service.api.responses import AgingTrend
from reporting_service.clock import today
from reporting_service.service_layer.snapshots import (
    DayNotOver,
    InvalidRange,
    aging_trend,
    backfill,
    snapshot_day,
)

router = APIRouter(prefix="/v1/aging", tags=["aging"])
READERS = require_roles("collector", "case_agent", "supervisor", "integration", "admin")
OPERATORS = require_roles("supervisor", "integration", "admin")


class SnapshotRequest(RequestBody):
    date: BusinessDate


class SnapshotTaken(BaseModel):
    date: date
    created: bool
    rows: int
    totals_minor: dict[str, int]


@router.post(
    "/snapshots",
    response_model=SnapshotTaken,
    status_code=201,
    responses={200: {"model": SnapshotTaken, "description": "Taken before; unchanged"}},
)
async def take_snapshot(
    request: Request, response: Response, body: SnapshotRequest, _: Principal = Depends(OPERATORS)
) -> SnapshotTaken:
    """Take the end-of-day snapshot of a finished day; idempotent per date (200 when it
    existed, nothing changed)."""
    try:
        async with pooled(request) as conn:
            run = await snapshot_day(conn, body.date, today(request))
    except DayNotOver as exc:
        raise Problem(409, "Day not over", str(exc), field="body.date") from exc
    if not run.created:
        response.status_code = 200
    return SnapshotTaken(
        date=run.snapshot_date, created=run.created, rows=run.rows, totals_minor=run.totals_minor
    )


class BackfillRequest(RequestBody):
    start: BusinessDate = Field(alias="from")
    end: BusinessDate = Field(alias="to")


class BackfillTaken(BaseModel):
    taken: list[SnapshotTaken] = Field(description="Days snapshotted (or retaken) now")
    kept: list[date] = Field(description="Days that had a snapshot already, left as they were")


@router.post("/snapshots/backfill", response_model=BackfillTaken)
async def backfill_snapshots(
    request: Request, body: BackfillRequest, _: Principal = Depends(OPERATORS)
) -> BackfillTaken:
    """Snapshot every finished day of a range from the dated history in the read model
    (after go-live, or after a replay); idempotent: days already taken are kept."""
    try:
        async with pooled(request) as conn:
            runs = await backfill(conn, body.start, body.end, today(request))
    except DayNotOver as exc:
        raise Problem(409, "Day not over", str(exc), field="body.to") from exc
    except InvalidRange as exc:
        raise Problem(422, "Invalid range", str(exc), field="body.to") from exc
    return BackfillTaken(
        taken=[
            SnapshotTaken(
                date=r.snapshot_date, created=r.created, rows=r.rows, totals_minor=r.totals_minor
            )
            for r in runs
            if r.created
        ],
        kept=[r.snapshot_date for r in runs if not r.created],
    )


@router.get("/trend")
async def trend(
    request: Request,
    currency: CurrencyCode,
    period: Annotated[str | None, Query(description="2026-W47, 2026-11 or 2026-11-20")] = None,
    start: Annotated[BusinessDate | None, Query(alias="from")] = None,
    end: Annotated[BusinessDate | None, Query(alias="to")] = None,
    collector_id: Annotated[str | None, Query(max_length=200)] = None,
    segment: Annotated[str | None, Query(max_length=64)] = None,
    _: Principal = Depends(READERS),
) -> AgingTrend:
    """Past-due and 61+ balances from the daily snapshots, this period against the last."""
    async with pooled(request) as conn:
        return AgingTrend.model_validate(
            await aging_trend(
                conn, currency, period_from(period, start, end), collector_id, segment
            )
        )
