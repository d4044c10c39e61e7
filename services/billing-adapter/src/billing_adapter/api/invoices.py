"""Invoice routes: issue, adjust, void, write off; read one with its audit trail.

A credit or write-off over its currency's approval threshold is answered 202 with
the approval it waits for (`Location: /v1/approvals/{id}`), not applied: see
`service_layer/approvals.py`. Every change records the caller as its `actor`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, Request, Response

from billing_adapter.api.common import (
    READERS,
    Conn,
    Writer,
    invoice_precondition,
    trace,
)
from billing_adapter.api.models import (
    AdjustInvoiceRequest,
    ApprovalResponse,
    HistoryEntry,
    InvoiceHistory,
    InvoiceResponse,
    IssueInvoiceRequest,
    VoidInvoiceRequest,
    WriteOffRequest,
)
from billing_adapter.domain.commands import (
    AdjustInvoice,
    Command,
    DueAmount,
    IssueInvoice,
    Line,
    VoidInvoice,
    WriteOffInvoice,
)
from billing_adapter.domain.state import Account
from billing_adapter.service_layer.accounts import (
    account_of,
    execute,
    get_invoice,
    issue_invoice,
)
from billing_adapter.service_layer.approvals import Outcome, credit_or_write_off
from billing_adapter.settings import BillingDependencies
from receivables_platform.ids import new_id
from receivables_platform.repository import Loaded
from receivables_platform.store import RecordedEvent
from receivables_platform.web.app import composed
from receivables_platform.web.auth import Principal
from receivables_platform.web.etag import (
    Precondition,
    etag,
    optional_if_match,
    require_if_match,
    set_etag,
)
from receivables_platform.web.idempotency import IdempotentRequest

router = APIRouter(prefix="/v1/invoices", tags=["invoices"])
IfMatch = Annotated[Precondition, Depends(require_if_match)]
MaybeIfMatch = Annotated[Precondition | None, Depends(optional_if_match)]
WAITS: dict[int | str, dict[str, Any]] = {
    202: {
        "model": ApprovalResponse,
        "description": "Over the approval threshold: waits for a supervisor "
        "(`Location` is the approval); nothing is applied yet",
    }
}


def _representation(loaded: Loaded[Account], invoice_id: UUID) -> InvoiceResponse:
    assert loaded.state.account_id is not None
    return InvoiceResponse.of(loaded.state.account_id, loaded.state.invoices[invoice_id])


def issue_command(
    body: IssueInvoiceRequest,
    *,
    invoice_id: UUID | None = None,
    account_id: UUID | None = None,
    actor: str | None = None,
) -> IssueInvoice:
    """Also how a bulk import row (the same model) becomes the command, once it has its ids."""
    return IssueInvoice(
        invoice_id=invoice_id or new_id(),
        account_id=account_id or body.account_id,
        external_id=body.external_id,
        total_minor=body.total_minor,
        issue_date=body.issue_date,
        currency=body.currency,
        due_date=body.due_date,
        tax_minor=body.tax_minor,
        lines=None
        if body.lines is None
        else tuple(Line(x.description, x.quantity, x.unit_price_minor) for x in body.lines),
        instalments=None
        if body.instalments is None
        else tuple(DueAmount(x.due_date, x.amount_minor) for x in body.instalments),
        actor=actor,
    )


@router.post(
    "",
    status_code=201,
    response_model=InvoiceResponse,
    responses={
        200: {"model": InvoiceResponse, "description": "Already issued under this external id"}
    },
)
async def issue(
    body: IssueInvoiceRequest, request: Request, principal: Writer, idem: IdempotentRequest
) -> Response:
    """Issue an invoice on a registered account; the same external id again returns it (200)."""
    made = await issue_invoice(
        idem.conn, issue_command(body, actor=principal.sub), correlation_id=trace(request)
    )
    representation = _representation(made.account, made.entity_id)
    return await idem.respond(
        representation,
        status_code=201 if made.created else 200,
        headers={"Location": f"/v1/invoices/{made.entity_id}"},
        version=representation.version,
    )


@router.get("/{invoice_id}", response_model=InvoiceResponse, dependencies=[Depends(READERS)])
async def read(invoice_id: UUID, response: Response, conn: Conn) -> InvoiceResponse:
    """One invoice as billing holds it: lines, instalments, what is applied and open; the ETag
    is its version for the next adjustment or void."""
    representation = _representation(await get_invoice(conn, invoice_id), invoice_id)
    set_etag(response, representation.version)
    return representation


def _concerns(event: RecordedEvent, invoice_id: UUID) -> bool:
    data, wanted = event.data, str(invoice_id)
    return data.get("invoice_id") == wanted or any(
        r.get("invoice_id") == wanted for r in data.get("reopened", [])
    )


@router.get("/{invoice_id}/history", response_model=InvoiceHistory, dependencies=[Depends(READERS)])
async def history(invoice_id: UUID, conn: Conn) -> InvoiceHistory:
    """The audit trail: every stored event about this invoice, payments on it included."""
    loaded = await get_invoice(conn, invoice_id, history=True)
    return InvoiceHistory(
        invoice_id=invoice_id,
        events=[HistoryEntry.of(e) for e in loaded.history if _concerns(e, invoice_id)],
    )


async def _change(
    conn: asyncpg.Connection,
    request: Request,
    invoice_id: UUID,
    command: Command,
    if_match: Precondition | None,
) -> InvoiceResponse:
    loaded = await execute(
        conn,
        command,
        check=invoice_precondition(if_match, invoice_id),
        correlation_id=trace(request),
    )
    return _representation(loaded, invoice_id)


async def _credit_or_write_off(
    conn: asyncpg.Connection,
    request: Request,
    invoice_id: UUID,
    command: AdjustInvoice | WriteOffInvoice,
    principal: Principal,
    if_match: Precondition | None,
) -> Outcome:
    thresholds = composed(request, BillingDependencies).approvals
    return await credit_or_write_off(
        conn,
        command,
        thresholds,
        requested_by=principal.sub,
        at=datetime.now(UTC),
        check=invoice_precondition(if_match, invoice_id),
        correlation_id=trace(request),
    )


def _waiting(outcome: Outcome) -> ApprovalResponse:
    assert outcome.waiting is not None
    return ApprovalResponse.of(outcome.waiting.state, outcome.waiting.version)


@router.post(
    "/{invoice_id}/adjustments", status_code=201, response_model=InvoiceResponse, responses=WAITS
)
async def adjust(
    invoice_id: UUID,
    body: AdjustInvoiceRequest,
    request: Request,
    principal: Writer,
    idem: IdempotentRequest,
    if_match: MaybeIfMatch,
) -> Response:
    """A credit or debit memo; the reply is the invoice after it (201), or the approval a
    large credit waits for (202). Idempotency-Key required."""
    account_id = await account_of(idem.conn, "invoice", invoice_id)
    command = AdjustInvoice(
        account_id=account_id,
        invoice_id=invoice_id,
        adjustment_id=new_id(),
        actor=principal.sub,
        **body.model_dump(),
    )
    outcome = await _credit_or_write_off(
        idem.conn, request, invoice_id, command, principal, if_match
    )
    if outcome.applied is None:
        waiting = _waiting(outcome)
        return await idem.respond(
            waiting,
            status_code=202,
            version=waiting.version,
            headers={"Location": f"/v1/approvals/{waiting.approval_id}"},
        )
    representation = _representation(outcome.applied, invoice_id)
    return await idem.respond(representation, status_code=201, version=representation.version)


@router.post("/{invoice_id}/void", response_model=InvoiceResponse)
async def void(
    invoice_id: UUID,
    body: VoidInvoiceRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Writer,
    if_match: IfMatch,
) -> InvoiceResponse:
    """Void an invoice nothing has been paid on. Needs If-Match with the invoice's ETag."""
    command = VoidInvoice(
        account_id=await account_of(conn, "invoice", invoice_id),
        invoice_id=invoice_id,
        actor=principal.sub,
        **body.model_dump(),
    )
    representation = await _change(conn, request, invoice_id, command, if_match)
    set_etag(response, representation.version)
    return representation


@router.post("/{invoice_id}/write-off", response_model=InvoiceResponse, responses=WAITS)
async def write_off(
    invoice_id: UUID,
    body: WriteOffRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Writer,
    if_match: IfMatch,
) -> Response:
    """Write off the remaining open balance (200), or wait for approval over the threshold
    (202, the approval). Needs If-Match with the invoice's ETag."""
    command = WriteOffInvoice(
        account_id=await account_of(conn, "invoice", invoice_id),
        invoice_id=invoice_id,
        actor=principal.sub,
        **body.model_dump(),
    )
    outcome = await _credit_or_write_off(conn, request, invoice_id, command, principal, if_match)
    if outcome.applied is None:
        waiting = _waiting(outcome)
        return Response(
            waiting.model_dump_json(),
            status_code=202,
            media_type="application/json",
            headers={
                "ETag": etag(waiting.version),
                "Location": f"/v1/approvals/{waiting.approval_id}",
            },
        )
    representation = _representation(outcome.applied, invoice_id)
    return Response(
        representation.model_dump_json(),
        media_type="application/json",
        headers={"ETag": etag(representation.version)},
    )
