"""Every call the console makes to billing-adapter, in one place."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from console_service.adapters.platform_api import Answer, PlatformApi

SERVICE = "billing-adapter"


async def account(api: PlatformApi, token: str, account_id: UUID) -> Any:
    return await api.get(SERVICE, f"/v1/accounts/{account_id}", token)


async def invoices_of(
    api: PlatformApi, token: str, account_id: UUID, *, open_only: bool = False
) -> list[dict[str, Any]]:
    page = await api.get(
        SERVICE,
        f"/v1/accounts/{account_id}/invoices",
        token,
        open="true" if open_only else None,
        limit=500,
    )
    items: list[dict[str, Any]] = page["items"]
    return items


async def pending_approvals(api: PlatformApi, token: str) -> list[dict[str, Any]]:
    page = await api.get(SERVICE, "/v1/approvals", token, status="pending", limit=200)
    items: list[dict[str, Any]] = page["items"]
    return items


async def decide_approval(
    api: PlatformApi,
    token: str,
    approval_id: UUID,
    *,
    approve: bool,
    reason: str | None,
    version: str,
) -> Any:
    """Approve or reject with the version the supervisor saw, so a decision on an
    approval that changed since (another supervisor decided it) comes back stale."""
    verb = "approve" if approve else "reject"
    return await api.call(
        "POST",
        SERVICE,
        f"/v1/approvals/{approval_id}/{verb}",
        token,
        json=None if approve else {"reason": reason or ""},
        if_match=version,
    )


async def pay_link(
    api: PlatformApi, token: str, account_id: UUID, *, idempotency_key: str
) -> Answer:
    """A link that pays the account's open invoices, for the collector to give the customer;
    the same key again answers with the same link (a double click makes one)."""
    return await api.call(
        "POST",
        SERVICE,
        f"/v1/accounts/{account_id}/pay-links",
        token,
        json={"purpose": "payment"},
        idempotency_key=idempotency_key,
    )
