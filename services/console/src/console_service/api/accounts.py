"""The account: balances by aging bucket, contacts, invoices, promises, timeline.

Each part comes from the service that owns it; a part whose service is down or
has no such route yet (the timeline, while reporting adds it) shows as not
available instead of failing the page.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console_service.adapters.platform_api import PlatformApi, Refused, Unreachable
from console_service.web import Api, Render, SignedIn
from receivables_platform.ids import new_id

router = APIRouter()
NOT_AVAILABLE = {"available": False}


async def _part(api: PlatformApi, service: str, path: str, token: str, **params: Any) -> Any:
    try:
        return await api.get(service, path, token, **params)
    except (Refused, Unreachable):
        return NOT_AVAILABLE


@router.get("/accounts/{account_id}")
async def account(
    request: Request, account_id: UUID, person: SignedIn, api: Api, pages: Render
) -> Response:
    try:
        billing = await api.get("billing-adapter", f"/v1/accounts/{account_id}", person.token)
    except Refused as refused:
        return pages.render(
            request,
            "error.html",
            status_code=refused.status,
            title=refused.title,
            detail=refused.detail,
        )
    summary, collections, contacts, promises, invoices, timeline = await asyncio.gather(
        _part(api, "reporting-service", f"/v1/accounts/{account_id}/summary", person.token),
        _part(api, "collections-service", f"/v1/accounts/{account_id}", person.token),
        _part(api, "collections-service", f"/v1/accounts/{account_id}/contacts", person.token),
        _part(api, "collections-service", f"/v1/accounts/{account_id}/commitments", person.token),
        _part(api, "billing-adapter", f"/v1/accounts/{account_id}/invoices", person.token),
        _part(
            api, "reporting-service", f"/v1/accounts/{account_id}/timeline", person.token, limit=50
        ),
    )
    return pages.render(
        request,
        "account.html",
        account=billing,
        summary=summary,
        collections=collections,
        contacts=contacts,
        promises=promises,
        invoices=invoices,
        timeline=timeline,
        new_key=lambda: str(new_id()),
    )
