"""The case desk: queues (mine, unassigned) and the case page with its notes.

A note is written with the case's ETag, so a note typed while a colleague
changed the case comes back as "someone changed this", with the case as it is
now and the note kept in the form to send again.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from console_service.adapters.platform_api import Refused
from console_service.i18n import N_
from console_service.web import Api, Render, SignedIn, check_csrf

router = APIRouter()
CASES = "case-service"


@router.get("/cases")
async def queues(request: Request, person: SignedIn, api: Api, pages: Render,
                 queue: Literal["mine", "unassigned"] = Query(default="mine")) -> Response:
    params = {"open": "true", "limit": 50}
    page = await api.get(CASES, "/v1/cases", person.token, **params,
                         owner_id=person.sub if queue == "mine" else None)
    items = page["items"]
    if queue == "unassigned":
        items = [case for case in items if not case.get("owner_id")]
    return pages.render(request, "cases.html", queue=queue, cases=items)


async def _case_page(request: Request, pages: Render, api: Api, token: str, case_id: UUID,
                     status_code: int = 200, **context: object) -> Response:
    try:
        answer = await api.call("GET", CASES, f"/v1/cases/{case_id}", token)
    except Refused as refused:
        return pages.render(request, "error.html", status_code=refused.status,
                            title=refused.title, detail=refused.detail)
    return pages.render(request, "case.html", status_code=status_code, case=answer.body,
                        version=answer.version, **context)


@router.get("/cases/{case_id}")
async def case(request: Request, case_id: UUID, person: SignedIn, api: Api,
               pages: Render) -> Response:
    return await _case_page(request, pages, api, person.token, case_id)


@router.post("/cases/{case_id}/notes", dependencies=[Depends(check_csrf)])
async def add_note(request: Request, case_id: UUID, person: SignedIn, api: Api, pages: Render,
                   body: Annotated[str, Form()] = "",
                   version: Annotated[str, Form()] = "") -> Response:
    try:
        await api.call("POST", CASES, f"/v1/cases/{case_id}/notes", person.token,
                       json={"body": body}, if_match=version or None)
    except Refused as refused:
        return await _case_page(request, pages, api, person.token, case_id,
                                status_code=409 if refused.stale else 422,
                                refused=refused, note=body)
    return await _case_page(request, pages, api, person.token, case_id, notice=N_("Note added"))
