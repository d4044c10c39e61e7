"""Bulk import over HTTP: upload a file, get a job, follow it at its status URL.

The body is the file itself (`text/csv` or `application/x-ndjson`), streamed
to a temporary file as it arrives, never held in memory; the import then runs
in the background and `GET /v1/imports/{id}` shows its state, counts and
rejected rows (cursor-paginated). `Idempotency-Key` makes a retried upload
return the job the first one started without running it again.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, Field

from billing_adapter.adapters import import_jobs
from billing_adapter.api.common import WRITERS, Conn
from billing_adapter.api.import_files import Format, read_file
from billing_adapter.service_layer.bulk_import import Kind
from billing_adapter.service_layer.import_job import run_job
from receivables_platform.ids import new_id
from receivables_platform.web.app import ServiceState
from receivables_platform.web.auth import Principal
from receivables_platform.web.connection import pooled
from receivables_platform.web.problems import PROBLEM_JSON, Problem, problem_type

router = APIRouter(prefix="/v1/imports", tags=["imports"])
Integration = Annotated[Principal, Depends(WRITERS)]
MAX_UPLOAD_BYTES = 4 * 1024**3
_MEDIA = {
    "text/csv": Format.CSV,
    "application/x-ndjson": Format.JSONL,
    "application/jsonl": Format.JSONL,
    "application/jsonlines": Format.JSONL,
}


class RejectedRow(BaseModel):
    row: int = Field(description="Record number in the file, 1 = the first after any header")
    line: int | None = Field(description="Line of the file the record ends on")
    field: str | None = Field(description="The field at fault (dotted); null for the whole row")
    reason: str


class ImportJob(BaseModel):
    job_id: UUID
    kind: Kind
    format: Format
    state: str = Field(
        description="queued, running, succeeded, failed, or interrupted (its "
        "process stopped; upload the file again to finish it)"
    )
    submitted_by: str
    rows_read: int
    imported: int
    updated: int = Field(description="Account rows that changed a known account")
    unchanged: int = Field(description="Rows already imported with the same content")
    rejected: int
    failure: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    errors: list[RejectedRow] = Field(description="Rejected rows, a page at a time")
    next_errors_cursor: str | None = Field(
        description="Pass as `errors_cursor` for the next page of errors; null at the end"
    )


def _format(given: Format | None, content_type: str | None) -> Format:
    if given is not None:
        return given
    media = (content_type or "").split(";")[0].strip().lower()
    if media in _MEDIA:
        return _MEDIA[media]
    raise Problem(
        415,
        "Unsupported media type",
        "send text/csv or application/x-ndjson, or say ?format=csv|jsonl",
        type=problem_type("unsupported-import-format"),
        field="query.format",
    )


async def _spool(chunks: AsyncIterator[bytes]) -> Path:
    """The upload on disk, chunk by chunk; an empty or oversized one is refused and removed."""
    handle = tempfile.NamedTemporaryFile(prefix="billing-import-", delete=False)  # noqa: SIM115
    path, size = Path(handle.name), 0
    try:
        with handle:
            async for chunk in chunks:
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise Problem(
                        413,
                        "Upload too large",
                        f"an import file may have at most {MAX_UPLOAD_BYTES} bytes",
                        field="body",
                    )
                await asyncio.to_thread(handle.write, chunk)
        if size == 0:
            raise Problem(
                422,
                "Empty upload",
                "the request body is the file to import",
                type=problem_type("empty-import"),
                field="body",
            )
    except BaseException:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
    return path


def _start(
    state: ServiceState, job_id: UUID, kind: Kind, fmt: Format, path: Path, submitted_by: str
) -> None:
    """In the service's task list, so shutdown cancels it (the job then reads interrupted)."""
    task = asyncio.create_task(
        run_job(
            state.pool, job_id, kind, read_file(kind, fmt, path), path, submitted_by=submitted_by
        ),
        name=f"import-{job_id}",
    )
    state.tasks.append(task)
    task.add_done_callback(state.tasks.remove)


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


_UPLOAD = {
    "required": True,
    "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in _MEDIA},
}


@router.post(
    "",
    status_code=202,
    response_model=ImportJob,
    responses={
        202: {
            "headers": {
                "Location": {"description": "The job's status URL", "schema": {"type": "string"}}
            }
        },
        413: _problem("The file is larger than an import may be."),
        415: _problem("Neither the format parameter nor Content-Type says CSV or JSON Lines."),
    },
    openapi_extra={"requestBody": _UPLOAD},
)
async def submit(
    request: Request,
    response: Response,
    principal: Integration,
    kind: Annotated[Kind, Query(description="What the file holds")],
    file_format: Annotated[
        Format | None, Query(alias="format", description="Default: from Content-Type")
    ] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> ImportJob:
    """Upload a CSV or JSON Lines file of accounts, invoices or payments; 202 and a job."""
    fmt = _format(file_format, request.headers.get("content-type"))
    state: ServiceState = request.app.state.service
    if idempotency_key is not None:
        async with pooled(request) as conn:
            earlier = await import_jobs.submitted_with(conn, principal.sub, idempotency_key)
        if earlier is not None:
            return await _accepted(request, response, earlier)
    path = await _spool(request.stream())
    job_id = new_id()
    async with pooled(request) as conn:
        job = await import_jobs.create(conn, job_id, kind, fmt, principal.sub, idempotency_key)
    if job == job_id:
        _start(state, job_id, kind, fmt, path, principal.sub)
    else:
        # a concurrent retry with the same key won
        await asyncio.to_thread(path.unlink, missing_ok=True)
    return await _accepted(request, response, job)


async def _accepted(request: Request, response: Response, job_id: UUID) -> ImportJob:
    response.headers["Location"] = f"/v1/imports/{job_id}"
    async with pooled(request) as conn:
        return await _representation(conn, job_id, None, 100)


def _cursor(value: str | None) -> int:
    if value is None:
        return 0
    if not (value.isdigit() and len(value) < 19):  # a bigint id
        raise Problem(
            400,
            "Malformed cursor",
            "pass back a next_errors_cursor this API returned",
            type=problem_type("malformed-cursor"),
            field="query.errors_cursor",
        )
    return int(value)


async def _representation(
    conn: asyncpg.Connection, job_id: UUID, cursor: str | None, limit: int
) -> ImportJob:
    job = await import_jobs.find(conn, job_id)
    if job is None:
        raise Problem(404, "Not found", f"no import job {job_id}", field="path.job_id")
    page = await import_jobs.rejections(conn, job_id, _cursor(cursor), limit + 1)
    more = len(page) > limit
    page = page[:limit]
    return ImportJob(
        **{k: v for k, v in vars(job).items()},
        errors=[
            RejectedRow(row=r.row_number, line=r.line, field=r.field, reason=r.reason) for r in page
        ],
        next_errors_cursor=str(page[-1].id) if more else None,
    )


@router.get("/{job_id}", response_model=ImportJob)
async def status(
    job_id: UUID,
    conn: Conn,
    principal: Integration,
    errors_cursor: Annotated[str | None, Query()] = None,
    errors_limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ImportJob:
    """The job's state and counts, and a page of its rejected rows in file order."""
    return await _representation(conn, job_id, errors_cursor, errors_limit)
