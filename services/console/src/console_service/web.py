"""What every console request shares: the person, CSRF, the page renderer.

The session is Starlette's signed cookie (httpOnly, SameSite=Lax, Secure but on
plain-http loopback dev). It carries the person's id, roles, language and the
bearer token the console forwards to the APIs, so the console itself keeps no
state and any replica can serve any request.

Every state-changing request must carry the session's CSRF token, as the
`csrf_token` form field or, from htmx, the `X-CSRF-Token` header; SameSite
alone does not cover same-site subdomains or older browsers.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from console_service.adapters.platform_api import PlatformApi
from console_service.i18n import LANGUAGES, Localizer, negotiate

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Person:
    sub: str
    name: str
    roles: frozenset[str]
    token: str

    def can(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def teams(self) -> frozenset[str]:
        """The internal teams (`team:<team>` roles) whose inbox the person works."""
        return frozenset(r.removeprefix("team:") for r in self.roles if r.startswith("team:"))


class SignInRequired(Exception):
    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class CsrfRefused(Exception):
    """The form did not come from a page this session was given."""


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


async def check_csrf(request: Request) -> None:
    if request.method not in UNSAFE_METHODS:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise CsrfRefused


def sign_in(
    request: Request, *, sub: str, name: str, roles: list[str], token: str, expires_at: float
) -> None:
    """A fresh session: a new CSRF token too, so one planted before sign-in is worthless."""
    language = request.session.get("lang")
    request.session.clear()
    request.session.update(
        sub=sub,
        name=name,
        roles=sorted(roles),
        token=token,
        exp=int(expires_at),
        csrf=secrets.token_urlsafe(32),
    )
    if language:
        request.session["lang"] = language


def person_of(request: Request) -> Person | None:
    session = request.session
    if not session.get("token") or int(session.get("exp", 0)) <= time.time():
        return None
    return Person(
        session["sub"],
        session.get("name") or session["sub"],
        frozenset(session.get("roles", ())),
        session["token"],
    )


def signed_in(request: Request) -> Person:
    person = person_of(request)
    if person is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return person


def language_of(request: Request) -> str:
    chosen = request.session.get("lang")
    return chosen if chosen in LANGUAGES else negotiate(request.headers.get("accept-language"))


def api_of(request: Request) -> PlatformApi:
    api: PlatformApi = request.app.state.api
    return api


SignedIn = Annotated[Person, Depends(signed_in)]
Api = Annotated[PlatformApi, Depends(api_of)]


def sign_in_url(next_url: str) -> str:
    return "/sign-in?next=" + quote(next_url, safe="")


class Pages:
    """Renders templates with the person's language, formatters and the CSRF token."""

    def __init__(self, templates: Jinja2Templates, assets: dict[str, str]) -> None:
        self.templates = templates
        self.assets = assets

    def render(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        words = Localizer(language_of(request))
        token = csrf_token(request)
        return self.templates.TemplateResponse(
            request,
            name,
            {
                **context,
                "person": person_of(request),
                "lang": words.language,
                "languages": LANGUAGES,
                "_": words.gettext,
                "money": words.money,
                "day": words.day,
                "csrf_token": token,
                "assets": self.assets,
                "htmx_headers": json.dumps({CSRF_HEADER: token}),
                "errors": context.get("errors", {}),
            },
            status_code=status_code,
        )


def pages_of(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


Render = Annotated[Pages, Depends(pages_of)]
