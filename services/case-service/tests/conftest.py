"""Case-service under test: a real HTTP server over a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from case_service.settings import CaseDependencies
from case_service.spec import SPEC
from case_service.testing import SECRET, register_agents
from receivables_platform.service import build_app
from receivables_platform.web.testserver import running_server


@pytest.fixture
async def cases_url(fresh_database) -> str:
    return await fresh_database(SPEC.versions_dir)


def start(url: str, dependencies: CaseDependencies | None = None, **settings: Any) -> Any:
    return running_server(build_app(SPEC, SPEC.settings(database_url=url, jwt_secret=SECRET,
                                                        **settings), dependencies=dependencies))


@pytest.fixture
def case_server() -> Callable[..., Any]:
    """`async with case_server(url, smtp_url=...) as base_url`: a server with other settings
    (`dependencies=CaseDependencies(...)`: another policy or other limits)."""
    return start


@pytest.fixture
async def api(cases_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with start(cases_url) as base, \
            httpx.AsyncClient(base_url=base, timeout=10) as client:
        await register_agents(client)
        yield client


