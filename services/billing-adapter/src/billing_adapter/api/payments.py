"""Payment routes: record, apply to invoices, reverse; read one."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from billing_adapter.api.common import (
    READERS,
    Conn,
    Writer,
    fields_in_body,
    payment_precondition,
    trace,
)
from billing_adapter.api.models import (
    ApplyPaymentRequest,
    PaymentResponse,
    RecordPaymentRequest,
    ReversePaymentRequest,
)
from billing_adapter.domain.commands import (
    Allocation,
    ApplyPayment,
    RecordPayment,
    ReversePayment,
)
from billing_adapter.domain.state import Account
from billing_adapter.service_layer.accounts import (
    account_of,
    execute,
    get_payment,
    record_payment,
)
from receivables_platform.ids import new_id
from receivables_platform.repository import Loaded
from receivables_platform.web.etag import (
    Precondition,
    optional_if_match,
    require_if_match,
    set_etag,
)
from receivables_platform.web.idempotency import IdempotentRequest

router = APIRouter(prefix="/v1/payments", tags=["payments"])


def _representation(loaded: Loaded[Account], payment_id: UUID) -> PaymentResponse:
    assert loaded.state.account_id is not None
    return PaymentResponse.of(loaded.state.account_id, loaded.state.payments[payment_id])


@router.post(
    "",
    status_code=201,
    response_model=PaymentResponse,
    responses={
        200: {"model": PaymentResponse, "description": "Already recorded under this external id"}
    },
)
async def record(
    body: RecordPaymentRequest, request: Request, principal: Writer, idem: IdempotentRequest
) -> Response:
    """Record money received; it is account credit until applied."""
    command = RecordPayment(payment_id=new_id(), actor=principal.sub, **body.model_dump())
    made = await record_payment(idem.conn, command, correlation_id=trace(request))
    representation = _representation(made.account, made.entity_id)
    return await idem.respond(
        representation,
        status_code=201 if made.created else 200,
        headers={"Location": f"/v1/payments/{made.entity_id}"},
        version=representation.version,
    )


@router.get("/{payment_id}", response_model=PaymentResponse, dependencies=[Depends(READERS)])
async def read(payment_id: UUID, response: Response, conn: Conn) -> PaymentResponse:
    """One payment: its amount, method and how it was applied to invoices; the ETag is its
    version for a reversal."""
    representation = _representation(await get_payment(conn, payment_id), payment_id)
    set_etag(response, representation.version)
    return representation


@router.post(
    "/{payment_id}/applications",
    status_code=201,
    response_model=PaymentResponse,
)
async def apply(
    payment_id: UUID,
    body: ApplyPaymentRequest,
    request: Request,
    principal: Writer,
    idem: IdempotentRequest,
    if_match: Annotated[Precondition | None, Depends(optional_if_match)],
) -> Response:
    """Apply unapplied cash: to the invoices given, or oldest due date first when none are."""
    command = ApplyPayment(
        account_id=await account_of(idem.conn, "payment", payment_id),
        payment_id=payment_id,
        applied_on=body.applied_on,
        allocations=None
        if body.allocations is None
        else tuple(Allocation(a.invoice_id, a.amount_minor) for a in body.allocations),
        actor=principal.sub,
    )
    with fields_in_body():
        loaded = await execute(
            idem.conn,
            command,
            check=payment_precondition(if_match, payment_id),
            correlation_id=trace(request),
        )
    representation = _representation(loaded, payment_id)
    return await idem.respond(representation, status_code=201, version=representation.version)


@router.post(
    "/{payment_id}/reversal",
    response_model=PaymentResponse,
)
async def reverse(
    payment_id: UUID,
    body: ReversePaymentRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Writer,
    if_match: Annotated[Precondition, Depends(require_if_match)],
) -> PaymentResponse:
    """A returned payment or chargeback: what it paid is owed again. Needs If-Match."""
    command = ReversePayment(
        account_id=await account_of(conn, "payment", payment_id),
        payment_id=payment_id,
        actor=principal.sub,
        **body.model_dump(),
    )
    loaded = await execute(
        conn,
        command,
        check=payment_precondition(if_match, payment_id),
        correlation_id=trace(request),
    )
    representation = _representation(loaded, payment_id)
    set_etag(response, representation.version)
    return representation
