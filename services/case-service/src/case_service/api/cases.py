"""Case routes: open, read, and every step of working a case.

Writes that change what the case *is* (assignment, status, resolve, close,
reopen, root cause) need If-Match with the ETag the agent read: two agents
working the same case never overwrite each other, the second gets 412.
Additions that cannot be lost by a concurrent write (a note, an update sent, a
confirmation, an escalation) check If-Match when it is sent. Creates take an
Idempotency-Key.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, Request, Response

from case_service.api.common import (
    AGENTS,
    OPENERS,
    READERS,
    Agent,
    Answerer,
    Conn,
    Deps,
    IfMatch,
    MaybeIfMatch,
    Opener,
    now,
    precondition,
    trace,
)
from case_service.api.models import (
    AnswerRequest,
    AssignRequest,
    CaseResponse,
    ConfirmationRequest,
    CorrectionRequest,
    EscalationRequest,
    LinkRequest,
    NextActionRequest,
    NoteRequest,
    OpenCaseRequest,
    ReclassifyRequest,
    ReopenRequest,
    ResolveRequest,
    RootCauseRequest,
    StatusRequest,
)
from case_service.domain import commands as c
from case_service.domain.state import Case
from case_service.service_layer import cases as use
from case_service.service_layer.taxonomy import root_cause_of
from receivables_platform.business_dates import business_dates
from receivables_platform.ids import new_id
from receivables_platform.repository import Loaded
from receivables_platform.web.auth import Principal
from receivables_platform.web.etag import Precondition, set_etag
from receivables_platform.web.idempotency import IdempotentRequest

router = APIRouter(prefix="/v1/cases", tags=["cases"])


def _answer(response: Response, loaded: Loaded[Case]) -> CaseResponse:
    set_etag(response, loaded.version)
    return CaseResponse.of(loaded.state, loaded.version)


async def _run(
    conn: asyncpg.Connection, request: Request, command: c.Command, if_match: Precondition | None
) -> Loaded[Case]:
    return await use.execute(
        conn, command, check=precondition(if_match), correlation_id=trace(request)
    )


def takes_it_themselves(principal: Principal, owner_id: str | None) -> bool:
    """A case agent (or representative) naming themselves owner is registered on first use."""
    return owner_id == principal.sub and "case_agent" in principal.roles


@router.post("", status_code=201, response_model=CaseResponse, dependencies=[Depends(OPENERS)])
async def open_case(
    body: OpenCaseRequest, request: Request, idem: IdempotentRequest, principal: Opener, deps: Deps
) -> Response:
    """Open a case on a known account (or none, for an unknown sender). Idempotency-Key required."""
    command = c.OpenCase(
        case_id=new_id(),
        case_number="",
        account_id=body.account_id,
        type=body.type,
        origin=body.origin,
        priority=body.priority,
        subject=body.subject,
        description=body.description,
        invoice_ids=tuple(body.invoice_ids),
        sla_target_days=deps.policy.sla.target_days(body.type, body.priority),
        actor=principal.sub,
        at=now(),
        owner_id=body.owner_id,
    )
    loaded = await use.open_case(
        idem.conn,
        command,
        correlation_id=trace(request),
        owner_registers=takes_it_themselves(principal, body.owner_id),
    )
    representation = CaseResponse.of(loaded.state, loaded.version)
    return await idem.respond(
        representation,
        status_code=201,
        version=loaded.version,
        headers={"Location": f"/v1/cases/{command.case_id}"},
    )


@router.get("/{case_id}", response_model=CaseResponse, dependencies=[Depends(READERS)])
async def read(case_id: UUID, response: Response, conn: Conn) -> CaseResponse:
    """One case with its notes, root cause, corrections, escalations, customer updates,
    confirmation, SLA and documentation checklist; the ETag is its version."""
    return _answer(response, await use.get_case(conn, case_id))


@router.post("/{case_id}/assignment", response_model=CaseResponse)
async def assign(
    case_id: UUID,
    body: AssignRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Agent,
    if_match: IfMatch,
) -> CaseResponse:
    """Assign or reassign to an active case agent, or take it yourself. Needs If-Match."""
    loaded = await use.assign(
        conn,
        c.AssignCase(case_id, body.owner_id, principal.sub, now()),
        check=precondition(if_match),
        correlation_id=trace(request),
        owner_registers=takes_it_themselves(principal, body.owner_id),
    )
    return _answer(response, loaded)


@router.post("/{case_id}/links", response_model=CaseResponse)
async def link(
    case_id: UUID,
    body: LinkRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Agent,
    if_match: IfMatch,
) -> CaseResponse:
    """Set the account of a case opened without one, or link more of its invoices. Needs
    If-Match."""
    command = c.LinkCase(case_id, body.account_id, tuple(body.invoice_ids), principal.sub, now())
    return _answer(
        response,
        await use.link(conn, command, check=precondition(if_match), correlation_id=trace(request)),
    )


@router.post("/{case_id}/type", response_model=CaseResponse)
async def reclassify(
    case_id: UUID,
    body: ReclassifyRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Agent,
    if_match: IfMatch,
) -> CaseResponse:
    """Change the case's type, e.g. an emailed question found to be a dispute: a dispute's
    invoices go on hold in collections, and come off it when the case stops being one. The SLA
    clock keeps running from the opening. Needs If-Match."""
    command = c.ReclassifyCase(case_id, body.type, body.reason, principal.sub, now())
    return _answer(response, await _run(conn, request, command, if_match))


@router.post("/{case_id}/notes", response_model=CaseResponse)
async def add_note(
    case_id: UUID,
    body: NoteRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Agent,
    if_match: MaybeIfMatch,
) -> CaseResponse:
    """Add an investigation note to the case's timeline."""
    command = c.AddNote(case_id, new_id(), body.body, principal.sub, now())
    return _answer(response, await _run(conn, request, command, if_match))


