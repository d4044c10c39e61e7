"""Portfolios and accounts: rules, assignment, a collector's accounts, one account's view."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from collections_service.adapters import queries, reads
from collections_service.api.common import (
    READERS,
    CollectorQuery,
    Conn,
    IfMatch,
    Manager,
    Rt,
    Staff,
    own_or_overseer,
    trace,
)
from collections_service.api.models import (
    AccountSummary,
    AccountView,
    ApplyRulesRequest,
    AssignRequest,
    InvoiceView,
    PortfolioPage,
    RuleHistory,
    RuleHistoryEntry,
    RuleRequest,
    RuleResponse,
)
from collections_service.api.refusals import RefusalRoute
from collections_service.domain.portfolios import Rule
from collections_service.service_layer import portfolios
from receivables_platform.web.etag import set_etag
from receivables_platform.web.idempotency import IdempotentRequest
from receivables_platform.web.pages import CursorQuery, decode_cursor, page_of

router = APIRouter(tags=["portfolios"], route_class=RefusalRoute)


@router.post("/v1/portfolio-rules", status_code=201, response_model=RuleResponse)
async def add_rule(body: RuleRequest, principal: Manager, idem: IdempotentRequest) -> Response:
    """Accounts whose segment and open balance fit go to the collector (lowest rank first)."""
    row = await portfolios.add_rule(idem.conn, _rule(body), by=principal.sub)
    return await idem.respond(
        RuleResponse.model_validate(dict(row)),
        status_code=201,
        version=row["version"],
        headers={"Location": f"/v1/portfolio-rules/{row['rule_id']}"},
    )


@router.get(
    "/v1/portfolio-rules/{rule_id}", response_model=RuleResponse, dependencies=[Depends(READERS)]
)
async def read_rule(rule_id: UUID, response: Response, conn: Conn) -> RuleResponse:
    """One portfolio rule; the ETag is its version for the next change."""
    row = await portfolios.get_rule(conn, rule_id)
    set_etag(response, row["version"])
    return RuleResponse.model_validate(dict(row))


@router.put("/v1/portfolio-rules/{rule_id}", response_model=RuleResponse)
async def replace_rule(
    rule_id: UUID,
    body: RuleRequest,
    response: Response,
    conn: Conn,
    principal: Manager,
    if_match: IfMatch,
) -> RuleResponse:
    """Change a rule (If-Match its ETag); accounts move on the next rules run, not now."""
    row = await portfolios.replace_rule(
        conn, rule_id, _rule(body), if_match.check, by=principal.sub
    )
    set_etag(response, row["version"])
    return RuleResponse.model_validate(dict(row))


@router.delete("/v1/portfolio-rules/{rule_id}", status_code=204)
async def remove_rule(rule_id: UUID, conn: Conn, principal: Manager, if_match: IfMatch) -> Response:
    """Retire a rule (If-Match its ETag); the accounts it gave out keep their collector."""
    await portfolios.remove_rule(conn, rule_id, if_match.check, by=principal.sub)
    return Response(status_code=204)


@router.get(
    "/v1/portfolio-rules/{rule_id}/history",
    response_model=RuleHistory,
    dependencies=[Depends(READERS)],
)
async def rule_history(rule_id: UUID, conn: Conn) -> RuleHistory:
    """Who added, changed or retired the rule and what it said each time, oldest first; kept
    after the rule is retired, so "why did this account move" can still be answered."""
    rows = await portfolios.rule_changes(conn, rule_id)
    return RuleHistory(
        rule_id=rule_id, entries=[RuleHistoryEntry.model_validate(dict(r)) for r in rows]
    )


def _rule(body: RuleRequest) -> Rule:
    return Rule(
        body.collector_id, body.rank, body.segment, body.min_balance_minor, body.max_balance_minor
    )


@router.get(
    "/v1/portfolio-rules", response_model=list[RuleResponse], dependencies=[Depends(READERS)]
)
async def rules(conn: Conn) -> list[RuleResponse]:
    """Every portfolio rule, in the order they assign unassigned accounts to collectors."""
    rows = await reads.portfolio_rules(conn)
    return [RuleResponse.model_validate(dict(r)) for r in rows]


class RulesApplied(BaseModel):
    accounts_assigned: int = Field(description="Accounts the rules gave a collector now")


@router.post("/v1/portfolio-rules/apply")
async def apply_rules(
    body: ApplyRulesRequest, request: Request, conn: Conn, rt: Rt, principal: Manager
) -> RulesApplied:
    """Assign every account nobody has by the rules (and rule-assigned ones on `rebalance`)."""
    count = await portfolios.apply_rules(
        conn,
        by=principal.sub,
        today=rt.clock.today(),
        rebalance=body.rebalance,
        correlation_id=trace(request),
    )
    return RulesApplied(accounts_assigned=count)


@router.put("/v1/accounts/{account_id}/collector", response_model=AccountView)
async def assign(
    account_id: UUID,
    body: AssignRequest,
    request: Request,
    response: Response,
    conn: Conn,
    rt: Rt,
    principal: Manager,
    if_match: IfMatch,
) -> AccountView:
    """Give the account to a collector by hand (If-Match the account); its open tasks follow."""
    await portfolios.assign(
        conn,
        account_id,
        body.collector_id,
        by=principal.sub,
        today=rt.clock.today(),
        check=if_match.check,
        correlation_id=trace(request),
    )
    return await read_account(account_id, response, conn, rt)


@router.get("/v1/portfolio", response_model=PortfolioPage)
async def portfolio(
    conn: Conn,
    principal: Staff,
    collector_id: CollectorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: CursorQuery = None,
) -> PortfolioPage:
    """A collector's accounts by name (yours by default; supervisors and admins may name
    anyone), a page at a time."""
    who = collector_id or principal.sub
    own_or_overseer(principal, who, "query.collector_id")
    after = decode_cursor(cursor, str, UUID) if cursor else (None, None)
    rows = await queries.portfolio(conn, who, after, limit + 1)
    page, next_cursor = page_of(rows, limit, lambda r: (r["name"] or "", r["account_id"]))
    return PortfolioPage(
        items=[AccountSummary.model_validate(dict(r)) for r in page], next_cursor=next_cursor
    )


@router.get(
    "/v1/accounts/{account_id}", response_model=AccountView, dependencies=[Depends(READERS)]
)
async def read_account(account_id: UUID, response: Response, conn: Conn, rt: Rt) -> AccountView:
    """Balances as this service sees them, each open invoice's days past due and hold."""
    account = await queries.account_row(conn, account_id)
    today = rt.clock.today()
    invoices = [
        InvoiceView(
            invoice_id=r["invoice_id"],
            external_id=r["external_id"],
            due_date=r["due_date"],
            balance_minor=r["balance_minor"],
            past_due_minor=queries.open_invoice(r).past_due_minor(today),
            currency=r["currency"],
            days_past_due=max((today - r["due_date"]).days, 0),
            held=r["held"],
            paused_until=r["paused_until"]
            if r["paused_until"] is not None and r["paused_until"] >= today
            else None,
        )
        for r in await queries.open_invoices(conn, account_id)
    ]
    situation = await queries.situation(conn, account_id, today)
    past_due = [i for i in invoices if i.days_past_due > 0]
    set_etag(response, account["version"])
    return AccountView(
        account_id=account_id,
        name=account["name"],
        segment=account["segment"],
        currency=account["currency"],
        collector_id=account["collector_id"],
        autopay=account["autopay"],
        at_risk_since=account["at_risk_since"],
        open_balance_minor=sum(i.balance_minor for i in invoices),
        past_due_minor=sum(i.past_due_minor for i in past_due),
        days_past_due=max((i.days_past_due for i in past_due), default=0),
        paused_until=situation.paused_until,
        invoices=invoices,
        version=account["version"],
    )
