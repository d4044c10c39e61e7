"""The team inbox: what a case asked of service, installation, operations or billing
operations, for the team's members to claim and answer.

A member sees their own teams' escalations (case-service decides from the token's
`team:<team>` roles); case agents, supervisors and admins see every team's. A
claim is sent with the case version the inbox showed, so two members claiming
one escalation from the same page get "someone changed this", not a silent
double claim; an answer to one a colleague claimed comes back as case-service's
409, shown beside that escalation.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from console_service.adapters import cases
from console_service.adapters.platform_api import PlatformApi, Refused
from console_service.i18n import N_
from console_service.web import Api, Person, Render, SignedIn, check_csrf
from receivables_platform.contracts.cases import EscalationTeam
from receivables_platform.web.etag import etag

router = APIRouter()
TEAMS = [t.value for t in EscalationTeam]
State = Literal["open", "claimed", "answered"]
STATES: tuple[State, ...] = ("open", "claimed", "answered")
PAGE = 25
CASE_READERS = ("case_agent", "receivables_rep", "supervisor", "admin", "collector")
"""Who may open the case behind an escalation; a team member works from the inbox."""
Team = Annotated[EscalationTeam | None, Query()]
Cursor = Annotated[str | None, Query(max_length=500, pattern=r"^[A-Za-z0-9_\-=]+$")]


def _filters(team: str | None, state: str | None, overdue: bool) -> dict[str, Any]:
    return {"team": team or "", "state": state or "", "overdue": overdue}


async def _inbox_page(
    request: Request,
    pages: Render,
    api: PlatformApi,
    person: Person,
    *,
    filters: dict[str, Any],
    cursor: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    try:
        page = await cases.inbox(
            api,
            person.token,
            teams=[filters["team"]] if filters["team"] else [],
            states=[filters["state"]] if filters["state"] else [],
            overdue=True if filters["overdue"] else None,
            cursor=cursor,
            limit=PAGE,
        )
    except Refused as refused:
        page, status_code = {"items": [], "next_cursor": None}, refused.status
        context.setdefault("refused", refused)
    return pages.render(
        request,
        "inbox.html",
        status_code=status_code,
        items=page["items"],
        next_cursor=page.get("next_cursor"),
        filters=filters,
        teams=TEAMS,
        states=STATES,
        etag=etag,
        opens_cases=person.can(*CASE_READERS),
        **context,
    )


@router.get("/inbox")
async def inbox(
    request: Request,
    person: SignedIn,
    api: Api,
    pages: Render,
    team: Team = None,
    state: Annotated[State | None, Query()] = None,
    overdue: bool = False,
    cursor: Cursor = None,
) -> Response:
    """The soonest due first, a page at a time; `state=open` is the unclaimed work."""
    return await _inbox_page(
        request,
        pages,
        api,
        person,
        cursor=cursor,
        filters=_filters(team.value if team else None, state, overdue),
    )


def _kept_filters(form: dict[str, str]) -> dict[str, Any]:
    team, state = form.get("team", ""), form.get("state", "")
    return _filters(
        team if team in TEAMS else None,
        state if state in STATES else None,
        form.get("overdue") == "true",
    )


async def _refused(
    request: Request,
    pages: Render,
    api: PlatformApi,
    person: Person,
    escalation_id: UUID,
    form: dict[str, str],
    refused: Refused,
) -> Response:
    """The inbox as the member left it (their filters), the refusal beside that escalation."""
    status = (
        409 if refused.stale or refused.status == 409 else 403 if refused.status == 403 else 422
    )
    return await _inbox_page(
        request,
        pages,
        api,
        person,
        filters=_kept_filters(form),
        status_code=status,
        refused=refused,
        failed=str(escalation_id),
        values=form,
    )


async def _form(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


@router.post("/inbox/{escalation_id}/claim", dependencies=[Depends(check_csrf)])
async def claim(
    request: Request,
    escalation_id: UUID,
    person: SignedIn,
    api: Api,
    pages: Render,
    version: Annotated[str, Form()] = "",
) -> Response:
    form = await _form(request)
    try:
        await cases.claim(api, person.token, escalation_id, version=version)
    except Refused as refused:
        return await _refused(request, pages, api, person, escalation_id, form, refused)
    return await _inbox_page(
        request,
        pages,
        api,
        person,
        filters=_kept_filters(form),
        notice=N_("Claimed: it is yours to answer"),
    )


@router.post("/inbox/{escalation_id}/answer", dependencies=[Depends(check_csrf)])
async def answer(
    request: Request,
    escalation_id: UUID,
    person: SignedIn,
    api: Api,
    pages: Render,
    version: Annotated[str, Form()] = "",
    answer: Annotated[str, Form()] = "",
) -> Response:
    form = await _form(request)
    try:
        if not answer.strip():
            raise Refused(422, N_("Invalid request"), "", {"answer": N_("Write the team's answer")})
        await cases.answer_escalation(
            api, person.token, escalation_id, answer=answer, version=version
        )
    except Refused as refused:
        return await _refused(request, pages, api, person, escalation_id, form, refused)
    return await _inbox_page(
        request,
        pages,
        api,
        person,
        filters=_kept_filters(form),
        notice=N_("Answer sent to the case"),
    )
