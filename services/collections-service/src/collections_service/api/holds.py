"""Holds by hand (disputes hold themselves from case events) and their release."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from collections_service.adapters import reads
from collections_service.api.common import READERS, Conn, Rt, Staff, trace
from collections_service.api.models import HoldRequest, HoldView
from collections_service.api.refusals import RefusalRoute
from collections_service.service_layer import holds
from receivables_platform.contracts.collections import HoldRelease
from receivables_platform.web.idempotency import IdempotentRequest

router = APIRouter(tags=["holds"], route_class=RefusalRoute)


async def _view(conn: Conn, hold_id: UUID) -> HoldView:
    return HoldView.of(await reads.hold(conn, hold_id))


@router.post("/v1/holds", status_code=201, response_model=HoldView)
async def place(
    body: HoldRequest, request: Request, rt: Rt, principal: Staff, idem: IdempotentRequest
) -> Response:
    """Take invoices out of the cadence (they stay in aging), with a reason and maybe an end."""
    hold_id = await holds.place(
        idem.conn,
        holds.NewHold(
            account_id=body.account_id,
            invoice_ids=holds.invoices_of(body.invoice_ids),
            reason=body.reason,
            ends_on=body.ends_on,
        ),
        by=principal.sub,
        today=rt.clock.today(),
        correlation_id=trace(request),
    )
    return await idem.respond(
        await _view(idem.conn, hold_id),
        status_code=201,
        headers={"Location": f"/v1/holds/{hold_id}"},
    )


@router.get("/v1/holds/{hold_id}", response_model=HoldView, dependencies=[Depends(READERS)])
async def read(hold_id: UUID, conn: Conn) -> HoldView:
    """One collections hold: why the account's cadence paused (a dispute case) and when it was
    released."""
    return await _view(conn, hold_id)


@router.get(
    "/v1/accounts/{account_id}/holds",
    response_model=list[HoldView],
    dependencies=[Depends(READERS)],
)
async def of_account(account_id: UUID, conn: Conn) -> list[HoldView]:
    """Every hold placed on the account, placed and released."""
    rows = await reads.holds_of(conn, account_id)
    return [HoldView.of(r) for r in rows]


@router.post("/v1/holds/{hold_id}/release", response_model=HoldView)
async def release(
    hold_id: UUID, request: Request, response: Response, conn: Conn, rt: Rt, principal: Staff
) -> HoldView:
    """Lift a hold now (409 if it was already lifted); its invoices rejoin the cadence."""
    await holds.release(
        conn,
        hold_id,
        HoldRelease.MANUAL,
        by=principal.sub,
        today=rt.clock.today(),
        correlation_id=trace(request),
    )
    return await _view(conn, hold_id)
