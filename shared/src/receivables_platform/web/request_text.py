"""Query and path text PostgreSQL can hold: a NUL in either is refused as 422 naming it.

Request bodies refuse NUL in their models (`bodies.py`). Query and path
parameters reach SQL as bound text too, and PostgreSQL's text cannot hold
U+0000, so a NUL there was a 500 from the database (the OpenAPI fuzz found one
in `GET /v1/aging?segment=`). One check here covers every route of every
service; a request without a NUL costs two substring searches.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from receivables_platform.web.problems import Problem, problem_type


def nul_field(scope: Scope) -> str | None:
    """The field a NUL is in (`query.<name>` or `path`), or None when there is none."""
    if "\x00" in scope.get("path", ""):
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return f"query.{name.replace(chr(0), chr(0xFFFD))}"
    return None


class NulTextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        field = nul_field(scope) if scope["type"] == "http" else None
        if field is None:
            await self.app(scope, receive, send)
            return
        problem = Problem(
            422,
            "Invalid request",
            f"{field}: text may not contain NUL characters",
            type=problem_type("validation-error"),
            field=field,
        )
        await problem.response(Request(scope))(scope, receive, send)
