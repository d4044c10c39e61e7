"""Request log lines, correlation ids and /metrics, over a real uvicorn."""

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import httpx
import pytest
import structlog
from fastapi import APIRouter, Depends, Request

from receivables_platform.settings import ServiceSettings
from receivables_platform.web.app import create_app
from receivables_platform.web.auth import Principal, issue_token, require_roles
from receivables_platform.web.request_log import correlation_id
from receivables_platform.web.testserver import running_server

SECRET = "observability-test-secret-0123456789ab"
router = APIRouter(prefix="/v1/gauges")


@router.get("/{gauge_id}")
async def gauge(
    gauge_id: str, request: Request, principal: Principal = Depends(require_roles("supervisor"))
) -> dict[str, Any]:
    return {
        "gauge_id": gauge_id,
        "bound": structlog.contextvars.get_contextvars(),
        "state": correlation_id(request),
    }


@pytest.fixture
async def client(platform_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(
        service_name="web-test", database_url=platform_db, jwt_secret=SECRET, jwt_jwks_url=None
    )
    app = create_app(settings, title="observability test", routers=[router])
    async with running_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        yield http


def supervisor() -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, 'sup-3', ['supervisor'])}"}


async def test_a_sane_correlation_id_is_kept_bound_and_echoed(client: httpx.AsyncClient) -> None:
    cid = "evt_billing-42.retry:1"
    response = await client.get("/v1/gauges/g1", headers={**supervisor(), "X-Correlation-Id": cid})
    assert response.headers["x-correlation-id"] == cid
    assert response.json()["bound"]["correlation_id"] == cid
    assert response.json()["state"] == cid


@pytest.mark.parametrize("sent", [None, "has spaces", "x" * 129, 'quote"d'])
async def test_otherwise_a_new_uuid7_is_used(client: httpx.AsyncClient, sent: str | None) -> None:
    headers = supervisor() if sent is None else {**supervisor(), "X-Correlation-Id": sent}
    response = await client.get("/v1/gauges/g1", headers=headers)
    cid = response.headers["x-correlation-id"]
    assert UUID(cid).version == 7
    assert response.json()["state"] == cid


async def test_problems_carry_the_correlation_id_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/gauges/g1", headers={"X-Correlation-Id": "c-401"})
    assert response.status_code == 401
    assert response.headers["x-correlation-id"] == "c-401"
    assert response.json()["correlation_id"] == "c-401"


async def test_one_log_line_per_request_with_the_route_template(client: httpx.AsyncClient) -> None:
    merged = [structlog.contextvars.merge_contextvars]
    with structlog.testing.capture_logs(processors=merged) as logs:
        response = await client.get(
            "/v1/gauges/g-77", headers={**supervisor(), "X-Correlation-Id": "c-log"}
        )
        await client.get("/healthz")
    lines = [e for e in logs if e["event"] == "http.request"]
    assert len(lines) == 2
    line, probe = lines
    assert response.status_code == 200
    assert {
        k: line[k]
        for k in ("method", "route", "path", "status", "correlation_id", "sub", "log_level")
    } == {
        "method": "GET",
        "route": "/v1/gauges/{gauge_id}",
        "path": "/v1/gauges/g-77",
        "status": 200,
        "correlation_id": "c-log",
        "sub": "sup-3",
        "log_level": "info",
    }
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert probe["route"] == "/healthz" and probe["log_level"] == "debug"


async def test_metrics_expose_the_default_registry_by_route(client: httpx.AsyncClient) -> None:
    await client.get("/v1/gauges/g-1", headers=supervisor())
    await client.get("/v1/gauges/g-2")
    await client.get("/v1/no-such-thing/3")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'http_server_request_duration_seconds_count{method="GET",'
        'route="/v1/gauges/{gauge_id}",status="200"}' in text
    )
    assert 'route="/v1/gauges/{gauge_id}",status="401"}' in text
    assert 'route="unmatched",status="404"}' in text
    assert "/v1/no-such-thing" not in text
    assert "python_info" in text or "process_" in text
