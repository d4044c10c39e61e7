"""Account summary for the collector console, and which team a collector works in."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field

from receivables_platform.business_dates import BusinessDate
from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.bodies import RequestBody
from receivables_platform.web.connection import pooled
from receivables_platform.web.problems import Problem
from reporting_service.adapters import account_query as q
from reporting_service.adapters.aging_query import AgingFilter, GroupBy, aging
from reporting_service.api.responses import AccountSummary, CollectorTeam
from reporting_service.clock import today
from reporting_service.domain.aging import buckets

router = APIRouter(tags=["accounts"])
READERS = require_roles("collector", "case_agent", "supervisor", "integration", "admin")
SUPERVISORS = require_roles("supervisor", "admin")


@router.get("/v1/accounts/{account_id}/summary")
async def account_summary(
    request: Request,
    account_id: UUID,
    as_of: Annotated[
        BusinessDate | None, Query(description="Business date; default today (TEAM_TIMEZONE)")
    ] = None,
    _: Principal = Depends(READERS),
) -> AccountSummary:
    """Balance and aging buckets per currency, last contact, open promises, open cases and
    the collector, in one call."""
    day = as_of or today(request)
    async with pooled(request) as conn:
        profile = await q.account_profile(conn, account_id)
        if profile is None:
            raise Problem(
                404,
                "Account not found",
                f"no billing account {account_id} has been projected",
                field="path.account_id",
            )
        balances = await aging(
            conn, AgingFilter(as_of=day, account_id=account_id), GroupBy.account, buckets()
        )
        return AccountSummary.model_validate(
            {
                **profile,
                "as_of": day,
                "balances": [
                    {k: v for k, v in row.items() if k != "account_id"} for row in balances
                ],
                "last_contact": await q.last_contact(conn, account_id),
                "open_promises": await q.open_promises(conn, account_id),
                "open_cases": await q.open_cases(conn, account_id),
            }
        )


class TeamAssignment(RequestBody):
    team: str = Field(min_length=1, max_length=200)


@router.put("/v1/collectors/{collector_id}/team", status_code=200)
async def set_collector_team(
    request: Request,
    body: TeamAssignment,
    collector_id: Annotated[str, Path(min_length=1, max_length=200)],
    _: Principal = Depends(SUPERVISORS),
) -> CollectorTeam:
    """Teams are not in any event: supervisors say who works in which team (KPIs by team)."""
    async with pooled(request) as conn:
        await q.set_team(conn, collector_id, body.team)
    return CollectorTeam(collector_id=collector_id, team=body.team)
