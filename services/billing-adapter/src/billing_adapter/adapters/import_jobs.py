"""Bulk import jobs in the service's database (tables `import_jobs`, `import_errors`).

A job's counts and rejected rows are written after every batch, so its status
is readable from any replica while it runs and after the process is gone. A
job whose process died stops beating: it reads as `interrupted`, and importing
the file again finishes it (what was imported is then unchanged).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from billing_adapter.service_layer.bulk_import import Rejection, Tally

# A batch takes well under a second; a job silent for this long has lost its process.
STALE_AFTER = "2 minutes"

_STATE = f"""CASE WHEN state = 'running' AND heartbeat_at < now() - interval '{STALE_AFTER}'
             THEN 'interrupted' ELSE state END AS state"""


@dataclass(frozen=True)
class Job:
    job_id: UUID
    kind: str
    format: str
    state: str
    submitted_by: str
    rows_read: int
    imported: int
    updated: int
    unchanged: int
    rejected: int
    failure: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


_JOB = (
    f"job_id, kind, format, {_STATE}, submitted_by, rows_read, imported, updated, "
    "unchanged, rejected, failure, created_at, started_at, finished_at"
)


async def create(
    conn: asyncpg.Connection,
    job_id: UUID,
    kind: str,
    fmt: str,
    submitted_by: str,
    idempotency_key: str | None,
) -> UUID:
    """The new job's id, or the id of the job this principal already submitted with the key."""
    created = await conn.fetchval(
        "INSERT INTO import_jobs (job_id, kind, format, state, submitted_by, idempotency_key) "
        "VALUES ($1, $2, $3, 'queued', $4, $5) "
        "ON CONFLICT (submitted_by, idempotency_key) DO NOTHING RETURNING job_id",
        job_id,
        kind,
        fmt,
        submitted_by,
        idempotency_key,
    )
    if created is not None:
        return UUID(str(created))
    earlier = await submitted_with(conn, submitted_by, idempotency_key)
    assert earlier is not None  # the conflict that stopped the insert is this row
    return earlier


async def submitted_with(
    conn: asyncpg.Connection, submitted_by: str, idempotency_key: str | None
) -> UUID | None:
    """The job this principal submitted with this Idempotency-Key, if any."""
    job_id = await conn.fetchval(
        "SELECT job_id FROM import_jobs WHERE submitted_by = $1 AND idempotency_key = $2",
        submitted_by,
        idempotency_key,
    )
    return None if job_id is None else UUID(str(job_id))


async def find(conn: asyncpg.Connection, job_id: UUID) -> Job | None:
    row = await conn.fetchrow(
        f"SELECT {_JOB} FROM import_jobs WHERE job_id = $1",  # noqa: S608
        job_id,
    )
    return None if row is None else Job(**dict(row))


async def start(conn: asyncpg.Connection, job_id: UUID) -> None:
    await conn.execute(
        "UPDATE import_jobs SET state = 'running', started_at = now(), "
        "heartbeat_at = now() WHERE job_id = $1",
        job_id,
    )


async def record(
    conn: asyncpg.Connection, job_id: UUID, tally: Tally, rejections: Sequence[Rejection]
) -> None:
    """One batch's counts and rejected rows, in one transaction."""
    async with conn.transaction():
        await conn.execute(
            "UPDATE import_jobs SET rows_read = rows_read + $2, imported = imported + $3, "
            "updated = updated + $4, unchanged = unchanged + $5, rejected = rejected + $6, "
            "heartbeat_at = now() WHERE job_id = $1",
            job_id,
            tally.read,
            tally.imported,
            tally.updated,
            tally.unchanged,
            tally.rejected,
        )
        if rejections:
            await conn.execute(
                "INSERT INTO import_errors (job_id, row_number, line, field, reason) "
                "SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[])",
                job_id,
                [r.row for r in rejections],
                [r.line for r in rejections],
                [r.field for r in rejections],
                [r.reason for r in rejections],
            )


async def finish(conn: asyncpg.Connection, job_id: UUID, failure: str | None = None) -> None:
    await conn.execute(
        "UPDATE import_jobs SET state = $2, failure = $3, finished_at = now() WHERE job_id = $1",
        job_id,
        "failed" if failure else "succeeded",
        failure,
    )


@dataclass(frozen=True)
class StoredRejection:
    id: int
    row_number: int
    line: int | None
    field: str | None
    reason: str


async def rejections(
    conn: asyncpg.Connection, job_id: UUID, after: int, limit: int
) -> list[StoredRejection]:
    rows = await conn.fetch(
        "SELECT id, row_number, line, field, reason FROM import_errors "
        "WHERE job_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        job_id,
        after,
        limit,
    )
    return [StoredRejection(**dict(r)) for r in rows]
