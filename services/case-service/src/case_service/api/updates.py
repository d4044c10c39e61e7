"""Customer updates (sent by email through SMTP when that is the channel) and the SLA sweep."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from case_service.api.common import (
    Agent,
    Conn,
    MaybeIfMatch,
    now,
    precondition,
    problem_responses,
    trace,
)
from case_service.api.models import CaseResponse, CustomerUpdateRequest
from case_service.domain import commands as c
from case_service.service_layer.customer_updates import record_update
from case_service.service_layer.sla import check_breaches
from receivables_platform import mail
from receivables_platform.ids import new_id
from receivables_platform.web.auth import require_roles
from receivables_platform.web.etag import set_etag

router = APIRouter(prefix="/v1", tags=["cases"])


def smtp_target(request: Request) -> mail.SmtpTarget | None:
    url = request.app.state.service.settings.smtp_url
    return mail.SmtpTarget.from_url(url) if url else None


@router.post(
    "/cases/{case_id}/customer-updates",
    response_model=CaseResponse,
    responses=problem_responses(
        _502="The SMTP server refused or could not be reached; nothing was recorded.",
        _503="No SMTP server is configured, so an email update cannot be sent.",
    ),
)
async def customer_update(
    case_id: UUID,
    body: CustomerUpdateRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Agent,
    if_match: MaybeIfMatch,
) -> CaseResponse:
    """Record what the customer was told; with channel `email` it is sent first (502 if the
    SMTP server refuses, and then nothing is recorded)."""
    command = c.RecordCustomerUpdate(
        case_id, new_id(), body.channel, body.summary, principal.sub, now(), body.recipient
    )
    loaded = await record_update(
        conn,
        command,
        message=body.message,
        smtp=smtp_target(request),
        check=precondition(if_match),
        correlation_id=trace(request),
    )
    set_etag(response, loaded.version)
    return CaseResponse.of(loaded.state, loaded.version)


class SlaSweep(BaseModel):
    breached: list[UUID]


@router.post(
    "/sla/check",
    response_model=SlaSweep,
    dependencies=[Depends(require_roles("supervisor", "admin"))],
)
async def sla_check(conn: Conn, request: Request) -> SlaSweep:
    """Record a breach on every case whose SLA ran out (the background sweep does this too)."""
    return SlaSweep(breached=await check_breaches(conn, now(), correlation_id=trace(request)))
