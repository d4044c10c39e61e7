"""AR aging over HTTP: any as-of date, grouped by invoice, account or currency."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from receivables_platform.business_dates import BusinessDate
from receivables_platform.money import CurrencyCode
from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.connection import pooled
from receivables_platform.web.problems import Problem
from reporting_service.adapters.aging_query import (
    AgingFilter,
    GroupBy,
    InvalidCursor,
    Page,
    aging,
    encode_cursor,
)
from reporting_service.clock import today
from reporting_service.domain.aging import (
    DEFAULT_UPPER_BOUNDS,
    InvalidBuckets,
    buckets,
    parse_bounds,
)

router = APIRouter(prefix="/v1/aging", tags=["aging"])
READERS = require_roles("collector", "case_agent", "supervisor", "integration", "admin")


class AgingRow(BaseModel):
    currency: str
    total_minor: int
    invoices: int
    buckets: dict[str, int]
    on_hold_minor: int
    in_dispute_minor: int
    on_hold_invoices: int
    in_dispute_invoices: int
    invoice_id: UUID | None = None
    account_id: UUID | None = None
    external_id: str | None = None
    due_date: date | None = None
    collector_id: str | None = None
    team: str | None = None
    segment: str | None = None


class AgingReport(BaseModel):
    as_of: date
    group_by: GroupBy
    buckets: list[str]
    rows: list[AgingRow]
    next_cursor: str | None = None


@router.get("", response_model=AgingReport, response_model_exclude_none=True)
async def aging_report(
    request: Request,
    as_of: Annotated[
        BusinessDate | None, Query(description="Business date; default today (TEAM_TIMEZONE)")
    ] = None,
    group_by: GroupBy = GroupBy.account,
    account_id: UUID | None = None,
    currency: Annotated[CurrencyCode | None, Query()] = None,
    collector_id: Annotated[str | None, Query(max_length=200)] = None,
    segment: Annotated[str | None, Query(max_length=64)] = None,
    team: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[
        int | None, Query(ge=1, le=1000, description="Page size (invoice and account)")
    ] = None,
    after: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    bucket_bounds: Annotated[
        str | None,
        Query(alias="buckets", description="Upper bounds in days past due, e.g. 0,30,60,90,120"),
    ] = None,
    _: Principal = Depends(READERS),
) -> AgingReport:
    """AR aging as of any business date, per invoice, account, collector, team, segment or
    currency, in configurable buckets of days past due; invoice and account pages by cursor."""
    try:
        bounds = parse_bounds(bucket_bounds) if bucket_bounds else DEFAULT_UPPER_BOUNDS
    except InvalidBuckets as exc:
        raise Problem(400, "Invalid buckets", str(exc), field="query.buckets") from exc
    all_buckets = buckets(bounds)
    flt = AgingFilter(
        as_of=as_of or today(request),
        account_id=account_id,
        currency=currency,
        collector_id=collector_id,
        segment=segment,
        team=team,
    )
    try:
        async with pooled(request) as conn:
            rows = await aging(conn, flt, group_by, all_buckets, Page(limit, after))
    except InvalidCursor as exc:
        raise Problem(400, "Invalid cursor", str(exc), field="query.after") from exc
    cursor = encode_cursor(group_by, rows[-1]) if rows and limit and len(rows) == limit else None
    return AgingReport(
        as_of=flt.as_of,
        group_by=group_by,
        buckets=[b.key for b in all_buckets],
        rows=[AgingRow(**row) for row in rows],
        next_cursor=cursor,
    )
