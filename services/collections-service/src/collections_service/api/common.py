"""What collections routes share: roles, a pooled connection, the runtime, If-Match checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import asyncpg
from fastapi import Depends, Query, Request

from collections_service.runtime import Runtime, runtime
from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.connection import connection
from receivables_platform.web.etag import Precondition, optional_if_match, require_if_match
from receivables_platform.web.problems import Problem, problem_type
from receivables_platform.web.request_log import correlation_id

PLAIN = r"^[^\x00-\x1f]+$"
"""A query value without control characters (PostgreSQL text cannot hold NUL)."""
CollectorQuery = Annotated[
    str | None, Query(min_length=1, max_length=200, pattern=PLAIN, description="Default: yourself")
]

MANAGERS = require_roles("supervisor", "admin")
STAFF = require_roles("collector", "supervisor", "admin")
READERS = require_roles("collector", "supervisor", "admin", "integration", "case_agent")
OVERSEERS = frozenset({"supervisor", "admin"})


Conn = Annotated[asyncpg.Connection, Depends(connection)]
Rt = Annotated[Runtime, Depends(runtime)]
Manager = Annotated[Principal, Depends(MANAGERS)]
Staff = Annotated[Principal, Depends(STAFF)]
Reader = Annotated[Principal, Depends(READERS)]
IfMatch = Annotated[Precondition, Depends(require_if_match)]
MaybeIfMatch = Annotated[Precondition | None, Depends(optional_if_match)]


def trace(request: Request) -> str | None:
    return correlation_id(request)


def oversees(principal: Principal) -> bool:
    return principal.has_any(OVERSEERS)


def check_of(if_match: Precondition | None) -> Callable[[int], object] | None:
    return None if if_match is None else if_match.check


def own_or_overseer(principal: Principal, collector_id: str, field: str) -> None:
    """A collector sees and acts on their own work; supervisors and admins on anyone's."""
    if collector_id != principal.sub and not oversees(principal):
        raise Problem(
            403,
            "Not your worklist",
            f"{principal.sub} may only see their own work, not {collector_id}'s",
            type=problem_type("forbidden"),
            field=field,
        )
