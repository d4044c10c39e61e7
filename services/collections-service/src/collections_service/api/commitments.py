"""Promises to pay: taken by collectors, judged by the service."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from collections_service.adapters import reads
from collections_service.api.common import (
    READERS,
    CollectorQuery,
    Conn,
    IfMatch,
    Rt,
    Staff,
    own_or_overseer,
    trace,
)
from collections_service.api.models import (
    CancelRequest,
    CommitmentPage,
    CommitmentRequest,
    CommitmentView,
)
from collections_service.api.refusals import RefusalRoute
from collections_service.service_layer import commitments
from receivables_platform.business_dates import BusinessDate
from receivables_platform.web.etag import set_etag
from receivables_platform.web.idempotency import IdempotentRequest
from receivables_platform.web.pages import CursorQuery, decode_cursor, page_of

router = APIRouter(tags=["commitments"], route_class=RefusalRoute)


@router.post("/v1/commitments", status_code=201, response_model=CommitmentView)
async def make(
    body: CommitmentRequest, request: Request, rt: Rt, principal: Staff, idem: IdempotentRequest
) -> Response:
    """Record a promise: amount > 0, a date not in the past, the account's open invoices.

    The account's cadence pauses until the promise is judged.
    """
    commitment_id = await commitments.make(
        idem.conn,
        commitments.NewCommitment(
            account_id=body.account_id,
            amount_minor=body.amount_minor,
            promised_date=body.promised_date,
            channel=body.channel,
            invoice_ids=tuple(body.invoice_ids),
            grace_days=body.grace_days,
            currency=body.currency,
            contact_id=body.contact_id,
            instalments=tuple((i.due_date, i.amount_minor) for i in body.instalments),
        ),
        rt.calendar,
        by=principal.sub,
        today=rt.clock.today(),
        now=rt.clock.now(),
        default_grace=rt.settings.grace_days,
        correlation_id=trace(request),
    )
    row = await commitments.get(idem.conn, commitment_id)
    return await idem.respond(
        CommitmentView.of(row),
        status_code=201,
        version=row["version"],
        headers={"Location": f"/v1/commitments/{commitment_id}"},
    )


@router.get("/v1/commitments", response_model=CommitmentPage)
async def open_of_collector(
    conn: Conn,
    principal: Staff,
    collector_id: CollectorQuery = None,
    due_before: BusinessDate | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: CursorQuery = None,
) -> CommitmentPage:
    """A collector's open promises (yours by default), promised before `due_before` if given,
    soonest first, a page at a time."""
    who = collector_id or principal.sub
    own_or_overseer(principal, who, "query.collector_id")
    after = decode_cursor(cursor, date.fromisoformat, UUID) if cursor else (None, None)
    rows = await reads.open_commitments(conn, who, due_before, after, limit + 1)
    page, next_cursor = page_of(rows, limit, lambda r: (r["promised_date"], r["commitment_id"]))
    return CommitmentPage(items=[CommitmentView.of(r) for r in page], next_cursor=next_cursor)


@router.get(
    "/v1/commitments/{commitment_id}",
    response_model=CommitmentView,
    dependencies=[Depends(READERS)],
)
async def read(commitment_id: UUID, response: Response, conn: Conn) -> CommitmentView:
    """One promise to pay: amount, date, invoices and whether it was kept, partly kept or
    broken."""
    row = await commitments.get(conn, commitment_id)
    set_etag(response, row["version"])
    return CommitmentView.of(row)


@router.get(
    "/v1/accounts/{account_id}/commitments",
    response_model=list[CommitmentView],
    dependencies=[Depends(READERS)],
)
async def of_account(account_id: UUID, conn: Conn) -> list[CommitmentView]:
    """Every promise to pay the account made, newest first."""
    rows = await reads.commitments_of(conn, account_id)
    return [CommitmentView.of(r) for r in rows]


@router.post("/v1/commitments/{commitment_id}/cancel", response_model=CommitmentView)
async def cancel(
    commitment_id: UUID,
    body: CancelRequest,
    request: Request,
    response: Response,
    conn: Conn,
    rt: Rt,
    principal: Staff,
    if_match: IfMatch,
) -> CommitmentView:
    """Withdraw an open promise (taken in error): it counts neither kept nor broken."""
    version = await commitments.cancel(
        conn,
        commitment_id,
        by=principal.sub,
        reason=body.reason,
        today=rt.clock.today(),
        check=if_match.check,
        correlation_id=trace(request),
    )
    set_etag(response, version)
    return CommitmentView.of(await commitments.get(conn, commitment_id))
