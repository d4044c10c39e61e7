"""Signing in and out, and the interface language.

Under `make run` the dev sign-in picks a person and roles and mints a token the
way the dev stack does (same secret, audience and issuer); deployments sign in
at the identity provider (OIDC code + PKCE) instead.
"""

from __future__ import annotations

import re
import time
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from console_service.i18n import LANGUAGES, N_
from console_service.web import Render, check_csrf, sign_in
from receivables_platform.web.auth import ROLES_ADMIN_FIRST as ROLES
from receivables_platform.web.auth import issue_token

router = APIRouter()
SUBJECT = re.compile(r"^[A-Za-z0-9._@-]{1,100}$")


def _local(next_url: str | None) -> str:
    """Only a path on this console: a sign-in link must not send people elsewhere."""
    if not next_url:
        return "/"
    parts = urlsplit(next_url)
    # Browsers read a slash then a backslash as `//`: any backslash is refused too.
    if (
        parts.scheme
        or parts.netloc
        or not next_url.startswith("/")
        or next_url.startswith("//")
        or "\\" in next_url
    ):
        return "/"
    return next_url


@router.get("/sign-in")
async def sign_in_page(request: Request, pages: Render, next: str | None = None) -> Response:
    settings = request.app.state.settings
    return pages.render(
        request,
        "sign_in.html",
        next=_local(next),
        roles=ROLES,
        dev=settings.dev_sign_in,
        oidc=request.app.state.oidc is not None,
        chosen=["collector"],
        sub="",
    )


@router.post("/sign-in/dev", dependencies=[Depends(check_csrf)])
async def dev_sign_in(
    request: Request,
    pages: Render,
    sub: Annotated[str, Form()] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    next: Annotated[str, Form()] = "/",
) -> Response:
    settings = request.app.state.settings
    if not settings.dev_sign_in:
        return pages.render(
            request,
            "error.html",
            status_code=404,
            title=N_("Not found"),
            detail=N_("Dev sign-in is off here."),
        )
    errors = {}
    if not SUBJECT.fullmatch(sub.strip()):
        errors["sub"] = N_("Letters, digits and . _ @ - only, at most 100.")
    unknown = sorted(set(roles or ()) - set(ROLES))
    if not roles or unknown:
        errors["roles"] = N_("Pick at least one of the roles listed.")
    if errors:
        return pages.render(
            request,
            "sign_in.html",
            status_code=422,
            errors=errors,
            next=_local(next),
            roles=ROLES,
            dev=True,
            oidc=request.app.state.oidc is not None,
            chosen=roles or [],
            sub=sub,
        )
    ttl = min(settings.session_max_age_seconds, settings.jwt_max_lifetime_seconds)
    token = issue_token(
        settings.jwt_secret.get_secret_value(),
        sub.strip(),
        roles or [],
        ttl,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    sign_in(
        request,
        sub=sub.strip(),
        name=sub.strip(),
        roles=roles or [],
        token=token,
        expires_at=time.time() + ttl,
    )
    return RedirectResponse(_local(next), status_code=303)


@router.get("/sign-in/oidc")
async def oidc_sign_in(request: Request) -> Response:
    client = request.app.state.oidc
    if client is None:
        return RedirectResponse("/sign-in", status_code=303)
    base = request.app.state.settings.public_url or str(request.base_url)
    response: Response = await client.authorize_redirect(
        request, base.rstrip("/") + "/auth/callback"
    )
    return response


@router.get("/auth/callback")
async def oidc_callback(request: Request, pages: Render) -> Response:
    client = request.app.state.oidc
    if client is None:
        return RedirectResponse("/sign-in", status_code=303)
    from authlib.integrations.base_client.errors import OAuthError

    try:
        token = await client.authorize_access_token(request)
    except OAuthError as exc:
        return pages.render(
            request,
            "error.html",
            status_code=400,
            title=N_("Sign-in failed"),
            detail=exc.description or exc.error,
        )
    claims = token.get("userinfo") or {}
    roles = [r for r in claims.get("roles", []) if isinstance(r, str)]
    sign_in(
        request,
        sub=str(claims.get("sub")),
        name=str(claims.get("name") or claims.get("sub")),
        roles=roles,
        token=token["access_token"],
        expires_at=float(token.get("expires_at") or time.time() + 3600),
    )
    return RedirectResponse("/", status_code=303)


@router.post("/sign-out", dependencies=[Depends(check_csrf)])
async def sign_out(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/sign-in", status_code=303)


@router.post("/language", dependencies=[Depends(check_csrf)])
async def choose_language(
    request: Request, lang: Annotated[str, Form()] = "en", next: Annotated[str, Form()] = "/"
) -> Response:
    if lang in LANGUAGES:
        request.session["lang"] = lang
    return RedirectResponse(_local(next), status_code=303)