@router.post("/{case_id}/status", response_model=CaseResponse)
async def change_status(
    case_id: UUID,
    body: StatusRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Agent,
    if_match: IfMatch,
) -> CaseResponse:
    """Move between new, investigating and the waiting statuses (or resolved back to
    investigating). Resolve, close and reopen have their own routes. Needs If-Match."""
    command = c.ChangeStatus(case_id, body.status, principal.sub, now(), body.reason)
    return _answer(response, await _run(conn, request, command, if_match))


@router.post("/{case_id}/root-cause", response_model=CaseResponse)
async def identify_root_cause(
    case_id: UUID,
    body: RootCauseRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Agent,
    if_match: IfMatch,
) -> CaseResponse:
    """Set the root cause from an active taxonomy category plus free text. Needs If-Match."""
    cause = await root_cause_of(conn, body.category_id, body.detail)
    command = c.IdentifyRootCause(case_id, cause, principal.sub, now())
    return _answer(response, await _run(conn, request, command, if_match))


@router.post(
    "/{case_id}/corrections",
    status_code=201,
    response_model=CaseResponse,
    dependencies=[Depends(AGENTS)],
)
async def request_correction(
    case_id: UUID,
    body: CorrectionRequest,
    request: Request,
    idem: IdempotentRequest,
    principal: Agent,
    if_match: MaybeIfMatch,
) -> Response:
    """Ask billing to adjust an invoice of the case's account; billing's answer shows on the case.
    Idempotency-Key required."""
    command = c.RequestCorrection(
        case_id,
        new_id(),
        body.invoice_id,
        body.amount_minor,
        body.direction,
        body.currency or "",
        body.reason,
        body.reason_code,
        principal.sub,
        now(),
    )
    loaded = await use.request_correction(
        idem.conn, command, check=precondition(if_match), correlation_id=trace(request)
    )
    return await idem.respond(
        CaseResponse.of(loaded.state, loaded.version), status_code=201, version=loaded.version
    )


