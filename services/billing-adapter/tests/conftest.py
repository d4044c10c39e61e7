"""The billing adapter under test: a fresh PostgreSQL database with its migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from billing_adapter.spec import SPEC
from billing_adapter.stripe_testing import SECRET, serving


@pytest.fixture
async def billing_url(fresh_database: Any) -> str:
    return await fresh_database(SPEC.versions_dir)


@pytest.fixture
async def database(fresh_database: Any) -> str:
    return str(await fresh_database(SPEC.versions_dir))


@pytest.fixture
async def stripe(database: str) -> AsyncIterator[httpx.AsyncClient]:
    """The billing adapter served with a Stripe signing secret, as a client of it."""
    async with serving(database, SECRET) as client:
        yield client
