"""Notification preferences of the signed-in person, kept by case-service.

Per kind of notification, a channel: email, the chat webhook, the daily digest,
or off; a kind left unset goes by email when there is an address, else to the
webhook. Case-service checks that a chosen channel has its address and that a
webhook goes only to an allowed host; its refusal is shown next to the field.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from console_service.adapters import cases
from console_service.adapters.platform_api import PlatformApi, Refused
from console_service.i18n import N_
from console_service.web import Api, Person, Render, SignedIn, check_csrf

router = APIRouter()
KINDS = (
    N_("escalation_assigned"),
    N_("escalation_due_tomorrow"),
    N_("escalation_overdue"),
    N_("sla_at_risk"),
    N_("promise_broken"),
    N_("customer_reply"),
    N_("credit_approval"),
    N_("next_action_due"),
)
"""Case-service's notification kinds as of this console; one it adds later still shows
(the page lists what the saved preferences name too), only without a translation."""
CHANNELS = (N_("email"), N_("webhook"), N_("digest"), N_("off"))


async def _page(
    request: Request,
    pages: Render,
    api: PlatformApi,
    person: Person,
    status_code: int = 200,
    **context: Any,
) -> Response:
    saved = await cases.my_preferences(api, person.token)
    kinds = list(dict.fromkeys([*KINDS, *saved.get("channels", {})]))
    return pages.render(
        request,
        "preferences.html",
        status_code=status_code,
        saved=saved,
        kinds=kinds,
        channels=CHANNELS,
        **context,
    )


def _field(name: str) -> str:
    """`channels.sla_at_risk` -> `channel:sla_at_risk`, the select the person set."""
    return "channel:" + name.removeprefix("channels.") if name.startswith("channels.") else name


@router.get("/preferences")
async def preferences(request: Request, person: SignedIn, api: Api, pages: Render) -> Response:
    return await _page(request, pages, api, person)


@router.post("/preferences", dependencies=[Depends(check_csrf)])
async def save(request: Request, person: SignedIn, api: Api, pages: Render) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    channels = {
        k.removeprefix("channel:"): v for k, v in form.items() if k.startswith("channel:") and v
    }
    body = {
        "email": form.get("email", "").strip() or None,
        "webhook_url": form.get("webhook_url", "").strip() or None,
        "channels": channels,
    }
    try:
        await cases.save_preferences(api, person.token, body)
    except Refused as refused:
        refused.fields = {_field(k): v for k, v in refused.fields.items()}
        return await _page(
            request,
            pages,
            api,
            person,
            status_code=409 if refused.stale else 422,
            refused=refused,
            values=form,
        )
    return await _page(request, pages, api, person, notice=N_("Preferences saved"))
