"""Admin: people and roles, the root-cause taxonomy, SOPs, cadence policies, portfolio rules.

Only what the services let an admin change today. Roles themselves live in the
organisation's identity provider (the token's roles); what the platform keeps
is who may own cases (case agents) and which team a collector works in. A
cadence policy's steps are edited as lines, one step a line, and shown back as
the table they make before the new version is sent, so an admin sees what the
cadence will do.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from console_service.adapters import cases, collections, reporting
from console_service.adapters.platform_api import PlatformApi, Refused, Unreachable
from console_service.api.my_day import to_minor
from console_service.i18n import N_
from console_service.web import Api, Person, Render, SignedIn, check_csrf
from receivables_platform.ids import new_id

router = APIRouter()
Action = Literal[
    "agent",
    "team",
    "root-cause",
    "retire-root-cause",
    "sop",
    "policy",
    "preview-policy",
    "rule",
    "remove-rule",
]
DONE = {
    "agent": N_("Case agent saved"),
    "team": N_("Team saved"),
    "root-cause": N_("Root cause added"),
    "retire-root-cause": N_("Root cause retired"),
    "sop": N_("Procedure added"),
    "policy": N_("New policy version saved"),
    "rule": N_("Portfolio rule added"),
    "remove-rule": N_("Portfolio rule removed"),
}


async def _listing(call: Any) -> list[dict[str, Any]] | None:
    try:
        found: list[dict[str, Any]] = await call
    except (Refused, Unreachable):
        return None
    return found


async def _admin_page(
    request: Request,
    pages: Render,
    api: PlatformApi,
    person: Person,
    status_code: int = 200,
    **context: Any,
) -> Response:
    token = person.token
    return pages.render(
        request,
        "admin.html",
        status_code=status_code,
        causes=await _listing(cases.root_causes(api, token, include_retired=True)),
        sops=await _listing(cases.sops(api, token)),
        policies=await _listing(collections.policies(api, token)),
        rules=await _listing(collections.portfolio_rules(api, token)),
        new_key=lambda: str(new_id()),
        **context,
    )


@router.get("/admin")
async def admin(request: Request, person: SignedIn, api: Api, pages: Render) -> Response:
    return await _admin_page(request, pages, api, person)


def policy_steps(lines: str) -> list[dict[str, Any]]:
    """`offset, channel, template[, escalates]` a line (`-3, email, reminder`): the steps a
    policy version is made of. A line that does not read is refused by its number."""
    steps = []
    for number, line in enumerate(lines.strip().splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        try:
            offset = int(parts[0])
        except ValueError:
            offset = None
        if (
            offset is None
            or len(parts) not in (3, 4)
            or (len(parts) == 4 and parts[3] not in ("escalates", ""))
        ):
            raise Refused(
                422,
                N_("Invalid steps"),
                "",
                {
                    "steps": N_("Line %(line)s: write offset, channel, template[, escalates]")
                    % {"line": number}
                },
            )
        steps.append(
            {
                "offset_days": offset,
                "channel": parts[1],
                "template": parts[2],
                "escalates": len(parts) == 4 and parts[3] == "escalates",
            }
        )
    if not steps:
        raise Refused(422, N_("Invalid steps"), "", {"steps": N_("Give at least one step")})
    return steps


def _uuid(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise Refused(422, N_("Invalid request"), "", {field: N_("Not a known id")}) from None


def _optional_minor(form: dict[str, str], name: str) -> int | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    minor = to_minor(text)
    if minor is None:
        raise Refused(
            422, N_("Invalid amount"), "", {f"{name}_minor": N_("Enter an amount like 1250.00")}
        )
    return minor


async def _act(api: PlatformApi, token: str, action: str, form: dict[str, str]) -> Any:
    """One admin change; what the page shows afterwards comes from the services again."""
    key = form.get("idempotency_key") or str(new_id())
    text = {k: v.strip() or None for k, v in form.items()}
    if action == "agent":
        return await cases.put_agent(
            api,
            token,
            form.get("user_id", "").strip() or "-",
            name=form.get("name", ""),
            email=text.get("email"),
            active=form.get("active") == "on",
        )
    if action == "team":
        return await reporting.set_team(
            api, token, form.get("collector_id", "").strip() or "-", form.get("team", "")
        )
    if action == "root-cause":
        return await cases.add_root_cause(
            api,
            token,
            {
                "code": form.get("code", ""),
                "name": form.get("name", ""),
                "description": text.get("description"),
            },
            idempotency_key=key,
        )
    if action == "retire-root-cause":
        return await cases.retire_root_cause(
            api, token, _uuid(form.get("category_id", ""), "category_id")
        )
    if action == "sop":
        categories = [v for k, v in form.items() if k.startswith("category:")]
        return await cases.add_sop(
            api,
            token,
            {
                "title": form.get("title", ""),
                "body": text.get("body"),
                "link": text.get("link"),
                "category_ids": categories,
            },
            idempotency_key=key,
        )
    if action in ("policy", "preview-policy"):
        steps = policy_steps(form.get("steps", ""))
        if action == "preview-policy":
            return steps
        return await collections.revise_policy(
            api,
            token,
            _uuid(form.get("policy_id", ""), "policy_id"),
            name=text.get("name"),
            steps=steps,
            version=f'"{form["version"]}"' if form.get("version") else None,
        )
    if action == "rule":
        return await collections.add_portfolio_rule(
            api,
            token,
            {
                "collector_id": form.get("collector_id", ""),
                "rank": form.get("rank") or 100,
                "segment": text.get("segment"),
                "min_balance_minor": _optional_minor(form, "min_balance"),
                "max_balance_minor": _optional_minor(form, "max_balance"),
            },
            idempotency_key=key,
        )
    return await collections.remove_portfolio_rule(
        api, token, _uuid(form.get("rule_id", ""), "rule_id")
    )


@router.post("/admin/{action}", dependencies=[Depends(check_csrf)])
async def act(
    request: Request, action: Action, person: SignedIn, api: Api, pages: Render
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        result = await _act(api, person.token, action, form)
    except Refused as refused:
        return await _admin_page(
            request,
            pages,
            api,
            person,
            status_code=409 if refused.stale else 422,
            refused=refused,
            step=action,
            values=form,
        )
    if action == "preview-policy":
        return await _admin_page(
            request, pages, api, person, step=action, values=form, preview=result
        )
    return await _admin_page(request, pages, api, person, notice=DONE[action])
