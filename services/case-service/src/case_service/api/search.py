"""Case lists: search with filters and cursor pagination, and overdue escalations."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from case_service.adapters import search
from case_service.api.common import READERS, Conn, now
from case_service.api.models import CasePage, CaseSummary, OverdueEscalation
from case_service.service_layer.inbound_email import assign_waiting
from receivables_platform.contracts.cases import CaseOrigin, CaseStatus, CaseType
from receivables_platform.web.auth import Principal, require_roles

Supervisor = Annotated[Principal, Depends(require_roles("supervisor", "admin"))]

router = APIRouter(prefix="/v1", tags=["search"])


@router.get("/cases", response_model=CasePage, dependencies=[Depends(READERS)])
async def list_cases(
    conn: Conn,
    status: Annotated[list[CaseStatus] | None, Query()] = None,
    open: bool | None = None,
    owner_id: str | None = None,
    account_id: UUID | None = None,
    type: CaseType | None = None,
    root_cause: Annotated[str | None, Query(description="Root-cause category code")] = None,
    older_than_days: Annotated[int | None, Query(ge=0, le=3650)] = None,
    sla_state: Literal["on_track", "paused", "breached", "met"] | None = None,
    unassigned: Annotated[
        bool | None, Query(description="true: the queue of cases nobody owns yet")
    ] = None,
    origin: CaseOrigin | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasePage:
    """Newest first. Open longer than two weeks: `open=true&older_than_days=14`; the inbound
    email queue: `unassigned=true&origin=inbound_email&open=true`."""
    f = search.CaseFilter(
        tuple(status or ()),
        open,
        owner_id,
        account_id,
        type,
        root_cause,
        older_than_days,
        sla_state,
        unassigned,
        origin,
    )
    rows, next_cursor = await search.search(conn, f, now(), limit, cursor)
    return CasePage(
        items=[CaseSummary(**{k: r[k] for k in CaseSummary.model_fields}) for r in rows],
        next_cursor=next_cursor,
    )


@router.get(
    "/escalations/overdue", response_model=list[OverdueEscalation], dependencies=[Depends(READERS)]
)
async def overdue_escalations(conn: Conn) -> list[OverdueEscalation]:
    """Unanswered escalations past their due date, most overdue first."""
    rows = await search.overdue_escalations(conn, now().date())
    return [OverdueEscalation(**{k: r[k] for k in OverdueEscalation.model_fields}) for r in rows]


class QueueAssignment(BaseModel):
    case_id: UUID
    case_number: str
    owner_id: str


@router.post("/inbound-queue/assign", response_model=list[QueueAssignment])
async def assign_inbound_queue(conn: Conn, principal: Supervisor) -> list[QueueAssignment]:
    """Assign the inbound-email cases still waiting for an owner by the inbound rule (the
    account's collector if an active agent, else agents in turn), the longest waiting first:
    for when no agent was active as the emails arrived. Stops when none is active."""
    done = await assign_waiting(conn, actor=principal.sub, at=now())
    return [
        QueueAssignment(
            case_id=x.state.case_id, case_number=x.state.case_number, owner_id=x.state.owner_id
        )
        for x in done
    ]
