"""The account timeline over HTTP: everything that happened to one account, newest first."""

from __future__ import annotations

import json
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from receivables_platform.envelope import time_text
from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.connection import pooled
from receivables_platform.web.problems import Problem
from reporting_service.adapters.timeline_query import account_known, timeline
from reporting_service.api.responses import AccountTimeline
from reporting_service.domain.timeline import (
    KINDS,
    After,
    InvalidCursor,
    decode_cursor,
    encode_cursor,
)

router = APIRouter(tags=["accounts"])
READERS = require_roles("collector", "case_agent", "supervisor", "integration", "admin")


@router.get("/v1/accounts/{account_id}/timeline")
async def account_timeline(
    request: Request,
    account_id: UUID,
    kind: Annotated[
        list[str] | None,
        Query(max_length=len(KINDS), description=f"repeatable; any of {', '.join(KINDS)}"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=1000, description="next_cursor of the page before")
    ] = None,
    _: Principal = Depends(READERS),
) -> AccountTimeline:
    """Invoices, payments, adjustments, calls, emails and letters with their outcomes,
    promises and their fate, holds, auto-pay and every step of the account's cases."""
    unknown = sorted(set(kind or ()) - set(KINDS))
    if unknown:
        raise Problem(
            422,
            "Unknown kind",
            f"kind must be among {', '.join(KINDS)}; "
            f"got {', '.join(repr(k[:50]) for k in unknown)}",
            field="query.kind",
        )
    try:
        after = decode_cursor(cursor) if cursor is not None else None
    except InvalidCursor as exc:
        raise Problem(422, "Invalid cursor", str(exc), field="query.cursor") from exc
    async with pooled(request) as conn:
        if not await account_known(conn, account_id):
            raise Problem(
                404,
                "Account not found",
                f"nothing has been recorded about account {account_id}",
                field="path.account_id",
            )
        rows = await timeline(
            conn, account_id, sorted(set(kind)) if kind else None, after, limit + 1
        )
    page, more = rows[:limit], len(rows) > limit
    return AccountTimeline.model_validate(
        {
            "account_id": str(account_id),
            "entries": [
                {
                    "at": time_text(r["at"]),
                    "kind": r["kind"],
                    "title": r["title"],
                    "detail": json.loads(r["detail"]),
                    "event_id": r["event_id"],
                }
                for r in page
            ],
            "next_cursor": encode_cursor(After(page[-1]["at"], page[-1]["entry_id"]))
            if more
            else None,
        }
    )
