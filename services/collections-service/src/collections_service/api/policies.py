"""Cadence policies: supervisors and admins write them; every version stays readable."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from collections_service.adapters import reads
from collections_service.api.common import READERS, Conn, IfMatch, Manager
from collections_service.api.models import PolicyRequest, PolicyResponse, PolicyRevision
from collections_service.api.refusals import RefusalRoute
from collections_service.service_layer import policies
from receivables_platform.web.etag import set_etag
from receivables_platform.web.idempotency import IdempotentRequest

router = APIRouter(prefix="/v1/policies", tags=["cadence policies"], route_class=RefusalRoute)


@router.post("", status_code=201, response_model=PolicyResponse)
async def create(body: PolicyRequest, principal: Manager, idem: IdempotentRequest) -> Response:
    """A segment's policy (no segment: the default for segments without one), version 1.

    Steps on the same offset overlap and are refused, naming the step.
    """
    row = await policies.create(
        idem.conn,
        segment=body.segment,
        name=body.name,
        steps=[s.step() for s in body.steps],
        by=principal.sub,
        catch_up=body.catch_up,
    )
    return await idem.respond(
        PolicyResponse.of(row),
        status_code=201,
        version=row["version"],
        headers={"Location": f"/v1/policies/{row['policy_id']}"},
    )


@router.get("", response_model=list[PolicyResponse], dependencies=[Depends(READERS)])
async def list_policies(conn: Conn) -> list[PolicyResponse]:
    """The current version of every policy."""
    rows = await reads.current_policies(conn)
    return [PolicyResponse.of(r) for r in rows]


@router.get("/{policy_id}", response_model=PolicyResponse, dependencies=[Depends(READERS)])
async def read(
    policy_id: UUID,
    response: Response,
    conn: Conn,
    version: int | None = Query(default=None, ge=1, le=1_000_000),
) -> PolicyResponse:
    """The current version, or any earlier one with `?version=`."""
    if version is None:
        row = await policies.latest(conn, policy_id)
    else:
        row = await reads.policy_version(conn, policy_id, version)
    set_etag(response, row["version"])
    return PolicyResponse.of(row)


@router.put("/{policy_id}", response_model=PolicyResponse)
async def revise(
    policy_id: UUID,
    body: PolicyRevision,
    response: Response,
    conn: Conn,
    principal: Manager,
    if_match: IfMatch,
) -> PolicyResponse:
    """A new version (If-Match the one you read); tasks already scheduled keep theirs."""
    row = await policies.revise(
        conn,
        policy_id,
        name=body.name,
        steps=[s.step() for s in body.steps],
        by=principal.sub,
        check=if_match.check,
        catch_up=body.catch_up,
    )
    set_etag(response, row["version"])
    return PolicyResponse.of(row)
