"""Every error is RFC 9457 problem+json, over a real uvicorn and a real database."""

from collections.abc import AsyncIterator
from typing import ClassVar
from uuid import uuid4

import httpx
import pytest
import structlog
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from receivables_platform.contracts.base import EventContract
from receivables_platform.settings import ServiceSettings
from receivables_platform.store import EventStore
from receivables_platform.web.app import ServiceState, create_app
from receivables_platform.web.auth import Principal, issue_token, require_roles
from receivables_platform.web.problems import Problem, problem_type
from receivables_platform.web.testserver import running_server

SECRET = "problems-test-secret-0123456789abcdef"
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


class Pinged(EventContract):
    event_type: ClassVar[str] = "test.ping.pinged"
    aggregate: ClassVar[str] = "ping"


class Line(BaseModel):
    amount_minor: int = Field(gt=0)


class Order(BaseModel):
    customer: str = Field(min_length=1)
    amount_minor: int = Field(gt=0)
    lines: list[Line] = []


store = EventStore(source="web-test", topic="web-test.events.v1")
router = APIRouter()


@router.post("/v1/orders", status_code=201)
async def create_order(order: Order, _: Principal = Depends(require_roles("collector"))) -> Order:
    return order


@router.get("/v1/orders")
async def list_orders(limit: int = Query(50, ge=1, le=200)) -> list[Order]:
    return []


@router.get("/v1/accounts/{account_id}")
async def account(account_id: str) -> dict[str, str]:
    raise Problem(
        404,
        "Account not found",
        f"no account {account_id}",
        type=problem_type("account-not-found"),
        field="path.account_id",
    )


@router.post("/v1/streams/{stream_id}/stale-append")
async def stale_append(stream_id: str, request: Request) -> dict[str, str]:
    """Appends as if the stream were new: the second call loses to the first."""
    state: ServiceState = request.app.state.service
    await store.append_one(state.pool, stream_id, 0, Pinged())
    return {"ok": "yes"}


@router.get("/v1/boom")
async def boom() -> None:
    raise RuntimeError("connection to db-primary.internal:5432 as admin/hunter2 failed")


@pytest.fixture
async def client(platform_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(
        service_name="web-test", database_url=platform_db, jwt_secret=SECRET, jwt_jwks_url=None
    )
    app = create_app(settings, title="problems test", routers=[router])
    async with running_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        yield http


def collector() -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, 'user-1', ['collector'])}"}


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["instance"] == response.request.url.path
    assert body["correlation_id"] == response.headers["x-correlation-id"]
    return body


async def test_invalid_fields_are_listed_by_dotted_location(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/orders",
        headers=collector(),
        json={"customer": "", "amount_minor": "twelve", "lines": [{"amount_minor": 5}, {}]},
    )
    body = assert_problem(response, 422)
    assert body["type"] == problem_type("validation-error")
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"body.customer", "body.amount_minor", "body.lines.1.amount_minor"}
    assert all(e["message"] for e in body["errors"])
    assert "body.customer" in body["detail"]


async def test_a_bad_query_parameter_is_named(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/orders", params={"limit": "0"}), 422)
    assert [e["field"] for e in body["errors"]] == ["query.limit"]


async def test_a_missing_body_is_named(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.post("/v1/orders", headers=collector()), 422)
    assert [e["field"] for e in body["errors"]] == ["body"]


async def test_malformed_json_is_a_400_about_the_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/orders",
        content=b'{"customer": "a",',
        headers={**collector(), "Content-Type": "application/json"},
    )
    body = assert_problem(response, 400)
    assert body["type"] == problem_type("malformed-body")
    assert [e["field"] for e in body["errors"]] == ["body"]
    assert "JSON" in body["errors"][0]["message"]


async def test_unknown_routes_and_methods_are_problems(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/nothing-here"), 404)
    assert body["title"] == "Not Found" and body["type"] == "about:blank"
    assert "/v1/nothing-here" in body["detail"]
    response = await client.delete("/v1/orders")
    assert_problem(response, 405)
    assert "GET" in response.headers["allow"]


async def test_a_domain_refusal_keeps_its_type_title_and_field(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/accounts/acc-9"), 404)
    assert body["type"] == problem_type("account-not-found")
    assert body["title"] == "Account not found"
    assert body["errors"] == [{"field": "path.account_id", "message": "no account acc-9"}]


async def test_a_concurrency_error_is_a_409(client: httpx.AsyncClient) -> None:
    stream = f"ping-{uuid4()}"
    assert (await client.post(f"/v1/streams/{stream}/stale-append")).status_code == 200
    body = assert_problem(await client.post(f"/v1/streams/{stream}/stale-append"), 409)
    assert body["type"] == problem_type("concurrent-update")


async def test_an_unexpected_exception_is_a_500_that_leaks_nothing(
    client: httpx.AsyncClient,
) -> None:
    with structlog.testing.capture_logs() as logs:
        response = await client.get("/v1/boom")
    body = assert_problem(response, 500)
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert body["title"] == "Internal Server Error"
    errors = [e for e in logs if e["event"] == "http.unhandled_error"]
    assert len(errors) == 1 and errors[0]["exc_info"]
    assert (await client.get("/healthz")).status_code == 200
