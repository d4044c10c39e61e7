"""The console's FastAPI application: middleware, lifespan, error pages.

The console is a backend for the frontend: the browser talks only to it (one
origin, no CORS, a strict Content-Security-Policy with no inline script), and
it calls the four APIs with the person's token over one pooled HTTP client
that lives as long as the app (lifespan).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console_service.adapters.platform_api import (
    PlatformApi,
    Refused,
    Unreachable,
    client_limits,
)
from console_service.api import (
    accounts,
    admin,
    auth,
    cases,
    dunning_templates,
    inbox,
    my_day,
    preferences,
    search,
    supervisor,
)
from console_service.auth_oidc import register_oidc
from console_service.i18n import N_
from console_service.settings import ConsoleSettings
from console_service.web import CsrfRefused, Pages, SignInRequired, sign_in_url

HERE = Path(__file__).parent
SESSION_COOKIE = "rx_console"
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Added to every answer, pages and static files alike."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def vendored_assets() -> dict[str, str]:
    """SRI hashes of the vendored scripts, as recorded when they were fetched from npm."""
    manifest = json.loads((HERE / "static" / "vendor.json").read_text())
    return {name: entry["integrity"] for name, entry in manifest.items()}


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            timeout=settings.api_timeout_seconds, limits=client_limits()
        ) as client:
            app.state.api = PlatformApi(client, settings.service_urls())
            yield

    app = FastAPI(
        title="Receivables console",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.pages = Pages(Jinja2Templates(directory=HERE / "templates"), vendored_assets())
    app.state.oidc = register_oidc(settings)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.signing_key(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (
        auth,
        my_day,
        accounts,
        search,
        cases,
        inbox,
        supervisor,
        admin,
        dunning_templates,
        preferences,
    ):
        app.include_router(module.router)
    _install_error_pages(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Ready when it can serve pages; an API that is down shows on the screens that
        need it, so the console stays up to say so."""
        return JSONResponse({"status": "ready"})

    return app


def _page(request: Request, status: int, title: str, detail: str) -> Response:
    pages: Pages = request.app.state.pages
    return pages.render(request, "error.html", status_code=status, title=title, detail=detail)


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> Response:
        target = sign_in_url(exc.next_url)
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        return _page(
            request,
            403,
            N_("Form expired"),
            N_(
                "This form did not come from your current session. Reload the "
                "page and send it again."
            ),
        )

    @app.exception_handler(Unreachable)
    async def unreachable(request: Request, exc: Unreachable) -> Response:
        return _page(
            request,
            503,
            N_("Service unavailable"),
            N_("A service is not answering right now. Try again in a moment."),
        )

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        """A service's refusal no screen caught (a role that may not see that screen's
        data): its own words on a page, never a 500."""
        return _page(request, exc.status, exc.title, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def bad_address(request: Request, exc: RequestValidationError) -> Response:
        names = ", ".join(str(e["loc"][-1]) for e in exc.errors())
        return _page(request, 422, N_("Not a valid address"), names)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _page(request, 404, N_("Not found"), N_("There is nothing at this address."))
        return _page(request, exc.status_code, N_("Request refused"), str(exc.detail))
