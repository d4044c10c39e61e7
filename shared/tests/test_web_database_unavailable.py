"""A PostgreSQL restart is a 503 with Retry-After, not a 500, and the service recovers by itself.

Over a real uvicorn and a PostgreSQL server of the test's own, stopped the way a
crash or failover stops it (immediate shutdown, every connection cut).
"""

import asyncio

import httpx
import pytest
from fastapi import APIRouter, Request

from receivables_devkit.infra.embedded_postgres import EmbeddedPostgres, ensure_database
from receivables_platform.db.migrate import PLATFORM_VERSIONS, upgrade_async
from receivables_platform.settings import ServiceSettings
from receivables_platform.web.app import ServiceState, create_app
from receivables_platform.web.problems import PROBLEM_JSON, problem_type
from receivables_platform.web.testserver import running_server

pytestmark = pytest.mark.timeout(120)


router = APIRouter()


@router.get("/v1/open-invoices/count")
async def count(request: Request) -> dict[str, int]:
    state: ServiceState = request.app.state.service
    return {"count": await state.pool.fetchval("SELECT count(*) FROM pg_class")}


async def test_a_database_restart_answers_503_with_retry_after_then_recovers(
    own_postgres: EmbeddedPostgres,
) -> None:
    url = await ensure_database(own_postgres.url, "unavailable_test")
    await upgrade_async(url, PLATFORM_VERSIONS)
    settings = ServiceSettings(
        service_name="unavailable-test",
        database_url=url,
        jwt_secret="unavailable-test-secret-0123456789abcdef",
        jwt_jwks_url=None,
    )
    app = create_app(settings, title="unavailable test", routers=[router])
    async with running_server(app) as base, httpx.AsyncClient(base_url=base) as http:
        assert (await http.get("/v1/open-invoices/count")).status_code == 200

        await asyncio.to_thread(own_postgres.stop, "immediate")
        for _ in range(2):  # a pooled connection cut under it, then no connection at all
            down = await http.get("/v1/open-invoices/count")
            assert down.status_code == 503, down.text
            assert down.headers["content-type"] == PROBLEM_JSON
            assert int(down.headers["retry-after"]) > 0
            assert down.json()["type"] == problem_type("dependency-unavailable")

        await asyncio.to_thread(own_postgres.start)
        up = await http.get("/v1/open-invoices/count")
        assert up.status_code == 200, up.text
