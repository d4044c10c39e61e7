"""The supervisor's view: the team's KPIs and aging, the trend, overdue escalations, and
the weekly review, as reporting and case-service compute them.

The console computes nothing itself: each figure is the service's, so the
screen and the reports a supervisor exports never disagree. Aging drills from
a bucket to the accounts with money in it, and from an account to its invoices.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from console_service.adapters import billing, cases, reporting
from console_service.adapters.platform_api import PlatformApi, Refused, Unreachable
from console_service.i18n import N_
from console_service.web import Api, Render, SignedIn, check_csrf
from receivables_platform.web.etag import etag

router = APIRouter()
Currency = Annotated[str, Query(pattern=r"^[A-Z]{3}$")]
Week = Annotated[str | None, Query(pattern=r"^[0-9]{4}-W[0-9]{2}$")]
Bucket = Annotated[str | None, Query(pattern=r"^(current|[0-9]{1,4}-[0-9]{1,4}|[0-9]{1,4}\+)$")]


def this_week() -> str:
    year, week, _ = date.today().isocalendar()
    return f"{year}-W{week:02d}"


async def _part(call: Any) -> tuple[Any, Refused | None]:
    """One part of a page: its answer, or the service's refusal shown in its place."""
    try:
        return await call, None
    except Refused as refused:
        return None, refused
    except Unreachable:
        return None, Refused(503, "Service unavailable", "")


@router.get("/supervisor")
async def supervisor(
    request: Request,
    person: SignedIn,
    api: Api,
    pages: Render,
    currency: Currency = "USD",
    week: Week = None,
) -> Response:
    week = week or this_week()
    token = person.token
    aging, aging_refused = await _part(
        reporting.aging(api, token, currency=currency, group_by="collector")
    )
    collectors, kpi_refused = await _part(
        reporting.kpis(api, token, currency=currency, period=week, group_by="collector")
    )
    teams, _ = await _part(
        reporting.kpis(api, token, currency=currency, period=week, group_by="team")
    )
    trend, trend_refused = await _part(reporting.trend(api, token, currency=currency, period=week))
    overdue, _ = await _part(cases.overdue_escalations(api, token))
    unassigned, _ = await _part(_unassigned(api, token))
    return pages.render(
        request,
        "supervisor.html",
        currency=currency,
        week=week,
        aging=aging,
        collectors=collectors,
        teams=teams,
        trend=trend,
        overdue=overdue or [],
        unassigned=unassigned,
        refused=aging_refused or kpi_refused or trend_refused,
    )


async def _unassigned(api: PlatformApi, token: str) -> int:
    found = await cases.find(api, token, open="true", limit=200)
    return sum(1 for c in found if not c.get("owner_id"))


@router.get("/supervisor/aging")
async def aging_drill(
    request: Request,
    person: SignedIn,
    api: Api,
    pages: Render,
    currency: Currency = "USD",
    bucket: Bucket = None,
    collector_id: Annotated[str | None, Query(max_length=200)] = None,
    account_id: UUID | None = None,
) -> Response:
    """A bucket's accounts (largest first), or one account's invoices."""
    group_by = "invoice" if account_id else "account"
    report, refused = await _part(
        reporting.aging(
            api,
            person.token,
            currency=currency,
            group_by=group_by,
            collector_id=collector_id,
            account_id=account_id,
            limit=1000,
        )
    )
    rows = (report or {}).get("rows", [])
    if bucket and report and bucket not in report["buckets"]:
        refused = Refused(422, "Invalid bucket", "", {"bucket": "Not a bucket of this report"})
        rows = []
    elif bucket:
        rows = sorted(
            (r for r in rows if r["buckets"].get(bucket)), key=lambda r: -r["buckets"][bucket]
        )
    return pages.render(
        request,
        "aging.html",
        status_code=refused.status if refused else 200,
        currency=currency,
        bucket=bucket,
        collector_id=collector_id,
        account_id=account_id,
        report=report,
        rows=rows[:200],
        refused=refused,
    )


@router.get("/supervisor/weekly-review")
async def weekly_review(
    request: Request,
    person: SignedIn,
    api: Api,
    pages: Render,
    currency: Currency = "USD",
    week: Week = None,
) -> Response:
    week = week or this_week()
    review, refused = await _part(
        reporting.weekly_review(api, person.token, week=week, currency=currency)
    )
    return pages.render(
        request, "weekly_review.html", currency=currency, week=week, review=review, refused=refused
    )


async def _approvals_page(
    request: Request,
    api: PlatformApi,
    pages: Render,
    token: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    pending, refused = await _part(billing.pending_approvals(api, token))
    return pages.render(
        request,
        "approvals.html",
        status_code=status_code,
        approvals=pending or [],
        etag=etag,
        **({"refused": refused} | context),
    )


@router.get("/supervisor/approvals")
async def approvals(request: Request, person: SignedIn, api: Api, pages: Render) -> Response:
    """Credits and write-offs over their threshold, the longest waiting first."""
    return await _approvals_page(request, api, pages, person.token)


@router.post("/supervisor/approvals/{approval_id}/{decision}", dependencies=[Depends(check_csrf)])
async def decide(
    request: Request,
    approval_id: UUID,
    decision: Annotated[Literal["approve", "reject"], Path()],
    person: SignedIn,
    api: Api,
    pages: Render,
) -> Response:
    """Billing keeps four eyes: a supervisor deciding their own request gets its 403,
    shown on the page beside that approval rather than as an error page."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    reason = form.get("reason", "").strip()
    try:
        if decision == "reject" and not reason:
            raise Refused(
                422, N_("Invalid request"), "", {"reason": N_("Say why the approval is rejected")}
            )
        await billing.decide_approval(
            api,
            person.token,
            approval_id,
            approve=decision == "approve",
            reason=reason,
            version=form.get("version", ""),
        )
    except Refused as refused:
        status = 409 if refused.stale else 403 if refused.status == 403 else 422
        return await _approvals_page(
            request,
            api,
            pages,
            person.token,
            status_code=status,
            refused=refused,
            failed=str(approval_id),
            values=form,
        )
    done = N_("Approved") if decision == "approve" else N_("Rejected")
    return await _approvals_page(request, api, pages, person.token, notice=done)
