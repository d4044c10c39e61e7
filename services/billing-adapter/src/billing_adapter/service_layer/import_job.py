"""Run an uploaded file's import as a job whose progress lives in the database."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from pathlib import Path
from uuid import UUID

import asyncpg
import structlog

from billing_adapter.adapters import import_jobs
from billing_adapter.service_layer.bulk_import import BatchResult, FileRefused, Kind, SourceRow
from billing_adapter.service_layer.import_file import import_file

log = structlog.get_logger("billing_adapter.imports")


async def run_job(
    pool: asyncpg.Pool,
    job_id: UUID,
    kind: Kind,
    rows: Generator[SourceRow],
    path: Path,
    *,
    submitted_by: str | None = None,
) -> None:
    """Import `rows`, read from `path` (deleted afterwards); a refused file or a crash ends the
    job as failed."""

    async def recorded(result: BatchResult) -> None:
        async with pool.acquire() as conn:
            await import_jobs.record(conn, job_id, result.tally, result.rejections)

    failure: str | None = None
    try:
        async with pool.acquire() as conn:
            await import_jobs.start(conn, job_id)
        await import_file(
            pool,
            kind,
            rows,
            on_batch=recorded,
            correlation_id=f"import:{job_id}",
            actor=submitted_by,
        )
    except FileRefused as refused:
        failure = refused.reason if refused.field is None else f"{refused.field}: {refused.reason}"
    except Exception as exc:
        log.exception("import.failed", job_id=str(job_id))
        failure = f"the import stopped: {type(exc).__name__}; importing the file again resumes it"
    finally:
        rows.close()  # the file, read or not, is closed before it is deleted
        await asyncio.to_thread(path.unlink, missing_ok=True)
    async with pool.acquire() as conn:
        await import_jobs.finish(conn, job_id, failure)
    log.info("import.finished", job_id=str(job_id), failure=failure)
