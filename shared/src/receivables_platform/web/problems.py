"""RFC 9457 problem details: the one error shape every service answers with.

Clients (the consoles, the billing system's integrations) parse one format for
every failure, and each bad field is named by its dotted location
(`body.lines.0.amount_minor`, `query.limit`, `header.If-Match`) so a form can
put the message next to the input. Exception handlers turn FastAPI's and
Starlette's own errors into this shape; services raise `Problem` for their
domain refusals. Unexpected exceptions become a 500 problem in the request
middleware (`request_log.py`), which is the only place that sees them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, TypedDict

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from receivables_platform.store import ConcurrencyError, EventTooLarge

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:receivables:problem:"


class FieldError(TypedDict):
    field: str
    message: str


def problem_type(slug: str) -> str:
    """Stable, documented `type` URIs, so clients can branch on them instead of on titles."""
    return f"{TYPE_PREFIX}{slug}"


class Problem(Exception):
    """A refusal a client can act on; raise it anywhere below a route.

    `field` names the one input at fault (dotted, e.g. `body.due_date`); use
    `errors` when several are. `type` defaults to `about:blank`, whose title
    must then be the HTTP reason phrase (RFC 9457 section 4.2.1).
    """

    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str | None = None,
        *,
        type: str = "about:blank",
        field: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        self.status = status
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail or self.title
        self.type = type
        self.errors: list[FieldError] = list(errors)
        if field is not None:
            self.errors.append(FieldError(field=field, message=self.detail))
        self.headers = dict(headers or {})
        self.extensions = extensions
        super().__init__(f"{status} {self.title}: {self.detail}")

    def body(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": request.url.path,
        }
        if self.errors:
            body["errors"] = self.errors
        correlation_id = getattr(request.state, "correlation_id", None)
        if correlation_id:
            body["correlation_id"] = correlation_id
        return {**self.extensions, **body}

    def response(self, request: Request) -> Response:
        return JSONResponse(
            self.body(request),
            status_code=self.status,
            headers=self.headers,
            media_type=PROBLEM_JSON,
        )


def field_path(loc: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in loc)


def _validation_problem(exc: RequestValidationError) -> Problem:
    """Malformed JSON is a 400 about the body as a whole; anything else is a 422 per field."""
    errors = list(exc.errors())
    malformed = [e for e in errors if e.get("type") == "json_invalid"]
    if malformed:
        loc = malformed[0].get("loc", ("body",))
        reason = malformed[0].get("ctx", {}).get("error", "not JSON")
        message = f"malformed JSON: {reason} (at character {loc[-1]})"
        return Problem(
            400,
            "Malformed request body",
            message,
            type=problem_type("malformed-body"),
            field="body",
        )
    fields = [FieldError(field=field_path(e["loc"]), message=e["msg"]) for e in errors]
    names = ", ".join(dict.fromkeys(f["field"] for f in fields))
    return Problem(
        422,
        "Invalid request",
        f"invalid input in: {names}",
        type=problem_type("validation-error"),
        errors=fields,
    )


def _http_problem(request: Request, exc: StarletteHTTPException) -> Problem:
    phrase = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
    if exc.status_code == 404 and detail is None:
        detail = f"nothing here: {request.method} {request.url.path}"
    elif exc.status_code == 405 and detail is None:
        detail = f"{request.method} is not allowed on {request.url.path}"
        return Problem(405, phrase, detail, headers={"Allow": _allowed_methods(request)})
    return Problem(exc.status_code, phrase, detail, headers=exc.headers)


def _allowed_methods(request: Request) -> str:
    """Starlette's Allow names only the first route on the path; a client needs all of them."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        probe = {
            "type": "http",
            "path": request.url.path,
            "method": method,
            "root_path": request.scope.get("root_path", ""),
            "headers": [],
        }
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def _concurrency_problem(request: Request, exc: ConcurrencyError) -> Problem:
    """With If-Match the client stated a version and lost the race: its precondition failed."""
    if "if-match" in request.headers:
        return Problem(
            412,
            "Precondition Failed",
            "the resource changed while this request ran; fetch it and retry",
            type=problem_type("stale-version"),
        )
    return Problem(
        409,
        "Conflict",
        "another request changed the resource at the same time; retry",
        type=problem_type("concurrent-update"),
    )


def _event_too_large_problem(exc: EventTooLarge) -> Problem:
    """What the request asked to record would not fit the broker: the same request never will."""
    return Problem(
        413,
        "Event too large",
        f"{exc}; nothing was recorded. Send less (fewer or smaller attachments, "
        "a shorter text) or split it",
        type=problem_type("event-too-large"),
        field="body",
        limit_bytes=exc.limit,
        size_bytes=exc.size,
    )


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.response(request)


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return _validation_problem(exc).response(request)


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return _http_problem(request, exc).response(request)


async def _on_concurrency(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConcurrencyError)
    return _concurrency_problem(request, exc).response(request)


async def _on_event_too_large(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EventTooLarge)
    return _event_too_large_problem(exc).response(request)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(ConcurrencyError, _on_concurrency)
    app.add_exception_handler(EventTooLarge, _on_event_too_large)


def internal_error_body(path: str, correlation_id: str | None) -> dict[str, Any]:
    """What a client sees of a bug: nothing of the exception, only how to find it in the logs."""
    return _bare_body(
        500,
        "Internal Server Error",
        "the service failed to handle this request; it has been logged",
        "about:blank",
        path,
        correlation_id,
    )


def unavailable_body(path: str, correlation_id: str | None) -> dict[str, Any]:
    """The database did not answer: retrying the same request (same Idempotency-Key) is safe."""
    return _bare_body(
        503,
        "Service Unavailable",
        "the database is not reachable right now; retry after the Retry-After "
        "delay, with the same Idempotency-Key for a create",
        problem_type("dependency-unavailable"),
        path,
        correlation_id,
    )


def _bare_body(
    status: int, title: str, detail: str, type: str, path: str, correlation_id: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": type,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": path,
    }
    if correlation_id:
        body["correlation_id"] = correlation_id
    return body
