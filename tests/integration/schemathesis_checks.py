"""Checks the fuzz suite adds to schemathesis' own (loaded through SCHEMATHESIS_HOOKS)."""

from __future__ import annotations

from typing import Any

import schemathesis

from receivables_platform.web.openapi_headers import DECLARED


@schemathesis.check
def declared_headers_only(ctx: Any, response: Any, case: Any) -> None:
    """A header a client acts on (ETag, Location, Retry-After, Idempotent-Replayed) may only
    be answered with a status whose response in the document declares it."""
    responses = case.operation.definition.raw.get("responses", {})
    status = str(response.status_code)
    documented = (
        responses.get(status) or responses.get(f"{status[0]}XX") or responses.get("default") or {}
    )
    declared = {name.lower() for name in documented.get("headers", {})}
    answered = {name.lower() for name in response.headers}
    undeclared = sorted(h for h in DECLARED if h.lower() in answered - declared)
    if undeclared:
        raise AssertionError(
            f"{case.method} {case.path} answered {status} with "
            f"{', '.join(undeclared)}, which its document does not declare"
        )
