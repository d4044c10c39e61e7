"""The search box on every page: reporting's search, or a clear "not available yet"."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from console_service.adapters import reporting
from console_service.adapters.platform_api import Refused
from console_service.web import Api, Render, SignedIn

router = APIRouter()


@router.get("/search")
async def search(
    request: Request,
    person: SignedIn,
    api: Api,
    pages: Render,
    q: str = Query(default="", max_length=200),
) -> Response:
    results, available, refused = None, True, None
    if q.strip():
        try:
            results = await reporting.search(api, person.token, q.strip())
        except Refused as exc:
            available = exc.status != 404
            refused = None if exc.status == 404 else exc
    return pages.render(
        request, "search.html", q=q, results=results, available=available, refused=refused
    )
