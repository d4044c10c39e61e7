"""The billing adapter under test: a fresh PostgreSQL database with its migrations."""

from __future__ import annotations

from typing import Any

import pytest

from billing_adapter.spec import SPEC


@pytest.fixture
async def billing_url(fresh_database: Any) -> str:
    return await fresh_database(SPEC.versions_dir)
