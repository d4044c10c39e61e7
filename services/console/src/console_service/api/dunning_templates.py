"""Admin: the dunning templates collections sends, edited with a preview.

A template is read with its ETag and saved as its next version with If-Match,
so two supervisors editing one template never overwrite each other: the second
is shown "someone changed this", the template as it is now, and what they typed
kept to send again. "Preview" renders the draft as collections would check it
on saving (its sample account), without storing anything.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from console_service.adapters import collections
from console_service.adapters.platform_api import PlatformApi, Refused, Unreachable
from console_service.i18n import N_
from console_service.web import Api, Person, Render, SignedIn, check_csrf

router = APIRouter()
Name = Annotated[str, Path(pattern=r"^[a-z0-9_\-]{1,100}$")]
Language = Annotated[Literal["en", "es", "de"], Path()]
PLACEHOLDERS = ("pay_link", "remittance")
"""What a template may be required to carry (collections checks them when saving)."""


@router.get("/admin/templates")
async def templates(request: Request, person: SignedIn, api: Api, pages: Render) -> Response:
    """Every template in every language at its newest version (0: as the service ships it)."""
    try:
        found: list[dict[str, Any]] | None = await collections.templates(api, person.token)
        refused = None
    except Refused as exc:
        found, refused = None, exc
    except Unreachable:
        found, refused = None, Refused(503, N_("Service unavailable"), "")
    return pages.render(
        request,
        "templates.html",
        templates=found or [],
        refused=refused,
        status_code=refused.status if refused else 200,
    )


async def _editor(
    request: Request,
    pages: Render,
    api: PlatformApi,
    person: Person,
    name: str,
    language: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """The template as it is now, with its preview; on a refusal, what was typed."""
    answer = await collections.template(api, person.token, name, language)
    shown = context.pop("preview", None)
    if shown is None:
        shown = await collections.preview_template(api, person.token, name, language)
    return pages.render(
        request,
        "template.html",
        status_code=status_code,
        template=answer.body,
        version=answer.version,
        preview=shown,
        placeholders=PLACEHOLDERS,
        **context,
    )


@router.get("/admin/templates/{name}/{language}")
async def template(
    request: Request, name: Name, language: Language, person: SignedIn, api: Api, pages: Render
) -> Response:
    return await _editor(request, pages, api, person, name, language)


def _draft(form: dict[str, str], requires: list[str]) -> dict[str, Any]:
    return {
        "subject": form.get("subject", ""),
        "body": form.get("body", ""),
        "requires": [r for r in requires if r in PLACEHOLDERS],
    }


@router.post("/admin/templates/{name}/{language}/{move}", dependencies=[Depends(check_csrf)])
async def edit(
    request: Request,
    name: Name,
    language: Language,
    move: Annotated[Literal["preview", "save"], Path()],
    person: SignedIn,
    api: Api,
    pages: Render,
) -> Response:
    """`preview` renders the draft; `save` makes it the next version (If-Match)."""
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    draft = _draft(form, [v for v in raw.getlist("requires") if isinstance(v, str)])
    kept = {**form, "requires": draft["requires"]}
    try:
        if move == "preview":
            shown = await collections.preview_draft(api, person.token, language=language, **draft)
            return await _editor(
                request,
                pages,
                api,
                person,
                name,
                language,
                preview=shown,
                values=kept,
                previewed=True,
            )
        await collections.revise_template(
            api, person.token, name, language, version=form.get("version") or None, **draft
        )
    except Refused as refused:
        return await _editor(
            request,
            pages,
            api,
            person,
            name,
            language,
            status_code=409 if refused.stale else 422,
            refused=refused,
            values=kept,
        )
    return await _editor(
        request, pages, api, person, name, language, notice=N_("New template version saved")
    )
