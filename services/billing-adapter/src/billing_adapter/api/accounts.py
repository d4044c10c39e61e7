"""Account routes: register, update, auto-pay, and reads with balances and invoices."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response

from billing_adapter.api.common import READERS, Conn, Writer, account_precondition, trace
from billing_adapter.api.models import (
    AccountHistory,
    AccountResponse,
    CancelAutoPayRequest,
    EnrolAutoPayRequest,
    FieldChange,
    HistoryEntry,
    InvoicePage,
    InvoiceResponse,
    RegisterAccountRequest,
    UpdateAccountRequest,
)
from billing_adapter.domain.commands import (
    CancelAutoPay,
    Command,
    EnrolAutoPay,
    RegisterAccount,
    UpdateAccount,
)
from billing_adapter.domain.state import InvoiceBalance
from billing_adapter.service_layer.accounts import (
    execute,
    get_account,
    profile_history,
    register_account,
)
from receivables_platform.ids import new_id
from receivables_platform.web.etag import Precondition, require_if_match, set_etag
from receivables_platform.web.idempotency import IdempotentRequest
from receivables_platform.web.pages import CursorQuery, decode_cursor, page_of

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])
IfMatch = Annotated[Precondition, Depends(require_if_match)]


def register_command(body: RegisterAccountRequest, actor: str | None = None) -> RegisterAccount:
    """Also how a bulk import row (the same model) becomes the command."""
    return RegisterAccount(
        account_id=new_id(),
        external_id=body.external_id,
        name=body.name,
        currency=body.currency,
        payment_terms_days=body.payment_terms_days,
        contacts=tuple(c.contract() for c in body.contacts),
        segment=body.segment,
        actor=actor,
    )


@router.post(
    "",
    status_code=201,
    response_model=AccountResponse,
    responses={
        200: {"model": AccountResponse, "description": "Already registered under this external id"}
    },
)
async def register(
    body: RegisterAccountRequest, request: Request, principal: Writer, idem: IdempotentRequest
) -> Response:
    """Register a customer account; the same external id again returns it (200)."""
    made = await register_account(
        idem.conn, register_command(body, principal.sub), correlation_id=trace(request)
    )
    representation = AccountResponse.of(made.account.state, made.account.version)
    return await idem.respond(
        representation,
        status_code=201 if made.created else 200,
        headers={"Location": f"/v1/accounts/{made.entity_id}"},
        version=made.account.version,
    )


@router.get("/{account_id}", response_model=AccountResponse, dependencies=[Depends(READERS)])
async def read(account_id: UUID, response: Response, conn: Conn) -> AccountResponse:
    """The account with its open balance and unapplied credit, per currency."""
    loaded = await get_account(conn, account_id)
    set_etag(response, loaded.version)
    return AccountResponse.of(loaded.state, loaded.version)


@router.get("/{account_id}/history", response_model=AccountHistory, dependencies=[Depends(READERS)])
async def history(account_id: UUID, conn: Conn) -> AccountHistory:
    """The profile's audit trail, oldest first: registration, every edit (only the fields it
    changed) and auto-pay changes, each with who made it and when."""
    return AccountHistory(
        account_id=account_id,
        events=[
            HistoryEntry.of(
                step.event,
                changes=None
                if step.changes is None
                else [FieldChange.of(*change) for change in step.changes],
            )
            for step in await profile_history(conn, account_id)
        ],
    )


async def _write(
    conn: asyncpg.Connection,
    request: Request,
    response: Response,
    command: Command,
    if_match: Precondition,
) -> AccountResponse:
    loaded = await execute(
        conn, command, check=account_precondition(if_match), correlation_id=trace(request)
    )
    set_etag(response, loaded.version)
    return AccountResponse.of(loaded.state, loaded.version)


@router.patch("/{account_id}", response_model=AccountResponse)
async def update(
    account_id: UUID,
    body: UpdateAccountRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Writer,
    if_match: IfMatch,
) -> AccountResponse:
    """Change what is sent; `segment: null` removes the segment. Needs If-Match."""
    sent = body.model_fields_set
    command = UpdateAccount(
        account_id=account_id,
        name=body.name,
        payment_terms_days=body.payment_terms_days,
        contacts=None if body.contacts is None else tuple(c.contract() for c in body.contacts),
        segment=body.segment,
        clear_segment="segment" in sent and body.segment is None,
        actor=principal.sub,
    )
    return await _write(conn, request, response, command, if_match)


@router.put("/{account_id}/autopay", response_model=AccountResponse)
async def enrol_autopay(
    account_id: UUID,
    body: EnrolAutoPayRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Writer,
    if_match: IfMatch,
) -> AccountResponse:
    """Enrol (or change the method of) auto-pay with a payment-method reference."""
    command = EnrolAutoPay(account_id=account_id, actor=principal.sub, **body.model_dump())
    return await _write(conn, request, response, command, if_match)


@router.post("/{account_id}/autopay/cancel", response_model=AccountResponse)
async def cancel_autopay(
    account_id: UUID,
    body: CancelAutoPayRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Writer,
    if_match: IfMatch,
) -> AccountResponse:
    """End the account's auto-pay enrolment (billing.autopay.cancelled); If-Match with the
    account's ETag, so a cancel never crosses a change it did not see."""
    command = CancelAutoPay(account_id=account_id, actor=principal.sub, **body.model_dump())
    return await _write(conn, request, response, command, if_match)


def _cursor_key(invoice: InvoiceBalance) -> tuple[date, UUID]:
    return invoice.due_date, invoice.invoice_id


@router.get("/{account_id}/invoices", response_model=InvoicePage, dependencies=[Depends(READERS)])
async def invoices(
    account_id: UUID,
    conn: Conn,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: CursorQuery = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
) -> InvoicePage:
    """The account's invoices with their balances, by due date; `open=true` for unpaid only."""
    loaded = await get_account(conn, account_id)
    after = decode_cursor(cursor, date.fromisoformat, UUID) if cursor else None
    ordered = sorted(
        (i for i in loaded.state.invoices.values() if not open_only or i.open_minor > 0),
        key=_cursor_key,
    )
    remaining = [i for i in ordered if after is None or _cursor_key(i) > after]
    page, next_cursor = page_of(remaining[: limit + 1], limit, _cursor_key)
    return InvoicePage(
        items=[InvoiceResponse.of(account_id, i) for i in page], next_cursor=next_cursor
    )
