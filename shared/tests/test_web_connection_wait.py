"""Past the pool's capacity a request is turned away quickly with 503 and Retry-After.

Over a real uvicorn and PostgreSQL: every pooled connection is held by a slow
request, so the next one cannot get a connection; it must not queue until its
client gives up, and the service serves again as soon as connections return.
"""

import asyncio
import time
from typing import Annotated

import asyncpg
import httpx
import pytest
from fastapi import APIRouter, Depends

from receivables_platform.settings import ServiceSettings
from receivables_platform.web import connection as request_connection
from receivables_platform.web.app import create_app
from receivables_platform.web.connection import connection
from receivables_platform.web.problems import PROBLEM_JSON, Problem
from receivables_platform.web.testserver import running_server

pytestmark = pytest.mark.timeout(120)
POOL_SIZE = 20  # create_app's pool
Conn = Annotated[asyncpg.Connection, Depends(connection)]


def app_with_slow_route(database_url: str, release: asyncio.Event) -> object:
    router = APIRouter()

    @router.get("/v1/slow-report")
    async def slow(conn: Conn) -> dict[str, int]:
        await release.wait()
        return {"one": await conn.fetchval("SELECT 1")}

    @router.get("/v1/disputed-invoices/{refusal}")
    async def refused(refusal: str, conn: Conn) -> dict[str, int]:
        await conn.fetchval("SELECT 1")
        if refusal == "crash":
            raise RuntimeError("the route failed after taking its connection")
        raise Problem(422, "Invoice disputed", "a case holds it", field="path.refusal")

    @router.get("/v1/open-invoices/count")
    async def count(conn: Conn) -> dict[str, int]:
        return {"count": await conn.fetchval("SELECT count(*) FROM pg_class")}

    settings = ServiceSettings(
        service_name="wait-test",
        database_url=database_url,
        jwt_secret="wait-test-secret-0123456789abcdef0123",
        jwt_jwks_url=None,
    )
    return create_app(settings, title="wait test", routers=[router])


async def test_a_request_that_cannot_get_a_connection_soon_gets_503_then_service_resumes(
    platform_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(request_connection, "REQUEST_WAIT_SECONDS", 0.5)
    release = asyncio.Event()
    app = app_with_slow_route(platform_db, release)
    limits = httpx.Limits(max_connections=POOL_SIZE + 5)
    async with (
        running_server(app) as base,
        httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http,
    ):
        holders = [asyncio.create_task(http.get("/v1/slow-report")) for _ in range(POOL_SIZE)]
        await asyncio.sleep(1.0)  # every pooled connection is now held

        began = time.perf_counter()
        turned_away = await http.get("/v1/open-invoices/count")
        waited = time.perf_counter() - began
        assert turned_away.status_code == 503, turned_away.text
        assert turned_away.headers["content-type"].startswith(PROBLEM_JSON)
        assert int(turned_away.headers["Retry-After"]) > 0
        assert waited < 5, f"turned away only after {waited:.1f} s"

        release.set()
        assert all(r.status_code == 200 for r in await asyncio.gather(*holders))
        assert (await http.get("/v1/open-invoices/count")).status_code == 200


async def test_a_request_that_fails_after_taking_its_connection_gives_it_back(
    platform_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection goes back from the ASGI layer, not from a generator's exit: a refusal
    or a crash in the route must not keep it, or the pool runs dry (503s) after a few."""
    monkeypatch.setattr(request_connection, "REQUEST_WAIT_SECONDS", 0.5)
    app = app_with_slow_route(platform_db, asyncio.Event())
    async with running_server(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
        for n in range(POOL_SIZE + 5):
            failed = await http.get(f"/v1/disputed-invoices/{'crash' if n % 2 else 'held'}")
            assert failed.status_code == (500 if n % 2 else 422), failed.text
        assert (await http.get("/v1/open-invoices/count")).status_code == 200
        pool: asyncpg.Pool = app.state.service.pool  # type: ignore[attr-defined]
        assert pool.get_idle_size() == pool.get_size()
