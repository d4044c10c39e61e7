"""Approvals: what waits for a supervisor, and the supervisor's decision (If-Match).

Four eyes: whoever asked for the credit or write-off is answered 403 when they try
to approve or reject it themselves, whatever their roles.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from billing_adapter.api.common import Conn, trace
from billing_adapter.api.models import ApprovalPage, ApprovalResponse, RejectApprovalRequest
from billing_adapter.domain.approval import Approval, ApprovalStatus, DecideApproval
from billing_adapter.service_layer import approvals as use
from receivables_platform.repository import Loaded
from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.etag import Precondition, require_if_match, set_etag, version_check
from receivables_platform.web.pages import CursorQuery, decode_cursor, page_of

router = APIRouter(prefix="/v1/approvals", tags=["approvals"])
APPROVERS = require_roles("supervisor", "admin")
LISTERS = require_roles("supervisor", "admin", "integration")
Approver = Annotated[Principal, Depends(APPROVERS)]
IfMatch = Annotated[Precondition, Depends(require_if_match)]


def _answer(response: Response, loaded: Loaded[Approval]) -> ApprovalResponse:
    set_etag(response, loaded.version)
    return ApprovalResponse.of(loaded.state, loaded.version)


@router.get("", response_model=ApprovalPage, dependencies=[Depends(LISTERS)])
async def list_approvals(
    conn: Conn,
    status: ApprovalStatus = ApprovalStatus.PENDING,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: CursorQuery = None,
) -> ApprovalPage:
    """Pending approvals by default, the longest waiting first."""
    after = decode_cursor(cursor, datetime.fromisoformat, UUID) if cursor else None
    loaded = await use.pending(conn, status, limit + 1, after)
    items = [ApprovalResponse.of(x.state, x.version) for x in loaded]
    page, next_cursor = page_of(items, limit, lambda x: (x.requested_at.isoformat(), x.approval_id))
    return ApprovalPage(items=page, next_cursor=next_cursor)


@router.get("/{approval_id}", response_model=ApprovalResponse, dependencies=[Depends(LISTERS)])
async def read(approval_id: UUID, response: Response, conn: Conn) -> ApprovalResponse:
    """One four-eyes approval of a large credit or write-off: what was asked, by whom, and its
    decision."""
    return _answer(response, await use.get_approval(conn, approval_id))


@router.post("/{approval_id}/approve", response_model=ApprovalResponse)
async def approve(
    approval_id: UUID,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Approver,
    if_match: IfMatch,
) -> ApprovalResponse:
    """Approve and apply the credit or write-off. Needs If-Match; not by its requester."""
    decided = await use.decide_approval(
        conn,
        DecideApproval(approval_id, True, principal.sub, datetime.now(UTC)),
        check=version_check(if_match),
        correlation_id=trace(request),
    )
    return _answer(response, decided)


@router.post("/{approval_id}/reject", response_model=ApprovalResponse)
async def reject(
    approval_id: UUID,
    body: RejectApprovalRequest,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Approver,
    if_match: IfMatch,
) -> ApprovalResponse:
    """Reject with a reason; nothing is applied. Needs If-Match; not by its requester."""
    decided = await use.decide_approval(
        conn,
        DecideApproval(approval_id, False, principal.sub, datetime.now(UTC), body.reason),
        check=version_check(if_match),
        correlation_id=trace(request),
    )
    return _answer(response, decided)
