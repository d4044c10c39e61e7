"""Invoice routes for billing-system integrations."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from billing_adapter.api.invoice_models import (
    HistoryEntry,
    InvoiceHistory,
    InvoiceResponse,
    IssueInvoiceRequest,
)
from billing_adapter.domain.invoice import IssueInvoice
from billing_adapter.service_layer.invoices import get_invoice, issue_invoice
from receivables_platform.ids import new_id
from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.etag import set_etag
from receivables_platform.web.idempotency import IdempotentRequest
from receivables_platform.web.request_log import correlation_id

router = APIRouter(prefix="/v1/invoices", tags=["invoices"])
WRITERS = require_roles("integration", "admin")
READERS = require_roles("integration", "admin", "supervisor", "collector", "case_agent")


@router.post("", status_code=201, response_model=InvoiceResponse,
             responses={200: {"model": InvoiceResponse,
                              "description": "Already issued under this external id"}},
             dependencies=[Depends(WRITERS)])
async def issue(body: IssueInvoiceRequest, request: Request, idem: IdempotentRequest) -> Response:
    """Issue an invoice; the same external id again returns the invoice it made (200)."""
    command = IssueInvoice(invoice_id=new_id(), **body.model_dump())
    issued = await issue_invoice(idem.conn, command, correlation_id=correlation_id(request))
    representation = InvoiceResponse.of(issued.invoice)
    return await idem.respond(
        representation, status_code=201 if issued.created else 200,
        headers={"Location": f"/v1/invoices/{representation.invoice_id}"},
        version=issued.invoice.version)


@router.get("/{invoice_id}", response_model=InvoiceResponse)
async def read(invoice_id: UUID, request: Request, response: Response,
               _: Principal = Depends(READERS)) -> InvoiceResponse:
    async with request.app.state.service.pool.acquire() as conn:
        loaded = await get_invoice(conn, invoice_id)
    set_etag(response, loaded.version)
    return InvoiceResponse.of(loaded)


@router.get("/{invoice_id}/history", response_model=InvoiceHistory)
async def history(invoice_id: UUID, request: Request,
                  _: Principal = Depends(READERS)) -> InvoiceHistory:
    """The audit trail: every event of the invoice, as stored."""
    async with request.app.state.service.pool.acquire() as conn:
        loaded = await get_invoice(conn, invoice_id)
    return InvoiceHistory(invoice_id=invoice_id, events=[
        HistoryEntry(event_id=e.event_id, type=e.type, version=e.version,
                     recorded_at=e.recorded_at, correlation_id=e.correlation_id,
                     causation_id=e.causation_id, data=e.data)
        for e in loaded.history])
