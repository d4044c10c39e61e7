"""The supervisor's view: aging by bucket and the week's KPIs, as reporting computes them."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from console_service.adapters.platform_api import Refused
from console_service.web import Api, Render, SignedIn

router = APIRouter()
REPORTING = "reporting-service"


@router.get("/supervisor")
async def supervisor(request: Request, person: SignedIn, api: Api, pages: Render,
                     currency: str = Query(default="USD", pattern=r"^[A-Z]{3}$")) -> Response:
    refused = None
    aging = kpis = None
    try:
        aging = await api.get(REPORTING, "/v1/aging", person.token, currency=currency,
                              group_by="collector")
        kpis = await api.get(REPORTING, "/v1/kpis", person.token, currency=currency)
    except Refused as exc:
        refused = exc
    return pages.render(request, "supervisor.html", currency=currency, aging=aging, kpis=kpis,
                        refused=refused)
