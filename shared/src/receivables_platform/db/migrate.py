"""Bring a service database to its newest schema with alembic.

The environment (env.py, template) lives here once; a service passes the
folder holding its `versions/`. Beside it runs the `platform` branch
(`platform_versions/`): the platform tables, defined once for every service. A
service revision that needs them names the platform revision in `depends_on`;
upgrading to every head applies a new platform revision to every service's
database without a migration of its own. Runs in a worker thread because
alembic's async environment starts its own event loop.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from alembic import command
from alembic.config import Config

ALEMBIC_ENV = Path(__file__).parent / "alembic"
PLATFORM_VERSIONS = Path(__file__).parent / "platform_versions"


def alembic_config(database_url: str, versions_dir: Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_ENV))
    cfg.set_main_option("path_separator", "os")
    locations = dict.fromkeys((PLATFORM_VERSIONS, versions_dir))
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url))
    return cfg


def sqlalchemy_url(database_url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+asyncpg://" + database_url[len(prefix) :]
    return database_url


def upgrade(database_url: str, versions_dir: Path) -> None:
    command.upgrade(alembic_config(database_url, versions_dir), "heads")


async def upgrade_async(database_url: str, versions_dir: Path) -> None:
    await asyncio.to_thread(upgrade, database_url, versions_dir)
