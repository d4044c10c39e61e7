"""The refusals each operation can answer with, written into the OpenAPI document.

Clients generated from our OpenAPI must be able to read every answer they get,
so the problem+json responses are documented per operation from what the
route actually does: it has inputs (400, 422), a role check (401, 403), path
parameters or writes (404), writes (409 for refusals and idempotency-key
conflicts), and an `If-Match` precondition (412, and 428 when it is required).
Every operation may answer 503 with Retry-After while the database restarts, and
431 when its URL and headers pass the HTTP server's limit (found by the fuzzer with a
long attachment filename).
The headers each operation needs and answers are declared by `openapi_headers`.
The schemathesis suite holds the services to this document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from receivables_platform.web import openapi_headers
from receivables_platform.web.problems import PROBLEM_JSON, problem_type

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REASONS = {
    400: "The request is malformed (unreadable body, bad header or parameter value).",
    401: "No valid bearer token (missing, expired, wrong signature or audience).",
    403: "The token's roles do not allow this operation.",
    404: "What the path or the body refers to does not exist.",
    409: "Refused by the business rules, or a request with the same Idempotency-Key is "
    "still running (retry after Retry-After).",
    412: "If-Match does not match the current version: reload and retry.",
    422: "An input is invalid (`errors` names each field), or the Idempotency-Key was "
    "used before for a different request.",
    428: "This write needs If-Match with the ETag of the version it was based on.",
    431: "The request's URL and headers pass the server's limit (HTTP_MAX_HEADER_BYTES); "
    "answered before any route reads it.",
    503: "The database is not reachable right now: retry after the Retry-After delay.",
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "correlation_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
    "examples": [
        {
            "type": problem_type("validation-error"),
            "title": "Invalid request",
            "status": 422,
            "detail": "invalid input in: body.amount_minor",
            "instance": "/v1/invoices",
            "correlation_id": "0193a5b6-4035-7e9f-b174-8d2c6f5e0a05",
            "errors": [{"field": "body.amount_minor", "message": "Input should be greater than 0"}],
        }
    ],
}


def document_problems(app: FastAPI) -> None:
    """Wrap `app.openapi` so the generated document lists the problem responses."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                PROBLEM_SCHEMA
            )
            for path, method, statuses, route in _operations(app):
                operation = schema["paths"][path][method.lower()]
                responses = operation.setdefault("responses", {})
                for status in statuses:
                    declared = route.responses.get(status, {})
                    if "model" in declared or "content" in declared:
                        continue  # the route says what it answers (readyz's checks)
                    responses[str(status)] = {
                        "description": REASONS[status],
                        "content": {
                            PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
                        },
                    }
                for status, declared in route.responses.items():
                    # a failure the route declared by its description alone is a problem too
                    if int(status) >= 400 and not {"model", "content"} & declared.keys():
                        responses[str(status)]["content"] = {
                            PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
                        }
                openapi_headers.declare(
                    operation, method, _dependency_names(route), bool(route.dependant.path_params)
                )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(app: FastAPI) -> Iterator[tuple[str, str, list[int], Any]]:
    for route in iter_route_contexts(app.routes):
        if (
            not isinstance(route.original_route, APIRoute)
            or not route.include_in_schema
            or route.path is None
        ):
            continue
        calls = set(_calls(route.dependant))
        guarded = any(isinstance(getattr(c, "roles", None), frozenset) for c in calls)
        takes_input = bool(
            route.dependant.path_params
            or route.dependant.query_params
            or route.dependant.header_params
            or route.body_field
        )
        for method in (route.methods or set()) - {"HEAD", "OPTIONS"}:
            statuses = {431, 503}
            if takes_input or method in WRITES:
                statuses |= {400, 422}
            if guarded:
                statuses |= {401, 403}
            if route.dependant.path_params or method in WRITES:
                statuses.add(404)
            if method in WRITES:
                statuses.add(409)
            names = _dependency_names(route)
            if "require_if_match" in names:
                statuses |= {412, 428}
            elif "optional_if_match" in names:
                statuses.add(412)
            yield route.path, method, sorted(statuses), route


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _dependency_names(route: Any) -> set[str]:
    return {getattr(call, "__name__", "") for call in _calls(route.dependant)}
