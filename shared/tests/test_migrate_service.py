"""`python -m receivables_platform.db.migrate_service`: the deployments' migration step."""

import os
import subprocess
import sys

import asyncpg
from typer.testing import CliRunner

from receivables_devkit.testing.plugin import FreshDatabase
from receivables_platform.db.migrate_service import app


async def test_migrates_a_service_database_and_exits(fresh_database: FreshDatabase) -> None:
    url = await fresh_database()
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    done = subprocess.run(
        [sys.executable, "-m", "receivables_platform.db.migrate_service", "case-service"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    conn = await asyncpg.connect(url)
    try:
        version = await conn.fetchval("SELECT version_num FROM alembic_version")
        events = await conn.fetchval("SELECT to_regclass('public.events')")
    finally:
        await conn.close()
    assert version and events == "events"
    # a second run finds nothing to do and still succeeds (every upgrade runs it)
    again = subprocess.run(
        [sys.executable, "-m", "receivables_platform.db.migrate_service", "case_service"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr + again.stdout


def test_refuses_an_unknown_service() -> None:
    result = CliRunner().invoke(app, ["no-such-service", "--database-url", "postgresql://x/y"])
    assert result.exit_code == 2
    assert "no service package 'no_such_service'" in result.output


def test_needs_a_database_url() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = CliRunner(env={**env, "DATABASE_URL": None}).invoke(app, ["case-service"])
    assert result.exit_code == 2
    assert "database-url" in result.output
