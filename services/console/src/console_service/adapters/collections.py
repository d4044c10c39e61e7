"""Every call the console makes to collections-service, in one place.

Screens ask for what a collector does ("log a call", "set a follow-up"), not
for paths: when collections adds a route, it is wired here once and every
screen that needs it calls the new function.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from uuid import UUID

from console_service.adapters.platform_api import Answer, PlatformApi

SERVICE = "collections-service"


async def worklist(api: PlatformApi, token: str, *, limit: int, offset: int) -> Any:
    """One page of the person's worklist in priority order, with `total` for the pager."""
    return await api.get(SERVICE, "/v1/worklist", token, limit=limit, offset=offset)


async def task(api: PlatformApi, token: str, task_id: UUID) -> Answer:
    return await api.call("GET", SERVICE, f"/v1/tasks/{task_id}", token)


async def log_call(
    api: PlatformApi,
    token: str,
    *,
    account_id: str,
    outcome: str,
    notes: str | None,
    task_id: UUID,
    idempotency_key: str,
) -> Answer:
    return await api.call(
        "POST",
        SERVICE,
        "/v1/contacts/calls",
        token,
        json={
            "account_id": account_id,
            "outcome": outcome,
            "notes": notes,
            "task_id": str(task_id),
        },
        idempotency_key=idempotency_key,
    )


async def complete_task(
    api: PlatformApi,
    token: str,
    task_id: UUID,
    *,
    outcome: str,
    notes: str | None,
    version: str | None,
) -> Answer:
    return await api.call(
        "POST",
        SERVICE,
        f"/v1/tasks/{task_id}/complete",
        token,
        json={"outcome": outcome, "notes": notes},
        if_match=version,
    )


async def take_promise(
    api: PlatformApi,
    token: str,
    account_id: UUID,
    *,
    amount_minor: int,
    currency: str | None,
    promised_date: str,
    idempotency_key: str,
) -> Answer:
    return await api.call(
        "POST",
        SERVICE,
        "/v1/commitments",
        token,
        json={
            "account_id": str(account_id),
            "amount_minor": amount_minor,
            "currency": currency,
            "promised_date": promised_date,
        },
        idempotency_key=idempotency_key,
    )


async def set_follow_up(
    api: PlatformApi,
    token: str,
    account_id: UUID,
    *,
    due_on: str,
    due_time: str | None,
    note: str | None,
    idempotency_key: str,
) -> Answer:
    """A new task on the collector's own list: "call back Thursday 10:00"."""
    return await api.call(
        "POST",
        SERVICE,
        "/v1/tasks",
        token,
        json={
            "account_id": str(account_id),
            "kind": "call",
            "due_on": due_on,
            "due_time": due_time,
            "note": note,
        },
        idempotency_key=idempotency_key,
    )


async def reschedule(
    api: PlatformApi,
    token: str,
    task_id: UUID,
    *,
    due_on: str | None,
    snooze_days: int | None,
    version: str | None,
) -> Answer:
    return await api.call(
        "PATCH",
        SERVICE,
        f"/v1/tasks/{task_id}",
        token,
        json={"due_on": due_on, "snooze_days": snooze_days},
        if_match=version,
    )


async def send_email(
    api: PlatformApi,
    token: str,
    account_id: str,
    *,
    template: str,
    task_id: UUID | None,
    idempotency_key: str,
) -> Answer:
    """A dunning template sent to the account's contacts, in the account's language (English
    when the template has none in it); collections records whether the mail server took it."""
    return await api.call(
        "POST",
        SERVICE,
        "/v1/contacts/emails",
        token,
        json={
            "account_id": account_id,
            "template": template,
            "task_id": str(task_id) if task_id else None,
        },
        idempotency_key=idempotency_key,
    )


async def templates(api: PlatformApi, token: str) -> list[dict[str, Any]]:
    """Every template name and language at its newest version."""
    found: list[dict[str, Any]] = await api.get(SERVICE, "/v1/templates", token)
    return found


async def template(api: PlatformApi, token: str, name: str, language: str) -> Answer:
    return await api.call(
        "GET", SERVICE, f"/v1/templates/{quote(name, safe='')}/{quote(language, safe='')}", token
    )


async def preview_template(api: PlatformApi, token: str, name: str, language: str) -> Any:
    """The newest version rendered with collections' sample account."""
    return await api.get(
        SERVICE, f"/v1/templates/{quote(name, safe='')}/{quote(language, safe='')}/preview", token
    )


async def preview_draft(
    api: PlatformApi, token: str, *, language: str, subject: str, body: str, requires: list[str]
) -> Any:
    """A draft rendered as saving it would check it; nothing is stored."""
    return (
        await api.call(
            "POST",
            SERVICE,
            "/v1/templates/preview",
            token,
            json={"language": language, "subject": subject, "body": body, "requires": requires},
        )
    ).body


async def revise_template(
    api: PlatformApi,
    token: str,
    name: str,
    language: str,
    *,
    subject: str,
    body: str,
    requires: list[str],
    version: str | None,
) -> Answer:
    return await api.call(
        "PUT",
        SERVICE,
        f"/v1/templates/{quote(name, safe='')}/{quote(language, safe='')}",
        token,
        json={"subject": subject, "body": body, "requires": requires},
        if_match=version,
    )


async def policies(api: PlatformApi, token: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, "/v1/policies", token)
    return found


async def revise_policy(
    api: PlatformApi,
    token: str,
    policy_id: UUID,
    *,
    name: str | None,
    steps: list[dict[str, Any]],
    version: str | None,
) -> Answer:
    return await api.call(
        "PUT",
        SERVICE,
        f"/v1/policies/{policy_id}",
        token,
        json={"name": name, "steps": steps},
        if_match=version,
    )


async def portfolio_rules(api: PlatformApi, token: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, "/v1/portfolio-rules", token)
    return found


async def add_portfolio_rule(
    api: PlatformApi, token: str, rule: dict[str, Any], *, idempotency_key: str
) -> Answer:
    return await api.call(
        "POST", SERVICE, "/v1/portfolio-rules", token, json=rule, idempotency_key=idempotency_key
    )


async def remove_portfolio_rule(api: PlatformApi, token: str, rule_id: UUID) -> None:
    """The rule as it is now is the one removed: its list carries no version to match."""
    current = await api.call("GET", SERVICE, f"/v1/portfolio-rules/{rule_id}", token)
    await api.call(
        "DELETE", SERVICE, f"/v1/portfolio-rules/{rule_id}", token, if_match=current.version
    )
