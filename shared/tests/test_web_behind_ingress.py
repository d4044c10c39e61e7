"""Behind a shared ingress: one host serves every API under its own path prefix, and each
replica's connection pool is sized from settings so the database's budget can be kept."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import ValidationError

from receivables_platform.settings import ServiceSettings
from receivables_platform.web.app import ServiceState, create_app
from receivables_platform.web.auth import Principal, issue_token, require_roles
from receivables_platform.web.testserver import running_server

SECRET = "ingress-test-secret-0123456789abcdef"
router = APIRouter()


@router.get("/v1/statements/{statement_id}")
async def statement(
    statement_id: str, request: Request, _: Principal = Depends(require_roles("collector"))
) -> dict[str, object]:
    state: ServiceState = request.app.state.service
    return {"statement_id": statement_id, "pool_max": state.pool.get_max_size()}


def app_for(platform_db: str, **settings: object) -> FastAPI:
    return create_app(
        ServiceSettings(database_url=platform_db, jwt_secret=SECRET, **settings),  # type: ignore[arg-type]
        title="t",
        routers=[router],
    )


async def test_an_api_under_a_path_prefix_answers_with_and_without_it(platform_db: str) -> None:
    auth = {"Authorization": f"Bearer {issue_token(SECRET, 'pat', ['collector'])}"}
    app = app_for(platform_db, http_root_path="/billing", database_pool_size=7)
    async with running_server(app) as base, httpx.AsyncClient(base_url=base) as http:
        through_ingress = await http.get("/billing/v1/statements/s-1", headers=auth)
        assert through_ingress.status_code == 200, through_ingress.text
        assert through_ingress.json() == {"statement_id": "s-1", "pool_max": 7}
        in_cluster = await http.get("/v1/statements/s-1", headers=auth)
        assert in_cluster.status_code == 200
        assert (await http.get("/billing/readyz")).status_code == 200
        document = (await http.get("/billing/openapi.json")).json()
        assert document["servers"] == [{"url": "/billing"}]
        assert (await http.get("/reporting/v1/statements/s-1", headers=auth)).status_code == 404


async def test_the_pool_defaults_to_twenty_connections(platform_db: str) -> None:
    auth = {"Authorization": f"Bearer {issue_token(SECRET, 'pat', ['collector'])}"}
    async with (
        running_server(app_for(platform_db)) as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        assert (await http.get("/v1/statements/s", headers=auth)).json()["pool_max"] == 20


@pytest.mark.parametrize(
    "setting",
    [
        {"database_pool_size": 0},
        {"database_pool_size": 501},
        {"http_root_path": "billing"},
        {"http_root_path": "/billing/"},
        {"http_root_path": "/a b"},
    ],
)
def test_pool_sizes_and_prefixes_out_of_shape_are_refused(setting: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ServiceSettings(**setting)  # type: ignore[arg-type]
