"""Where a database benchmark runs: `DATABASE_URL` when set, else a throwaway embedded server.

The figures of a benchmark should not depend on how its PostgreSQL was found, so
every database benchmark starts it the same way.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from receivables_devkit.infra.embedded_postgres import EmbeddedPostgres, database_url
from receivables_platform import event_loop
from receivables_platform.db.migrate import upgrade_async
from receivables_platform.ids import new_id
from reporting_service.spec import SPEC


def run_on_postgres(bench: Callable[[str], Coroutine[Any, Any, None]], *, prefix: str) -> None:
    if url := os.environ.get("DATABASE_URL"):
        event_loop.run(bench(url))
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg").start()
        try:
            event_loop.run(bench(server.url))
        finally:
            server.stop("immediate")


@asynccontextmanager
async def reporting_database(server_url: str, prefix: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a database of its own with reporting's schema, dropped afterwards, so a
    benchmark's seeded book never meets another's (or a developer's) data."""
    name = f"{prefix}_{new_id().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = database_url(server_url, name)
    try:
        await upgrade_async(url, SPEC.versions_dir)
        conn = await asyncpg.connect(url)
        try:
            yield conn
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def run_script(conn: asyncpg.Connection, script: str, sizes: dict[str, str]) -> None:
    """Runs a seed script statement by statement, its `$n::type` placeholders replaced by the
    sizes given (numbers and literals the benchmark built, never input text)."""
    for placeholder, value in sizes.items():
        script = script.replace(placeholder, value)
    for statement in script.split(";\n"):
        if statement.strip():
            await conn.execute(statement)
