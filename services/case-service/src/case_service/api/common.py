"""What case routes share: roles, a pooled connection, the caller, If-Match on the case."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request

from case_service.adapters.file_store import FileStore, file_store
from case_service.service_layer.cases import Check
from case_service.settings import CaseDependencies
from receivables_platform.web.app import composed
from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.connection import connection
from receivables_platform.web.etag import (
    Precondition,
    optional_if_match,
    require_if_match,
    version_check,
)
from receivables_platform.web.problems import PROBLEM_JSON
from receivables_platform.web.request_log import correlation_id

AGENTS = require_roles("case_agent", "supervisor", "admin")
OPENERS = require_roles("case_agent", "supervisor", "admin", "collector", "integration")
READERS = require_roles("case_agent", "supervisor", "admin", "collector", "integration")
ADMINS = require_roles("admin")
ANSWERERS = require_roles("case_agent", "supervisor", "admin", "integration")

Agent = Annotated[Principal, Depends(AGENTS)]
Opener = Annotated[Principal, Depends(OPENERS)]
Answerer = Annotated[Principal, Depends(ANSWERERS)]
IfMatch = Annotated[Precondition, Depends(require_if_match)]
MaybeIfMatch = Annotated[Precondition | None, Depends(optional_if_match)]


Conn = Annotated[asyncpg.Connection, Depends(connection)]


async def dependencies(request: Request) -> CaseDependencies:
    """The policy and limits the spec composed (`async`: no worker thread for this)."""
    return composed(request, CaseDependencies)


Deps = Annotated[CaseDependencies, Depends(dependencies)]


def trace(request: Request) -> str | None:
    return correlation_id(request)


def files(request: Request, conn: asyncpg.Connection) -> FileStore:
    """The file store the service is configured with; `conn` when that is PostgreSQL."""
    return file_store(conn, request.app.state.service.settings.object_store_url)


def now() -> datetime:
    return datetime.now(UTC)


def problem_responses(**reasons: str) -> dict[int | str, dict[str, Any]]:
    """Problem answers a route gives beyond those the platform documents for it (`_413=...`)."""
    return {
        int(code.lstrip("_")): {
            "description": reason,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code, reason in reasons.items()
    }


def precondition(if_match: Precondition | None) -> Check | None:
    """If-Match on a case write is checked against the case's stream version, under its lock."""
    return version_check(if_match)
