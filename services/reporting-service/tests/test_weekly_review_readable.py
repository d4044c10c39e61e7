"""The weekly review a person reads (issue 19.8): money per currency, escalations by cause and
the aging change on the page, whole category labels, and empty charts that say so.

A yen book: JPY has no minor unit, so 5,000 minor units are ¥5,000, not ¥50.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Any
from uuid import uuid4

import httpx
import matplotlib.pyplot as plt
import pytest

from receivables_platform.contracts.billing import InvoiceIssued
from receivables_platform.contracts.cases import (
    CaseClosed,
    CaseEscalated,
    CasePriority,
    CaseType,
    Completeness,
    EscalationCause,
    EscalationTeam,
    RootCause,
)
from receivables_platform.db.pool import connect
from receivables_platform.service import build_app
from receivables_platform.web.auth import issue_token
from receivables_platform.web.testserver import running_server
from reporting_service.adapters import charts
from reporting_service.consumers.projections import PROJECTIONS
from reporting_service.spec import SPEC
from reporting_service.testing import cloud

SECRET = "test-secret-for-reporting-readable-0123"
AUTH = {"Authorization": f"Bearer {issue_token(SECRET, 'sue', ['supervisor'])}"}
ACCOUNT = uuid4()
LONG_CODE = "meter_read_estimated_instead_of_actual_after_installation_visit"
CODES = (
    LONG_CODE,
    "rate_plan_changed_mid_cycle_without_notice_to_the_customer",
    "duplicate_billing_run_after_the_nightly_job_was_retried",
    "rate_plan",
)
CAUSES = [RootCause(category_id=uuid4(), category_code=code, category_name=code) for code in CODES]


def at(day: int) -> datetime:
    return datetime(2026, 11, day, 12, tzinfo=UTC)


@pytest.fixture
async def client(fresh_database) -> AsyncIterator[httpx.AsyncClient]:
    url = await fresh_database(SPEC.versions_dir)
    conn = await connect(url)
    try:
        invoice = InvoiceIssued(
            invoice_id=uuid4(),
            account_id=ACCOUNT,
            external_id="I",
            currency="JPY",
            total_minor=5_000,
            issue_date=date(2026, 11, 1),
            due_date=date(2026, 12, 1),
        )
        await PROJECTIONS["billing"].handler(conn, cloud(invoice))
        cases = [
            CaseClosed(
                case_id=uuid4(),
                case_number=f"CASE-00000{n}",
                account_id=ACCOUNT,
                type=CaseType.DISPUTE,
                priority=CasePriority.NORMAL,
                invoice_ids=[invoice.invoice_id],
                root_cause=cause,
                resolution_summary="fixed",
                completeness=Completeness(
                    entries=[], complete=True, satisfied_count=0, required_count=0
                ),
                opened_at=at(16),
                closed_by="agent",
                closed_at=at(18),
                sla_breached=False,
            )
            for n, cause in enumerate(CAUSES)
        ]
        escalations = [
            CaseEscalated(
                case_id=cases[0].case_id,
                account_id=ACCOUNT,
                escalation_id=uuid4(),
                team=EscalationTeam.SERVICE,
                question="q",
                due_date=date(2026, 11, 30),
                escalated_by="agent",
                escalated_at=when,
                cause=cause,
            )
            for when, cause in (
                (at(10), EscalationCause.DELAY),
                (at(11), EscalationCause.DELAY),
                (at(17), EscalationCause.DELAY),
                (at(17), EscalationCause.DOCUMENTATION_GAP),
            )
        ]
        for contract in (*cases, *escalations):
            await PROJECTIONS["cases"].handler(conn, cloud(contract, source="urn:cases"))
    finally:
        await conn.close()
    async with (
        running_server(build_app(SPEC, SPEC.settings(database_url=url, jwt_secret=SECRET))) as base,
        httpx.AsyncClient(base_url=base, timeout=60) as http,
    ):
        yield http


async def review(client: httpx.AsyncClient, week: str, **params: Any) -> httpx.Response:
    response = await client.get(
        "/v1/reports/weekly-review",
        headers=AUTH,
        params={"week": week, "currency": "JPY", **params},
    )
    assert response.status_code == 200, response.text
    return response


async def test_the_page_shows_yen_as_yen_with_escalations_by_cause_and_aging_change(
    client: httpx.AsyncClient,
):
    page = (await review(client, "2026-W47", format="html")).text
    assert "¥5,000" in page and "¥50" not in page and "5000" not in page
    assert "Escalations by cause" in page
    # delay: one this week (the 17th), two last week (the 10th and 11th)
    assert "<td>Delay</td><td>1</td><td>2</td><td>-1</td><td>-50.00%</td>" in page
    assert "<td>Documentation gap</td><td>1</td><td>0</td><td>+1</td><td></td>" in page
    assert "Aging change" in page and "<td>Past due</td>" in page


async def test_amount_charts_are_in_the_currencys_own_unit(client: httpx.AsyncClient):
    data = (await review(client, "2026-W47")).json()
    figure = charts.figure("pareto-amount", data)
    try:
        bars = figure.axes[0].patches
        assert [bar.get_height() for bar in bars] == [5_000] * len(CODES)
    finally:
        plt.close(figure)


@pytest.mark.parametrize("chart", charts.CHARTS)
async def test_category_labels_are_whole_inside_the_image(client: httpx.AsyncClient, chart: str):
    data = (await review(client, "2026-W47")).json()
    figure = charts.figure(chart, data)
    try:
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
        frame = figure.bbox
        labels = [
            label
            for ax in figure.axes
            if ax.xaxis.get_visible()
            for label in ax.get_xticklabels()
            if label.get_text()
        ]
        shown = "".join(label.get_text().replace("\n", "") for label in labels)
        if chart in ("pareto-count", "pareto-amount", "week-over-week"):
            assert LONG_CODE in shown  # wrapped over lines, not shortened
        boxes = [label.get_window_extent(renderer) for label in labels]
        for label, box in zip(labels, boxes, strict=True):
            assert box.x0 >= frame.x0 - 1 and box.x1 <= frame.x1 + 1 and box.y0 >= frame.y0 - 1, (
                chart,
                label.get_text(),
            )
        if chart != "aging-trend":  # categories side by side, none written over the next
            for left, right in pairwise(boxes):
                assert left.x1 <= right.x0, chart
    finally:
        plt.close(figure)


@pytest.mark.parametrize("chart", charts.CHARTS)
async def test_an_empty_chart_says_so(client: httpx.AsyncClient, chart: str):
    data = (await review(client, "2026-W40")).json()
    figure = charts.figure(chart, data)
    try:
        texts = [text.get_text() for ax in figure.axes for text in ax.texts]
        assert any(text.startswith("No ") for text in texts), (chart, texts)
    finally:
        plt.close(figure)
    png = await client.get(
        f"/v1/reports/weekly-review/charts/{chart}.png",
        headers=AUTH,
        params={"week": "2026-W40", "currency": "JPY"},
    )
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
