"""Promises to pay: taken by collectors, judged by the service."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from collections_service.adapters import reads
from collections_service.api.common import READERS, Conn, IfMatch, Rt, Staff, trace
from collections_service.api.models import CancelRequest, CommitmentRequest, CommitmentView
from collections_service.api.refusals import RefusalRoute
from collections_service.service_layer import commitments
from receivables_platform.web.etag import set_etag
from receivables_platform.web.idempotency import IdempotentRequest

router = APIRouter(tags=["commitments"], route_class=RefusalRoute)


@router.post("/v1/commitments", status_code=201, response_model=CommitmentView)
async def make(body: CommitmentRequest, request: Request, rt: Rt, principal: Staff,
               idem: IdempotentRequest) -> Response:
    """Record a promise: amount > 0, a date not in the past, the account's open invoices.

    The account's cadence pauses until the promise is judged.
    """
    commitment_id = await commitments.make(
        idem.conn, commitments.NewCommitment(
            account_id=body.account_id, amount_minor=body.amount_minor,
            promised_date=body.promised_date, channel=body.channel,
            invoice_ids=tuple(body.invoice_ids), grace_days=body.grace_days,
            currency=body.currency, contact_id=body.contact_id),
        rt.calendar, by=principal.sub, today=rt.clock.today(), now=rt.clock.now(),
        default_grace=rt.settings.grace_days, correlation_id=trace(request))
    row = await commitments.get(idem.conn, commitment_id)
    return await idem.respond(CommitmentView.of(row), status_code=201, version=row["version"],
                              headers={"Location": f"/v1/commitments/{commitment_id}"})


@router.get("/v1/commitments/{commitment_id}", response_model=CommitmentView,
            dependencies=[Depends(READERS)])
async def read(commitment_id: UUID, response: Response, conn: Conn) -> CommitmentView:
    row = await commitments.get(conn, commitment_id)
    set_etag(response, row["version"])
    return CommitmentView.of(row)


@router.get("/v1/accounts/{account_id}/commitments", response_model=list[CommitmentView],
            dependencies=[Depends(READERS)])
async def of_account(account_id: UUID, conn: Conn) -> list[CommitmentView]:
    rows = await reads.commitments_of(conn, account_id)
    return [CommitmentView.of(r) for r in rows]


@router.post("/v1/commitments/{commitment_id}/cancel", response_model=CommitmentView)
async def cancel(commitment_id: UUID, body: CancelRequest, request: Request, response: Response,
                 conn: Conn, rt: Rt, principal: Staff, if_match: IfMatch) -> CommitmentView:
    """Withdraw an open promise (taken in error): it counts neither kept nor broken."""
    version = await commitments.cancel(conn, commitment_id, by=principal.sub,
                                       reason=body.reason, today=rt.clock.today(),
                                       check=if_match.check, correlation_id=trace(request))
    set_etag(response, version)
    return CommitmentView.of(await commitments.get(conn, commitment_id))
