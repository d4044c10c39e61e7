"""A collections service on a fresh database with a fixed clock, and billing events to feed it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller

from collections_service.domain.calendar import BusinessCalendar
from collections_service.domain.clock import FixedClock
from collections_service.runtime import CollectionsSettings, Runtime
from collections_service.spec import SPEC
from collections_service.testing import MONDAY, SECRET, BillingFeed, Inbox, at, free_port
from receivables_platform.db.pool import connect
from receivables_platform.service import build_app
from receivables_platform.web.testserver import running_server


@pytest.fixture
def runtime() -> Runtime:
    """What the tests compose instead of the environment: handed to the app and the feed."""
    return Runtime(
        FixedClock(at(MONDAY)),
        BusinessCalendar.of("US"),
        CollectionsSettings(
            smtp_url=None, daily_run=False, dunning=False, dunning_poll_seconds=0.2
        ),
    )


@pytest.fixture
async def database_url(fresh_database: Any) -> str:
    url: str = await fresh_database(SPEC.versions_dir)
    return url


@pytest.fixture
async def api(database_url: str, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    settings = SPEC.settings(database_url=database_url, jwt_secret=SECRET)
    settings = settings.model_copy(
        update={"kafka": settings.kafka.model_copy(update={"bootstrap_servers": None})}
    )
    app = build_app(SPEC, settings, dependencies=runtime)
    async with running_server(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
        yield client


@pytest.fixture
def billing(database_url: str, runtime: Runtime) -> BillingFeed:
    return BillingFeed(database_url, runtime)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
def inbox(runtime: Runtime) -> Iterator[Inbox]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    runtime.settings = runtime.settings.model_copy(
        update={"smtp_url": f"smtp://127.0.0.1:{port}?from=collections@receivables.test"}
    )
    try:
        yield handler
    finally:
        controller.stop()
