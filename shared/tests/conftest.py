from collections.abc import AsyncIterator

import asyncpg
import pytest

from receivables_devkit.testing.plugin import FreshDatabase
from receivables_platform.db.migrate import PLATFORM_VERSIONS
from receivables_platform.db.pool import create_pool


@pytest.fixture
async def platform_db(fresh_database: FreshDatabase) -> str:
    """A database with only the platform tables."""
    return await fresh_database(PLATFORM_VERSIONS)


@pytest.fixture
async def pool(platform_db: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(platform_db, max_size=8)
    yield pool
    await pool.close()
