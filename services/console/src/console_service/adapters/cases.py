"""Every call the console makes to case-service, in one place.

Writes that change what a case is carry the ETag the agent read (If-Match), so
two agents on one case never overwrite each other; creates carry an
Idempotency-Key, so a double-clicked button opens one case, not two.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from uuid import UUID

from console_service.adapters.platform_api import Answer, PlatformApi

SERVICE = "case-service"


async def find(api: PlatformApi, token: str, **filters: Any) -> list[dict[str, Any]]:
    page = await api.get(SERVICE, "/v1/cases", token, **filters)
    items: list[dict[str, Any]] = page["items"]
    return items


async def case(api: PlatformApi, token: str, case_id: UUID) -> Answer:
    return await api.call("GET", SERVICE, f"/v1/cases/{case_id}", token)


async def open_case(
    api: PlatformApi,
    token: str,
    *,
    account_id: UUID | None,
    type: str,
    origin: str,
    subject: str,
    description: str,
    idempotency_key: str,
) -> Answer:
    return await api.call(
        "POST",
        SERVICE,
        "/v1/cases",
        token,
        json={
            "account_id": str(account_id) if account_id else None,
            "type": type,
            "origin": origin,
            "subject": subject,
            "description": description,
        },
        idempotency_key=idempotency_key,
    )


async def act(
    api: PlatformApi,
    token: str,
    case_id: UUID,
    step: str,
    body: dict[str, Any],
    *,
    version: str | None,
    idempotency_key: str | None = None,
) -> Answer:
    """One step of working the case (`notes`, `status`, `root-cause`, `escalations`, ...):
    case-service's routes share this shape, so a new step needs no new function."""
    return await api.call(
        "POST",
        SERVICE,
        f"/v1/cases/{case_id}/{step}",
        token,
        json=body,
        if_match=version or None,
        idempotency_key=idempotency_key,
    )


async def root_causes(
    api: PlatformApi, token: str, *, include_retired: bool = False
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(
        SERVICE, "/v1/root-causes", token, include_retired="true" if include_retired else None
    )
    return found


async def sops_for(api: PlatformApi, token: str, case_id: UUID) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, f"/v1/cases/{case_id}/sops", token)
    return found


async def overdue_escalations(api: PlatformApi, token: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, "/v1/escalations/overdue", token)
    return found


async def put_agent(
    api: PlatformApi, token: str, user_id: str, *, name: str, email: str | None, active: bool
) -> Answer:
    return await api.call(
        "PUT",
        SERVICE,
        f"/v1/agents/{quote(user_id, safe='')}",
        token,
        json={"name": name, "email": email, "active": active},
    )


async def add_root_cause(
    api: PlatformApi, token: str, body: dict[str, Any], *, idempotency_key: str
) -> Answer:
    return await api.call(
        "POST", SERVICE, "/v1/root-causes", token, json=body, idempotency_key=idempotency_key
    )


async def retire_root_cause(api: PlatformApi, token: str, category_id: UUID) -> Answer:
    return await api.call("POST", SERVICE, f"/v1/root-causes/{category_id}/retire", token)


async def sops(api: PlatformApi, token: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, "/v1/sops", token)
    return found


async def add_sop(
    api: PlatformApi, token: str, body: dict[str, Any], *, idempotency_key: str
) -> Answer:
    return await api.call(
        "POST", SERVICE, "/v1/sops", token, json=body, idempotency_key=idempotency_key
    )


async def attach(
    api: PlatformApi,
    token: str,
    case_id: UUID,
    *,
    filename: str,
    content_type: str,
    content: Any,
    note: str | None,
    version: str | None,
    idempotency_key: str,
) -> Answer:
    """The file goes as the request body (case-service counts its bytes as they arrive and
    refuses past its limit), its name and the agent's note in the query."""
    return await api.call(
        "POST",
        SERVICE,
        f"/v1/cases/{case_id}/attachments",
        token,
        params={"filename": filename, "note": note},
        content=content,
        content_type=content_type,
        if_match=version or None,
        idempotency_key=idempotency_key,
    )


async def attachment(api: PlatformApi, token: str, case_id: UUID, sha256: str) -> Any:
    return await api.file(SERVICE, f"/v1/cases/{case_id}/attachments/{sha256}", token)


async def inbox(
    api: PlatformApi,
    token: str,
    *,
    teams: list[str],
    states: list[str],
    overdue: bool | None,
    cursor: str | None,
    limit: int,
) -> Any:
    return await api.get(
        SERVICE,
        "/v1/escalations",
        token,
        team=teams or None,
        state=states or None,
        overdue=None if overdue is None else str(overdue).lower(),
        cursor=cursor,
        limit=limit,
    )


async def inbox_item(api: PlatformApi, token: str, escalation_id: UUID) -> Answer:
    return await api.call("GET", SERVICE, f"/v1/escalations/{escalation_id}", token)


async def claim(api: PlatformApi, token: str, escalation_id: UUID, *, version: str) -> Answer:
    return await api.call(
        "POST", SERVICE, f"/v1/escalations/{escalation_id}/claim", token, if_match=version
    )


async def answer_escalation(
    api: PlatformApi, token: str, escalation_id: UUID, *, answer: str, version: str | None
) -> Answer:
    return await api.call(
        "POST",
        SERVICE,
        f"/v1/escalations/{escalation_id}/answer",
        token,
        json={"answer": answer},
        if_match=version or None,
    )


async def my_preferences(api: PlatformApi, token: str) -> Any:
    return await api.get(SERVICE, "/v1/notification-preferences/me", token)


async def save_preferences(api: PlatformApi, token: str, body: dict[str, Any]) -> Answer:
    return await api.call("PUT", SERVICE, "/v1/notification-preferences/me", token, json=body)
