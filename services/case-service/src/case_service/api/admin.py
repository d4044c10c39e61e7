"""Admin data: the case agents who may own cases, the root-cause taxonomy, and SOPs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field, model_validator

from case_service.adapters import directory
from case_service.api.common import ADMINS, READERS, Conn
from case_service.api.models import AgentRequest, Body
from case_service.service_layer import taxonomy
from case_service.service_layer.cases import get_case
from receivables_platform.ids import new_id
from receivables_platform.web.idempotency import IdempotentRequest

router = APIRouter(prefix="/v1", tags=["admin"])


class AgentResponse(BaseModel):
    user_id: str
    name: str
    email: str | None
    active: bool


class CategoryRequest(Body):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Z0-9_\-]+$")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class CategoryResponse(BaseModel):
    category_id: UUID
    code: str
    name: str
    description: str | None
    created_at: datetime
    retired_at: datetime | None


class SopRequest(Body):
    title: str = Field(min_length=1, max_length=300)
    body: str | None = Field(default=None, max_length=100_000)
    link: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    category_ids: list[UUID] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _body_or_link(self) -> SopRequest:
        if self.body is None and self.link is None:
            raise ValueError("an SOP needs a body or a link")
        return self


class SopResponse(BaseModel):
    sop_id: UUID
    title: str
    body: str | None
    link: str | None
    category_ids: list[UUID]
    created_at: datetime


@router.put("/agents/{user_id}", response_model=AgentResponse, dependencies=[Depends(ADMINS)])
async def put_agent(
    user_id: Annotated[str, Field(max_length=200)], body: AgentRequest, conn: Conn
) -> AgentResponse:
    """Register or update a case agent (the token `sub`); inactive agents cannot own cases."""
    await directory.put_agent(conn, user_id, body.name, body.email, body.active)
    return AgentResponse(user_id=user_id, **body.model_dump())


@router.post(
    "/root-causes", status_code=201, response_model=CategoryResponse, dependencies=[Depends(ADMINS)]
)
async def add_category(body: CategoryRequest, idem: IdempotentRequest) -> Response:
    """Add a root-cause category. Idempotency-Key required."""
    made = await taxonomy.add_category(idem.conn, new_id(), body.code, body.name, body.description)
    return await idem.respond(CategoryResponse(**made.__dict__), status_code=201)


@router.get("/root-causes", response_model=list[CategoryResponse], dependencies=[Depends(READERS)])
async def list_categories(conn: Conn, include_retired: bool = False) -> list[CategoryResponse]:
    """The root-cause taxonomy cases are classified by; retired categories only with
    `include_retired`."""
    return [
        CategoryResponse(**x.__dict__)
        for x in await taxonomy.list_categories(conn, include_retired)
    ]


@router.post(
    "/root-causes/{category_id}/retire",
    response_model=CategoryResponse,
    dependencies=[Depends(ADMINS)],
)
async def retire_category(category_id: UUID, conn: Conn) -> CategoryResponse:
    """Retire a category: no new case can pick it; cases that have it keep it."""
    return CategoryResponse(**(await taxonomy.retire_category(conn, category_id)).__dict__)


@router.post("/sops", status_code=201, response_model=SopResponse, dependencies=[Depends(ADMINS)])
async def add_sop(body: SopRequest, request: Request, idem: IdempotentRequest) -> Response:
    """Add a standard operating procedure for recurring causes. Idempotency-Key required."""
    made = await taxonomy.add_sop(
        idem.conn, new_id(), body.title, body.body, body.link, body.category_ids
    )
    return await idem.respond(SopResponse(**made.__dict__), status_code=201)


@router.get("/sops", response_model=list[SopResponse], dependencies=[Depends(READERS)])
async def list_sops(
    conn: Conn,
    category_id: Annotated[UUID | None, Query()] = None,
) -> list[SopResponse]:
    """SOPs, or those linked to one root-cause category."""
    return [SopResponse(**x.__dict__) for x in await taxonomy.sops_for(conn, category_id)]


@router.get(
    "/cases/{case_id}/sops", response_model=list[SopResponse], dependencies=[Depends(READERS)]
)
async def sops_for_case(case_id: UUID, conn: Conn) -> list[SopResponse]:
    """The SOPs linked to the case's root-cause category (none before a root cause is set)."""
    case = (await get_case(conn, case_id)).state
    if case.root_cause is None:
        return []
    return [
        SopResponse(**x.__dict__)
        for x in await taxonomy.sops_for(conn, case.root_cause.category_id)
    ]
