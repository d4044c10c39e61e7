"""The aging API through a real HTTP server over the real read model."""

from collections.abc import AsyncIterator
from datetime import date, timedelta
from uuid import uuid4

import httpx
import pytest

from receivables_platform.contracts.billing import InvoiceIssued
from receivables_platform.db.pool import connect
from receivables_platform.envelope import CloudEvent
from receivables_platform.service import build_app
from receivables_platform.web.auth import issue_token
from receivables_platform.web.testserver import running_server
from reporting_service.consumers.billing_projection import project_billing_event
from reporting_service.spec import SPEC

SECRET = "test-secret-for-reporting-api-0123456789"
AUTH = {"Authorization": f"Bearer {issue_token(SECRET, 'ana', ['supervisor'])}"}


@pytest.fixture
async def reporting(fresh_database) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    url = await fresh_database(SPEC.versions_dir)
    settings = SPEC.settings(database_url=url, jwt_secret=SECRET)
    async with (
        running_server(build_app(SPEC, settings)) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as client,
    ):
        yield client, url


async def seed(url: str, account, total: int, due: date) -> None:
    contract = InvoiceIssued(
        invoice_id=uuid4(),
        account_id=account,
        external_id="E-1",
        currency="USD",
        total_minor=total,
        issue_date=due - timedelta(30),
        due_date=due,
    )
    conn = await connect(url)
    try:
        await project_billing_event(
            conn,
            CloudEvent(
                source="urn:test",
                type=contract.event_type,
                subject=str(account),
                partitionkey=str(account),
                data=contract.payload(),
            ),
        )
    finally:
        await conn.close()


async def test_aging_by_invoice_with_custom_buckets(reporting):
    client, url = reporting
    account = uuid4()
    await seed(url, account, 700, date(2026, 10, 1))
    response = await client.get(
        "/v1/aging",
        headers=AUTH,
        params={
            "as_of": "2026-11-20",
            "group_by": "invoice",
            "account_id": str(account),
            "buckets": "0,45,90",
        },
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["buckets"] == ["current", "1-45", "46-90", "90+"]
    [row] = report["rows"]
    assert row["buckets"]["46-90"] == 700 and row["due_date"] == "2026-10-01"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"buckets": "30,60"}, "query.buckets"),
        ({"as_of": "yesterday"}, "query.as_of"),
        ({"as_of": "9999-12-31"}, "query.as_of"),
        ({"as_of": "0001-01-01"}, "query.as_of"),
        ({"as_of": "0"}, "query.as_of"),
        ({"as_of": "-1"}, "query.as_of"),
        ({"as_of": "99999999999"}, "query.as_of"),
        ({"group_by": "planet"}, "query.group_by"),
        ({"currency": "usd"}, "query.currency"),
    ],
)
async def test_bad_queries_name_the_parameter(reporting, params: dict[str, str], field: str):
    client, _ = reporting
    response = await client.get("/v1/aging", headers=AUTH, params=params)
    assert response.status_code in (400, 422)
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_aging_needs_a_token(reporting):
    client, _ = reporting
    assert (await client.get("/v1/aging")).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"segment": "\u00ab\x00\u00f4\t"}, "query.segment"),
        ({"group_by": "currency", "collector_id": "kim\x00"}, "query.collector_id"),
    ],
)
async def test_a_nul_in_query_text_is_refused_naming_the_parameter(reporting, params, field):
    """PostgreSQL text cannot hold U+0000: it was a 500 (found by the OpenAPI fuzz)."""
    client, _ = reporting
    response = await client.get("/v1/aging", headers=AUTH, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == [field]
