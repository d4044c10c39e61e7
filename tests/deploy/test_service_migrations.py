"""Every service's database: the platform tables from one shared branch, upgrades that end
where a fresh install does.

The platform tables are the alembic branch `platform` (receivables_platform/db/
platform_versions): a service's chain depends on its revisions instead of carrying its
own copy, so a new platform revision reaches every service's database, fresh or already
migrated, without a migration of the service's own.
"""

import asyncio
import importlib
import shutil
from pathlib import Path

import asyncpg
import pytest
from alembic import command

from receivables_devkit.infra.embedded_postgres import schema_of
from receivables_platform.db import migrate
from receivables_platform.db.migrate import alembic_config, upgrade_async
from receivables_platform.service import ServiceSpec

SERVICES = ("billing_adapter", "collections_service", "case_service", "reporting_service")


def _spec(package: str) -> ServiceSpec:
    spec: ServiceSpec = importlib.import_module(f"{package}.spec").SPEC
    return spec


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        return {
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    finally:
        await conn.close()


@pytest.mark.parametrize("package", SERVICES)
async def test_an_upgrade_from_the_oldest_revision_ends_with_a_fresh_install_s_schema(
    fresh_database, package
):
    spec = _spec(package)
    fresh = await fresh_database(spec.versions_dir)
    upgraded = await fresh_database()
    await asyncio.to_thread(
        command.upgrade, alembic_config(upgraded, spec.versions_dir), f"{package}_0001"
    )
    assert {"events", "outbox"} <= await _tables(upgraded)
    await upgrade_async(upgraded, spec.versions_dir)
    assert await asyncio.to_thread(schema_of, upgraded) == await asyncio.to_thread(schema_of, fresh)


NEW_PLATFORM_REVISION = """
from alembic import op

revision = "platform_9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE platform_novelty (id integer PRIMARY KEY)")
"""


async def test_a_new_platform_revision_reaches_every_service_database_once(
    fresh_database, tmp_path, monkeypatch
):
    migrated = {package: await fresh_database(_spec(package).versions_dir) for package in SERVICES}
    platform = tmp_path / "platform_versions"
    shutil.copytree(
        migrate.PLATFORM_VERSIONS, platform, ignore=shutil.ignore_patterns("__pycache__")
    )
    head = max(path.stem for path in platform.glob("0*.py")).split("_")[0]
    (platform / "9999_novelty.py").write_text(NEW_PLATFORM_REVISION.format(head=f"platform_{head}"))
    monkeypatch.setattr(migrate, "PLATFORM_VERSIONS", platform)
    for package in SERVICES:
        versions: Path = _spec(package).versions_dir
        empty = await fresh_database()
        await upgrade_async(empty, versions)
        await upgrade_async(migrated[package], versions)
        await upgrade_async(migrated[package], versions)  # a second run finds nothing to do
        assert "platform_novelty" in await _tables(empty), package
        assert "platform_novelty" in await _tables(migrated[package]), package
