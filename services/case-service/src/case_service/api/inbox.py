"""Team inboxes: the escalations of the internal teams, to list, claim and answer.

Team membership comes from the token: role `team:service`, `team:installation`,
`team:operations` or `team:billing_operations` (`web.auth.TEAM_ROLES`). A team
member sees and works only their teams' escalations; case agents, supervisors
and admins see every team's (and an agent may record a team's answer, as on the
case route). Claiming needs If-Match with the `case_version` the inbox showed:
a member working from a stale page is told so (412) instead of overwriting.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response

from case_service.adapters import inbox as rows
from case_service.api.common import Conn, IfMatch, MaybeIfMatch, now, precondition, trace
from case_service.api.models import AnswerRequest, InboxEscalation, InboxPage
from case_service.service_layer import inbox as use
from receivables_platform.business_dates import business_dates
from receivables_platform.contracts.cases import EscalationTeam
from receivables_platform.web.auth import TEAM_ROLES, Principal, require_roles
from receivables_platform.web.etag import set_etag
from receivables_platform.web.pages import CursorQuery
from receivables_platform.web.problems import Problem, problem_type

SEE_ALL = frozenset({"case_agent", "supervisor", "admin"})
INBOX = require_roles(*SEE_ALL, *sorted(TEAM_ROLES))
Member = Annotated[Principal, Depends(INBOX)]

router = APIRouter(prefix="/v1/escalations", tags=["inbox"])


def visible_teams(principal: Principal) -> frozenset[str] | None:
    """None: every team's; else the caller's own teams."""
    return None if principal.has_any(SEE_ALL) else principal.teams


def _item(row: asyncpg.Record) -> InboxEscalation:
    return InboxEscalation(**{k: row[k] for k in InboxEscalation.model_fields})


async def _answer(
    conn: asyncpg.Connection, response: Response, escalation_id: UUID
) -> InboxEscalation:
    row = await use.read(conn, escalation_id, now(), None)
    set_etag(response, row["case_version"])
    return _item(row)


@router.get("", response_model=InboxPage)
async def list_inbox(
    conn: Conn,
    principal: Member,
    team: Annotated[
        list[EscalationTeam] | None,
        Query(description="Teams to list; a team member may name only their own"),
    ] = None,
    state: Annotated[list[Literal["open", "claimed", "answered"]] | None, Query()] = None,
    overdue: bool | None = None,
    claimed_by: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> InboxPage:
    """The escalations of the caller's teams (or of `team`), the soonest due first.
    `state=open` is the unclaimed work; `overdue=true` what is past its due date unanswered."""
    own = visible_teams(principal)
    wanted = (
        frozenset(t.value for t in team)
        if team
        else (own if own is not None else frozenset(t.value for t in EscalationTeam))
    )
    if own is not None and not wanted <= own:
        raise Problem(
            403,
            "Not your team",
            f"you work the inbox of {', '.join(sorted(own)) or 'no team'}",
            type=problem_type("forbidden"),
            field="query.team",
        )
    f = rows.InboxFilter(sorted(wanted), tuple(state or ()), overdue, claimed_by)
    found, next_cursor = await rows.escalations(
        conn, f, business_dates().today(now()), limit, cursor
    )
    return InboxPage(items=[_item(r) for r in found], next_cursor=next_cursor)


@router.get("/{escalation_id}", response_model=InboxEscalation)
async def read(
    escalation_id: UUID, response: Response, conn: Conn, principal: Member
) -> InboxEscalation:
    """One escalation; its ETag is the case's version, for If-Match on claim and answer."""
    row = await use.read(conn, escalation_id, now(), visible_teams(principal))
    set_etag(response, row["case_version"])
    return _item(row)


@router.post("/{escalation_id}/claim", response_model=InboxEscalation)
async def claim(
    escalation_id: UUID,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Member,
    if_match: IfMatch,
) -> InboxEscalation:
    """Take the escalation as a member of its team: 409 when another member claimed it,
    403 for another team's. Claiming it again yourself changes nothing. Needs If-Match."""
    await use.claim(
        conn,
        escalation_id,
        principal.teams,
        principal.sub,
        now(),
        check=precondition(if_match),
        correlation_id=trace(request),
    )
    return await _answer(conn, response, escalation_id)


@router.post("/{escalation_id}/answer", response_model=InboxEscalation)
async def answer(
    escalation_id: UUID,
    body: AnswerRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Member,
    if_match: MaybeIfMatch,
) -> InboxEscalation:
    """Answer the escalation: 409 when another member claimed it or it was answered."""
    await use.answer(
        conn,
        escalation_id,
        body.answer,
        visible_teams(principal),
        principal.sub,
        now(),
        check=precondition(if_match),
        correlation_id=trace(request),
    )
    return await _answer(conn, response, escalation_id)
