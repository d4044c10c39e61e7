"""The headers each operation needs and answers with, written into the OpenAPI document.

FastAPI documents a `Header(None)` parameter as optional, but the platform's
idempotency and If-Match dependencies refuse a request without them (400,
428); and the headers a client acts on (ETag for its next If-Match, Location
of what it created, Idempotent-Replayed on a retry, Retry-After on 503 and on
a key still in flight) are set by shared code FastAPI cannot see. Both are
derived here from the dependencies each route uses, so a generated client is
told the truth; the fuzz suite fails on a header answered but not declared.
"""

from __future__ import annotations

from typing import Any

IDEMPOTENCY_KEY = "Idempotency-Key"
IF_MATCH = "If-Match"
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "The version of the resource answered (strong, quoted): send it "
        "as If-Match with the next write to it.",
        "schema": {"type": "string", "example": '"7"'},
    },
    "Location": {
        "description": "The URL of what the request created (or of the job that will); on a "
        "200 to a create, of the one that already stood under the same external id.",
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an "
        "earlier request with the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying the same request.",
        "schema": {"type": "integer", "minimum": 0},
    },
}
DECLARED = frozenset(RESPONSE_HEADERS)
"""The headers the fuzz suite holds every answer to: answered only where declared."""


def declare(
    operation: dict[str, Any], method: str, dependency_names: set[str], has_path_params: bool
) -> None:
    """Mark enforced request headers required and list the response headers per status."""
    idempotent = "idempotency" in dependency_names
    if_match_required = "require_if_match" in dependency_names
    if_match = if_match_required or "optional_if_match" in dependency_names
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "header":
            continue
        if (parameter["name"] == IDEMPOTENCY_KEY and idempotent) or (
            parameter["name"] == IF_MATCH and if_match_required
        ):
            parameter["required"] = True
            parameter["schema"] = _not_null(parameter.get("schema", {}))
    for status, response in operation.get("responses", {}).items():
        names = _response_headers(int(status), method, idempotent, if_match, has_path_params)
        if names:
            response.setdefault("headers", {}).update(
                {name: RESPONSE_HEADERS[name] for name in sorted(names)}
            )


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`str | None = Header(None)` reads as "string or null"; a required header is a string."""
    alternatives = [a for a in schema.get("anyOf", []) if a.get("type") != "null"]
    if len(alternatives) != 1:
        return schema
    return {**{k: v for k, v in schema.items() if k != "anyOf"}, **alternatives[0]}


def _response_headers(
    status: int, method: str, idempotent: bool, if_match: bool, has_path_params: bool
) -> set[str]:
    if status == 503:
        return {"Retry-After"}
    if status == 409 and idempotent:
        return {"Retry-After"}  # the same key is still in flight
    if status == 412:
        return {"ETag"}  # the current version, to redo the write on
    if not 200 <= status < 300:
        return set()
    names: set[str] = set()
    if (method == "GET" and has_path_params) or if_match or idempotent:
        names.add("ETag")
    if idempotent:
        names |= {"Idempotent-Replayed"}
        # a create answered 200 (the external id was registered already) points at that one
        if status in (201, 202) or (status == 200 and method == "POST"):
            names.add("Location")
    return names
