"""Domain refusals as problem+json: the domain names the field and the kind, this answers.

Aggregates raise `receivables_platform.domain.Refused` without knowing HTTP;
this turns it into the same problem shape as every other error. `HTTP_STATUS`
is the one place a refusal kind becomes a status. The field goes under the
request body (`body.<field>`, nested paths too) unless the domain named
another place (`path.`, `query.`, `header.`).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response

from receivables_platform.domain import RefusalKind, Refused
from receivables_platform.web.problems import Problem, problem_type

LOCATIONS = ("body.", "path.", "query.", "header.")
"""Where a field can be; a domain field without one (`steps.2.offset_days`) is in the body."""


HTTP_STATUS: dict[RefusalKind, int] = {
    RefusalKind.INVALID: 422,
    RefusalKind.CONFLICT: 409,
    RefusalKind.NOT_FOUND: 404,
    RefusalKind.NOT_PERMITTED: 403,
    RefusalKind.UNAVAILABLE: 503,
    RefusalKind.UPSTREAM_FAILED: 502,
}


def as_problem(refusal: Refused) -> Problem:
    slug = refusal.title.lower().replace(" ", "-")
    field = refusal.field
    if field is not None and field != "body" and not field.startswith(LOCATIONS):
        field = f"body.{field}"
    return Problem(
        HTTP_STATUS[refusal.kind],
        refusal.title,
        refusal.detail,
        type=problem_type(slug),
        field=field,
    )


async def _on_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return as_problem(exc).response(request)


def install_refusal_handler(app: FastAPI) -> None:
    app.add_exception_handler(Refused, _on_refused)
