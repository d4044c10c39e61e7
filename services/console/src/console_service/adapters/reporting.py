"""Every call the console makes to reporting-service, in one place."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from console_service.adapters.platform_api import PlatformApi

SERVICE = "reporting-service"


async def aging(
    api: PlatformApi, token: str, *, currency: str, group_by: str, **filters: Any
) -> Any:
    return await api.get(
        SERVICE, "/v1/aging", token, currency=currency, group_by=group_by, **filters
    )


async def kpis(api: PlatformApi, token: str, *, currency: str, period: str, group_by: str) -> Any:
    return await api.get(
        SERVICE, "/v1/kpis", token, currency=currency, period=period, group_by=group_by
    )


async def trend(api: PlatformApi, token: str, *, currency: str, period: str) -> Any:
    return await api.get(SERVICE, "/v1/aging/trend", token, currency=currency, period=period)


async def weekly_review(api: PlatformApi, token: str, *, week: str, currency: str) -> Any:
    return await api.get(
        SERVICE, "/v1/reports/weekly-review", token, week=week, currency=currency, format="json"
    )


async def search(api: PlatformApi, token: str, q: str) -> Any:
    return await api.get(SERVICE, "/v1/search", token, q=q, limit=25)


async def set_team(api: PlatformApi, token: str, collector_id: str, team: str) -> None:
    await api.call(
        "PUT",
        SERVICE,
        f"/v1/collectors/{quote(collector_id, safe='')}/team",
        token,
        json={"team": team},
    )
