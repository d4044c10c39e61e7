"""Contacts: log a call, send the overdue statement by email, read an account's history."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from collections_service.adapters import reads
from collections_service.adapters.mailer import Mailer
from collections_service.adapters.pay_links import link_key
from collections_service.api.common import READERS, Conn, Rt, Staff, oversees, trace
from collections_service.api.models import CallRequest, ContactView, EmailRequest
from collections_service.api.refusals import RefusalRoute
from collections_service.runtime import Runtime
from collections_service.service_layer import contacts, dunning
from receivables_platform.web.auth import Principal
from receivables_platform.web.idempotency import IdempotentRequest

router = APIRouter(tags=["contacts"], route_class=RefusalRoute)


def _who(principal: Principal, rt: Runtime) -> contacts.Who:
    return contacts.Who(principal.sub, oversees(principal), rt.clock.today(), rt.clock.now())


async def _view(conn: Conn, contact_id: UUID) -> ContactView:
    return ContactView.of(await reads.contact(conn, contact_id))


@router.post("/v1/contacts/calls", status_code=201, response_model=ContactView)
async def log_call(
    body: CallRequest, request: Request, rt: Rt, principal: Staff, idem: IdempotentRequest
) -> Response:
    """A call and its outcome; with `task_id`, that task is completed with the same outcome."""
    contact_id = await contacts.log_call(
        idem.conn,
        body.account_id,
        body.outcome,
        who=_who(principal, rt),
        notes=body.notes,
        task_id=body.task_id,
        invoice_ids=body.invoice_ids,
        correlation_id=trace(request),
    )
    return await idem.respond(
        await _view(idem.conn, contact_id),
        status_code=201,
        headers={"Location": f"/v1/contacts/{contact_id}"},
    )


@router.post("/v1/contacts/emails", status_code=201, response_model=ContactView)
async def send_email(
    body: EmailRequest, request: Request, rt: Rt, principal: Staff, idem: IdempotentRequest
) -> Response:
    """Email the account's overdue statement (template, in its language) through SMTP.

    201 either way: the answer's `outcome` says `email_sent` or `email_failed`
    (with the server's reply in `email_error`), and both are recorded. 503 with
    nothing recorded when no mail server is configured.
    """
    settings = rt.settings
    mailer = Mailer.from_url(settings.smtp_url) if settings.smtp_url else None
    head = await dunning.letterhead(
        idem.conn,
        rt,
        body.account_id,
        principal.sub,
        pay_link_key=link_key("email", principal.sub, idem.key),
    )
    contact_id = await contacts.send_email(
        idem.conn,
        mailer,
        body.account_id,
        body.template,
        body.language,
        who=_who(principal, rt),
        letterhead=head,
        task_id=body.task_id,
        correlation_id=trace(request),
    )
    return await idem.respond(
        await _view(idem.conn, contact_id),
        status_code=201,
        headers={"Location": f"/v1/contacts/{contact_id}"},
    )


@router.get(
    "/v1/contacts/{contact_id}", response_model=ContactView, dependencies=[Depends(READERS)]
)
async def read(contact_id: UUID, conn: Conn) -> ContactView:
    """One contact attempt: channel, outcome and who made it."""
    return await _view(conn, contact_id)


@router.get(
    "/v1/accounts/{account_id}/contacts",
    response_model=list[ContactView],
    dependencies=[Depends(READERS)],
)
async def of_account(account_id: UUID, conn: Conn) -> list[ContactView]:
    """Every contact attempt with the account, newest first."""
    rows = await reads.contacts_of(conn, account_id)
    return [ContactView.of(r) for r in rows]