@router.post(
    "/{case_id}/escalations",
    status_code=201,
    response_model=CaseResponse,
    dependencies=[Depends(AGENTS)],
)
async def escalate(
    case_id: UUID,
    body: EscalationRequest,
    request: Request,
    idem: IdempotentRequest,
    principal: Agent,
    if_match: MaybeIfMatch,
) -> Response:
    """Ask an internal team, with a due date. Idempotency-Key required."""
    command = c.Escalate(
        case_id, new_id(), body.team, body.question, body.due_date, principal.sub, now(), body.cause
    )
    loaded = await _run(idem.conn, request, command, if_match)
    return await idem.respond(
        CaseResponse.of(loaded.state, loaded.version), status_code=201, version=loaded.version
    )


@router.post("/{case_id}/escalations/{escalation_id}/answer", response_model=CaseResponse)
async def answer_escalation(
    case_id: UUID,
    escalation_id: UUID,
    body: AnswerRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Answerer,
    if_match: MaybeIfMatch,
) -> CaseResponse:
    """Record the team's answer and who gave it (an agent, or the team's own tool as
    `integration`)."""
    command = c.AnswerEscalation(case_id, escalation_id, body.answer, principal.sub, now())
    return _answer(response, await _run(conn, request, command, if_match))


@router.post("/{case_id}/confirmation", response_model=CaseResponse)
async def confirm(
    case_id: UUID,
    body: ConfirmationRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Agent,
    if_match: MaybeIfMatch,
) -> CaseResponse:
    """Record the customer's confirmation of the outcome: who, how, when, and how satisfied
    (the job confirms understanding and satisfaction before closing)."""
    command = c.RecordConfirmation(
        case_id,
        body.confirmed_by_name,
        body.channel,
        body.confirmed_at,
        principal.sub,
        now(),
        body.note,
        body.satisfaction,
        body.satisfaction_comment,
    )
    return _answer(response, await _run(conn, request, command, if_match))


@router.post("/{case_id}/resolve", response_model=CaseResponse)
async def resolve(
    case_id: UUID,
    body: ResolveRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Agent,
    if_match: IfMatch,
) -> CaseResponse:
    """Resolve with a resolution summary. Needs If-Match."""
    command = c.ResolveCase(case_id, body.resolution_summary, principal.sub, now())
    return _answer(response, await _run(conn, request, command, if_match))


@router.post("/{case_id}/close", response_model=CaseResponse)
async def close(
    case_id: UUID,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Agent,
    if_match: IfMatch,
) -> CaseResponse:
    """Close a resolved case (a billing case needs the customer's confirmation). Needs If-Match."""
    command = c.CloseCase(case_id, principal.sub, now())
    return _answer(response, await _run(conn, request, command, if_match))


@router.post("/{case_id}/reopen", response_model=CaseResponse)
async def reopen(
    case_id: UUID,
    body: ReopenRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Agent,
    if_match: IfMatch,
    deps: Deps,
) -> CaseResponse:
    """Reopen a closed case within the reopen window. Needs If-Match."""
    command = c.ReopenCase(
        case_id, body.reason, deps.policy.reopen_window_days, principal.sub, now()
    )
    return _answer(response, await _run(conn, request, command, if_match))


@router.post("/{case_id}/next-action", response_model=CaseResponse)
async def set_next_action(
    case_id: UUID,
    body: NextActionRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Agent,
    if_match: IfMatch,
) -> CaseResponse:
    """The owner's next step and the business day it is due; the owner is reminded on that
    day (a `next_action_due` notification). Only the owner sets it. Needs If-Match."""
    at = now()
    command = c.SetNextAction(
        case_id,
        body.next_action_on,
        body.next_action,
        business_dates().today(at),
        principal.sub,
        at,
    )
    return _answer(response, await _run(conn, request, command, if_match))
