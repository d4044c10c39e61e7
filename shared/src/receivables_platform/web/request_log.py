"""One log line and one metric sample per request, a correlation id, and the last-resort 500/503.

The correlation id comes from `X-Correlation-Id` when the caller sends a sane
one (so a billing webhook's id follows its events), else a new UUIDv7; it is
bound in structlog's contextvars for every line logged while the request runs,
stored on `request.state` for the event store's `correlation_id`, and echoed in
the response. Logging configuration itself (JSON rendering, levels, trace ids)
belongs to `receivables_platform.observability`; this module only emits.

It is a plain ASGI middleware, not BaseHTTPMiddleware, so route handlers run
in the same task and see the bound context. It sits outside the exception
handlers, so anything they did not turn into a problem reaches it: it is
logged with its traceback and the client gets a bare 500 problem, unless the
database was unreachable (a restart, a failover), which is a 503 with
Retry-After and a warning (`db/unavailable.py`).
"""

from __future__ import annotations

import re
import time

import structlog
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from receivables_platform.db.unavailable import RETRY_AFTER_SECONDS, database_unavailable
from receivables_platform.ids import new_id
from receivables_platform.web.metrics import observe_request
from receivables_platform.web.problems import (
    PROBLEM_JSON,
    internal_error_body,
    unavailable_body,
)

CORRELATION_HEADER = "X-Correlation-Id"
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_SANE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

log = structlog.get_logger("receivables_platform.web")


def correlation_id(request: Request) -> str | None:
    """The id to stamp on the events this request appends."""
    return getattr(request.state, "correlation_id", None)


def _incoming_correlation_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-correlation-id":
            candidate: str = value.decode("latin-1")
            if _SANE_ID.fullmatch(candidate):
                return candidate
    return str(new_id())


def _route_template(scope: Scope) -> str | None:
    """FastAPI's route keeps only its own router's prefix; the effective context has them all."""
    effective = scope.get("fastapi", {}).get("effective_route_context")
    template = getattr(effective, "path_format", None) or getattr(scope.get("route"), "path", None)
    return template if isinstance(template, str) else None


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = _incoming_correlation_id(scope)
        scope.setdefault("state", {})["correlation_id"] = cid
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                MutableHeaders(scope=message).append(CORRELATION_HEADER, cid)
            await send(message)

        began = time.perf_counter()
        with structlog.contextvars.bound_contextvars(correlation_id=cid):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                if not database_unavailable(exc):
                    log.exception(
                        "http.unhandled_error", method=scope["method"], path=scope["path"]
                    )
                    if started:
                        raise
                    await self._answer(
                        internal_error_body(scope["path"], cid), 500, scope, receive, send_with_id
                    )
                    return
                log.warning(
                    "http.database_unavailable",
                    method=scope["method"],
                    path=scope["path"],
                    error=repr(exc),
                )
                if started:
                    raise
                await self._answer(
                    unavailable_body(scope["path"], cid),
                    503,
                    scope,
                    receive,
                    send_with_id,
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
            finally:
                self._record(scope, status, time.perf_counter() - began)

    async def _answer(
        self,
        body: dict[str, object],
        status: int,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[str, str] | None = None,
    ) -> None:
        response = JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)
        await response(scope, receive, send)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        template = _route_template(scope)
        observe_request(scope["method"], template or "unmatched", status, seconds)
        principal = scope.get("state", {}).get("principal")
        fields = {
            "method": scope["method"],
            "route": template,
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "sub": getattr(principal, "sub", None),
        }
        if status >= 500:
            log.error("http.request", **fields)
        elif scope["path"] in QUIET_PATHS:
            log.debug("http.request", **fields)
        else:
            log.info("http.request", **fields)
