"""The invoice API through a real HTTP server over real PostgreSQL."""

from collections.abc import AsyncIterator
from uuid import uuid4

import asyncpg
import httpx
import pytest

from billing_adapter.spec import SPEC
from receivables_platform.service import build_app
from receivables_platform.web.auth import issue_token
from receivables_platform.web.testserver import running_server

SECRET = "test-secret-for-billing-api-0123456789"


@pytest.fixture
async def billing_url(fresh_database) -> str:
    return await fresh_database(SPEC.versions_dir)


@pytest.fixture
async def billing(billing_url: str) -> AsyncIterator[httpx.AsyncClient]:
    url = billing_url
    settings = SPEC.settings(database_url=url, jwt_secret=SECRET)
    async with running_server(build_app(SPEC, settings)) as base, \
            httpx.AsyncClient(base_url=base, timeout=10) as client:
        yield client


def auth(*roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, 'billing-system', roles)}"}


def invoice(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "external_id": f"INV-{uuid4().hex[:8]}", "account_id": str(uuid4()), "currency": "USD",
        "total_minor": 125_00, "issue_date": "2026-10-01", "due_date": "2026-10-31"}
    body.update(overrides)
    return body


def create_headers(key: str | None = None) -> dict[str, str]:
    return {**auth("integration"), "Idempotency-Key": key or str(uuid4())}


async def test_issue_then_read_with_etag_and_history(billing: httpx.AsyncClient):
    created = await billing.post("/v1/invoices", json=invoice(), headers=create_headers())
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["Location"] == f"/v1/invoices/{body['invoice_id']}"
    assert created.headers["ETag"] == '"1"'
    read = await billing.get(created.headers["Location"], headers=auth("collector"))
    assert read.status_code == 200 and read.json() == body and read.headers["ETag"] == '"1"'
    history = await billing.get(f"{created.headers['Location']}/history", headers=auth("admin"))
    [event] = history.json()["events"]
    assert event["type"] == "billing.invoice.issued" and event["data"]["total_minor"] == 125_00


async def test_a_retry_with_the_same_key_replays_and_the_same_external_id_returns_the_invoice(
        billing: httpx.AsyncClient):
    body, headers = invoice(), create_headers()
    first = await billing.post("/v1/invoices", json=body, headers=headers)
    replay = await billing.post("/v1/invoices", json=body, headers=headers)
    assert replay.status_code == 201 and replay.content == first.content
    assert replay.headers["Idempotent-Replayed"] == "true"
    again = await billing.post("/v1/invoices", json=body, headers=create_headers())
    assert again.status_code == 200
    assert again.json()["invoice_id"] == first.json()["invoice_id"]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"total_minor": -1}, "body.total_minor"),
    ({"total_minor": 10.5}, "body.total_minor"),
    ({"currency": "XYZ"}, "body.currency"),
    ({"due_date": "2026-09-30"}, "body.due_date"),
    ({"account_id": "not-a-uuid"}, "body.account_id"),
    ({"surprise": 1}, "body.surprise"),
])
async def test_bad_invoices_get_a_problem_naming_the_field_and_write_nothing(
        billing: httpx.AsyncClient, billing_url: str, overrides: dict[str, object], field: str):
    body = invoice(**overrides)
    response = await billing.post("/v1/invoices", json=body, headers=create_headers())
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]
    conn = await asyncpg.connect(billing_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM events") == 0
        assert await conn.fetchval("SELECT count(*) FROM external_ids") == 0
    finally:
        await conn.close()


async def test_an_unknown_invoice_is_a_404_problem(billing: httpx.AsyncClient):
    response = await billing.get(f"/v1/invoices/{uuid4()}", headers=auth("admin"))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_roles(billing: httpx.AsyncClient):
    no_token = await billing.post("/v1/invoices", json=invoice(), headers={"Idempotency-Key": "k"})
    assert no_token.status_code == 401
    collector = await billing.post("/v1/invoices", json=invoice(),
                                   headers={**auth("collector"), "Idempotency-Key": "k"})
    assert collector.status_code == 403
