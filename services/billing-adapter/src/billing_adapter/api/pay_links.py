"""`POST /v1/accounts/{id}/pay-links`: a link that pays the account's open invoices, or enrols it.

A collector hands it out (in a call, on a task, in a dunning email), so the
collecting roles may ask for one, not only integrations. Creating one is a
create: `Idempotency-Key`, and the same key again answers with the same link
without asking the provider twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from billing_adapter.api.common import READERS, Conn, fields_in_body, trace
from billing_adapter.api.models import PayLinkRequest, PayLinkResponse
from billing_adapter.api.stripe_webhook import Deps
from billing_adapter.service_layer.accounts import get_account
from billing_adapter.service_layer.pay_links import create_pay_link
from receivables_platform.domain import NotFound
from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.idempotency import IdempotentRequest

router = APIRouter(prefix="/v1/accounts", tags=["pay links"])
LINK_MAKERS = require_roles("integration", "admin", "supervisor", "collector")


@router.post(
    "/{account_id}/pay-links",
    status_code=201,
    response_model=PayLinkResponse,
    responses={
        502: {"description": "The payment provider did not make the link"},
        503: {"description": "No pay link provider is configured"},
    },
)
async def make_pay_link(
    account_id: UUID,
    body: PayLinkRequest,
    request: Request,
    principal: Annotated[Principal, Depends(LINK_MAKERS)],
    idem: IdempotentRequest,
    deps: Deps,
) -> Response:
    """A link for the open invoices (or those named), or an auto-pay enrolment link."""
    links = deps.pay_links
    with fields_in_body():
        made = await create_pay_link(
            idem.conn,
            links.make_provider(deps.stripe),
            account_id,
            body.purpose,
            body.invoice_ids,
            now=datetime.now(UTC),
            ttl=links.ttl,
            correlation_id=trace(request),
            actor=principal.sub,
        )
    return await idem.respond(
        PayLinkResponse.of(account_id, made.link),
        status_code=201,
        version=made.version,
        headers={"Location": f"/v1/accounts/{account_id}/pay-links/{made.link.pay_link_id}"},
    )


@router.get(
    "/{account_id}/pay-links/{pay_link_id}",
    response_model=PayLinkResponse,
    dependencies=[Depends(READERS)],
)
async def read_pay_link(account_id: UUID, pay_link_id: UUID, conn: Conn) -> PayLinkResponse:
    """One pay link of the account: its URL, amount, expiry and whether it was paid."""
    link = (await get_account(conn, account_id)).state.pay_links.get(pay_link_id)
    if link is None:
        raise NotFound(
            f"account {account_id} has no pay link {pay_link_id}", field="path.pay_link_id"
        )
    return PayLinkResponse.of(account_id, link)
