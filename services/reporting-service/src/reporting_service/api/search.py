"""Search over HTTP: one box for whatever the customer on the phone reads out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.connection import pooled
from receivables_platform.web.problems import Problem
from reporting_service.api.responses import SearchResults
from reporting_service.domain.search import MAX_LENGTH, InvalidQuery, read_query
from reporting_service.service_layer.search import search as run_search

router = APIRouter(tags=["search"])
READERS = require_roles("collector", "case_agent", "supervisor", "integration", "admin")


@router.get("/v1/search")
async def search(
    request: Request,
    q: Annotated[
        str,
        Query(
            max_length=4 * MAX_LENGTH,
            description="2 to 200 characters: a name (typos allowed), an "
            "external id, an invoice or case number, an email "
            "or a phone number",
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    principal: Principal = Depends(READERS),
) -> SearchResults:
    """Accounts, invoices, cases and contacts, best match first; contacts (personal data)
    only for people, not for integrations."""
    try:
        query = read_query(q)
    except InvalidQuery as exc:
        raise Problem(422, "Invalid search", str(exc), field="query.q") from exc
    async with pooled(request) as conn:
        results = await run_search(conn, query, principal.roles, limit)
    return SearchResults.model_validate(
        {
            "query": query.text,
            "results": [
                {
                    key: row[key]
                    for key in ("kind", "id", "account_id", "title", "subtitle", "score")
                }
                for row in results
            ],
        }
    )
