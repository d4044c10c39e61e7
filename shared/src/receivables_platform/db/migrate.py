"""Bring a service database to its newest schema with alembic.

The environment (env.py, template) lives here once; a service passes the
folder holding its `versions/`. Runs in a worker thread because alembic's
async environment starts its own event loop.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

ALEMBIC_ENV = Path(__file__).parent / "alembic"


def alembic_config(database_url: str, versions_dir: Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_ENV))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(versions_dir))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url))
    return cfg


def sqlalchemy_url(database_url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+asyncpg://" + database_url[len(prefix):]
    return database_url


def upgrade(database_url: str, versions_dir: Path) -> None:
    command.upgrade(alembic_config(database_url, versions_dir), "head")


async def upgrade_async(database_url: str, versions_dir: Path) -> None:
    await asyncio.to_thread(upgrade, database_url, versions_dir)
