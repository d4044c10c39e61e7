"""End-of-day aging snapshots (injected clock, once per date) and the aging trend, over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from uuid import uuid4

import httpx
import pytest

from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import (
    AdjustmentKind,
    InvoiceAdjusted,
    InvoiceIssued,
    PaymentApplied,
)
from receivables_platform.db.pool import connect, create_pool
from receivables_platform.service import build_app
from receivables_platform.web.auth import issue_token
from receivables_platform.web.testserver import running_server
from reporting_service.consumers.billing_projection import project_billing_event
from reporting_service.service_layer.snapshots import take_due_snapshot
from reporting_service.spec import SPEC
from reporting_service.testing import cloud

SECRET = "test-secret-for-reporting-snapshots-0123"
SUPERVISOR = {"Authorization": f"Bearer {issue_token(SECRET, 'sue', ['supervisor'])}"}
COLLECTOR = {"Authorization": f"Bearer {issue_token(SECRET, 'cal', ['collector'])}"}
ACCOUNT = uuid4()
OLD, OLDER = uuid4(), uuid4()


@dataclass
class Reporting:
    client: httpx.AsyncClient
    url: str
    now: list[datetime]  # the app's clock reads the last element

    async def project(self, *contracts: EventContract) -> None:
        conn = await connect(self.url)
        try:
            for contract in contracts:
                await project_billing_event(conn, cloud(contract))
        finally:
            await conn.close()


@pytest.fixture
async def reporting(fresh_database) -> AsyncIterator[Reporting]:
    url = await fresh_database(SPEC.versions_dir)
    now = [datetime(2026, 11, 21, 0, 5, tzinfo=UTC)]
    # no end-of-day job in the app: it would take yesterday's snapshot (by the wall clock
    # or the test's) in the middle of a test; the tests of that job call it themselves
    spec = replace(SPEC, background=[])
    app = build_app(spec, SPEC.settings(database_url=url, jwt_secret=SECRET))
    app.state.clock = lambda: now[-1]
    async with running_server(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as c:
        yield Reporting(c, url, now)


def history() -> list[EventContract]:
    return [
        InvoiceIssued(
            invoice_id=OLD,
            account_id=ACCOUNT,
            external_id="I-1",
            currency="USD",
            total_minor=10_000,
            issue_date=date(2026, 10, 1),
            due_date=date(2026, 10, 15),
        ),
        InvoiceIssued(
            invoice_id=OLDER,
            account_id=ACCOUNT,
            external_id="I-2",
            currency="USD",
            total_minor=5_000,
            issue_date=date(2026, 8, 1),
            due_date=date(2026, 9, 1),
        ),
    ]


async def test_a_day_is_snapshotted_once_it_is_over_and_only_once(reporting: Reporting):
    await reporting.project(*history())
    early = await reporting.client.post(
        "/v1/aging/snapshots", headers=SUPERVISOR, json={"date": "2026-11-21"}
    )
    assert early.status_code == 409
    assert early.json()["errors"][0]["field"] == "body.date"

    first = await reporting.client.post(
        "/v1/aging/snapshots", headers=SUPERVISOR, json={"date": "2026-11-20"}
    )
    assert first.status_code == 201, first.text
    assert first.json()["created"] and first.json()["totals_minor"] == {"USD": 15_000}

    # a credit memo booked later but effective on the 20th changes a recomputation of that
    # day, not what the books said at its close
    await reporting.project(
        InvoiceAdjusted(
            invoice_id=OLD,
            account_id=ACCOUNT,
            adjustment_id=uuid4(),
            kind=AdjustmentKind.CREDIT,
            amount_minor=1_000,
            currency="USD",
            reason_code="late",
            effective_date=date(2026, 11, 20),
        )
    )
    again = await reporting.client.post(
        "/v1/aging/snapshots", headers=SUPERVISOR, json={"date": "2026-11-20"}
    )
    assert again.status_code == 200
    assert again.json() == {**first.json(), "created": False}
    recomputed = await reporting.client.get(
        "/v1/aging", headers=SUPERVISOR, params={"as_of": "2026-11-20", "group_by": "currency"}
    )
    assert recomputed.json()["rows"][0]["total_minor"] == 14_000


async def test_snapshots_need_an_operator_and_a_date(reporting: Reporting):
    forbidden = await reporting.client.post(
        "/v1/aging/snapshots", headers=COLLECTOR, json={"date": "2026-11-20"}
    )
    assert forbidden.status_code == 403
    missing = await reporting.client.post("/v1/aging/snapshots", headers=SUPERVISOR, json={})
    assert missing.status_code == 422
    assert "body.date" in [e["field"] for e in missing.json()["errors"]]


async def test_the_end_of_day_job_takes_yesterday_once(reporting: Reporting):
    await reporting.project(*history())
    pool = await create_pool(reporting.url, max_size=2)
    try:
        clock = lambda: datetime(2026, 11, 19, 0, 1, tzinfo=UTC)  # noqa: E731
        run = await take_due_snapshot(pool, clock)
        assert run is not None and run.snapshot_date == date(2026, 11, 18) and run.created
        assert await take_due_snapshot(pool, clock) is None
    finally:
        await pool.close()


async def test_aging_trend_this_week_against_last(reporting: Reporting):
    await reporting.project(*history())
    reporting.now.append(datetime(2026, 11, 30, tzinfo=UTC))
    # close of W46 (Sunday 15 Nov): OLD 31 days past due, OLDER 75 days
    assert (
        await reporting.client.post(
            "/v1/aging/snapshots", headers=SUPERVISOR, json={"date": "2026-11-15"}
        )
    ).status_code == 201
    await reporting.project(
        PaymentApplied(
            payment_id=uuid4(),
            account_id=ACCOUNT,
            invoice_id=OLD,
            amount_minor=4_000,
            currency="USD",
            remaining_minor=6_000,
            applied_on=date(2026, 11, 18),
        ),
        PaymentApplied(
            payment_id=uuid4(),
            account_id=ACCOUNT,
            invoice_id=OLDER,
            amount_minor=5_000,
            currency="USD",
            remaining_minor=0,
            applied_on=date(2026, 11, 20),
        ),
    )
    # close of W47 (Sunday 22 Nov): OLD 6,000 at 38 days, OLDER paid
    assert (
        await reporting.client.post(
            "/v1/aging/snapshots", headers=SUPERVISOR, json={"date": "2026-11-22"}
        )
    ).status_code == 201
    response = await reporting.client.get(
        "/v1/aging/trend", headers=COLLECTOR, params={"currency": "USD", "period": "2026-W47"}
    )
    assert response.status_code == 200, response.text
    trend = response.json()
    assert [p["date"] for p in trend["points"]] == ["2026-11-15", "2026-11-22"]
    assert trend["past_due"] == {
        "this_period_minor": 6_000,
        "last_period_minor": 15_000,
        "change_minor": -9_000,
        "reduction_pct": 60.0,
    }
    assert trend["over_60"] == {
        "this_period_minor": 0,
        "last_period_minor": 5_000,
        "change_minor": -5_000,
        "reduction_pct": 100.0,
    }


async def test_a_period_too_long_to_compare_with_the_one_before_is_a_400(reporting: Reporting):
    # the fuzz found a 500: 3,873 years back from 2000 falls off the calendar
    for path in ("/v1/aging/trend", "/v1/kpis"):
        response = await reporting.client.get(
            path,
            headers=COLLECTOR,
            params={"currency": "EUR", "from": "2000-01-01", "to": "2099-10-15"},
        )
        assert response.status_code == 400, (path, response.text)
        assert response.json()["errors"][0]["field"] == "query.to"


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        # issue 16: each of these was a 500, with or without data
        ({"period": "9999-W52"}, 400, "query.period"),  # ends in year 10000
        ({"period": "9999-12"}, 400, "query.period"),
        ({"period": "0000-01"}, 400, "query.period"),
        ({"period": "2025-W53"}, 400, "query.period"),  # 2025 has 52 weeks
        ({"period": "0001-01-01"}, 422, "query.period"),  # its period before is before year 1
        ({"period": "0001-W01"}, 422, "query.period"),
        ({"period": "2100-01"}, 422, "query.period"),
        ({"period": "\u0662\u0660\u0662\u0666-11"}, 400, "query.period"),
        ({"period": "20261120"}, 400, "query.period"),
        ({"from": "0001-01-01", "to": "0001-01-07"}, 422, "query.from"),
        ({"from": "2026-01-01", "to": "9999-12-31"}, 422, "query.to"),
        ({"from": "0", "to": "2026-01-01"}, 422, "query.from"),
        ({"from": "-1", "to": "2026-01-01"}, 422, "query.from"),
        ({"from": "10000-01-01", "to": "2026-01-01"}, 422, "query.from"),
    ],
)
async def test_periods_outside_the_business_dates_are_refused_naming_the_parameter(
    reporting: Reporting, params: dict[str, str], status: int, field: str
):
    for path in ("/v1/aging/trend", "/v1/kpis"):
        response = await reporting.client.get(
            path, headers=COLLECTOR, params={"currency": "USD", **params}
        )
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in response.json()["errors"]], response.text


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", 0, "0", "2026-02-30"])
async def test_a_snapshot_of_a_day_outside_the_business_dates_is_refused(
    reporting: Reporting, day: object
):
    response = await reporting.client.post(
        "/v1/aging/snapshots", headers=SUPERVISOR, json={"date": day}
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "body.date"


async def test_a_snapshot_taken_on_an_empty_day_is_taken_again_once_history_is_in(
    reporting: Reporting,
):
    """Go-live: the end-of-day job ran before the topics were replayed into the read model."""
    empty = await reporting.client.post(
        "/v1/aging/snapshots", headers=SUPERVISOR, json={"date": "2026-11-20"}
    )
    assert empty.status_code == 201 and empty.json()["rows"] == 0
    await reporting.project(*history())
    retaken = await reporting.client.post(
        "/v1/aging/snapshots", headers=SUPERVISOR, json={"date": "2026-11-20"}
    )
    assert retaken.status_code == 201, retaken.text
    assert retaken.json()["created"] and retaken.json()["totals_minor"] == {"USD": 15_000}
    kept = await reporting.client.post(
        "/v1/aging/snapshots", headers=SUPERVISOR, json={"date": "2026-11-20"}
    )
    assert kept.status_code == 200 and kept.json() == {**retaken.json(), "created": False}


async def test_past_days_are_backfilled_from_the_history_for_the_trend(reporting: Reporting):
    await reporting.project(*history())
    await reporting.project(
        PaymentApplied(
            payment_id=uuid4(),
            account_id=ACCOUNT,
            invoice_id=OLDER,
            amount_minor=5_000,
            currency="USD",
            remaining_minor=0,
            applied_on=date(2026, 11, 18),
        )
    )
    taken = await reporting.client.post(
        "/v1/aging/snapshots", headers=SUPERVISOR, json={"date": "2026-11-15"}
    )
    assert taken.status_code == 201
    filled = await reporting.client.post(
        "/v1/aging/snapshots/backfill",
        headers=SUPERVISOR,
        json={"from": "2026-11-09", "to": "2026-11-20"},
    )
    assert filled.status_code == 200, filled.text
    assert filled.json()["kept"] == ["2026-11-15"]
    by_day = {t["date"]: t["totals_minor"] for t in filled.json()["taken"]}
    assert len(by_day) == 11
    # OLDER was paid on the 18th: the 17th's close still had it, the 18th's did not
    assert (by_day["2026-11-17"], by_day["2026-11-18"]) == ({"USD": 15_000}, {"USD": 10_000})
    trend = await reporting.client.get(
        "/v1/aging/trend",
        headers=COLLECTOR,
        params={"currency": "USD", "from": "2026-11-16", "to": "2026-11-20"},
    )
    assert len(trend.json()["points"]) == 10  # the five days and the five before


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"from": "2026-11-20", "to": "2026-11-21"}, 409, "body.to"),  # the 21st is today
        ({"from": "2026-11-10", "to": "2026-11-09"}, 422, "body.to"),
        ({"from": "2024-01-01", "to": "2026-11-01"}, 422, "body.to"),
        ({"from": "0001-01-01", "to": "2026-11-01"}, 422, "body.from"),
        ({"from": "2026-11-01"}, 422, "body.to"),
        ({"from": "2026-11-01", "to": "2026-11-02", "days": 2}, 422, "body.days"),
    ],
)
async def test_a_backfill_outside_the_finished_days_is_refused_and_takes_nothing(
    reporting: Reporting, body: dict[str, object], status: int, field: str
):
    conn = await connect(reporting.url)
    try:
        # the end-of-day job takes yesterday's on its own: compare, do not count from zero
        await take_due_snapshot_now(reporting)
        before = await conn.fetch("SELECT * FROM aging_snapshot_runs ORDER BY 1")
        refused = await reporting.client.post(
            "/v1/aging/snapshots/backfill", headers=SUPERVISOR, json=body
        )
        assert refused.status_code == status, refused.text
        assert field in [e["field"] for e in refused.json()["errors"]], refused.text
        assert await conn.fetch("SELECT * FROM aging_snapshot_runs ORDER BY 1") == before
    finally:
        await conn.close()


async def take_due_snapshot_now(reporting: Reporting) -> None:
    pool = await create_pool(reporting.url, max_size=1)
    try:
        await take_due_snapshot(pool, lambda: reporting.now[-1])
    finally:
        await pool.close()


async def test_a_backfill_needs_an_operator(reporting: Reporting):
    forbidden = await reporting.client.post(
        "/v1/aging/snapshots/backfill",
        headers=COLLECTOR,
        json={"from": "2026-11-01", "to": "2026-11-02"},
    )
    assert forbidden.status_code == 403


async def test_a_snapshot_ages_each_instalment_from_its_own_due_date(reporting: Reporting):
    """The snapshot is the day's aging: an invoice in instalments is split the same way.
    (The 19th: the end-of-day job may take the 20th, yesterday, on its own meanwhile.)"""
    plan = [(date(2026, 10, 1), 4_000), (date(2026, 12, 1), 6_000)]
    await reporting.project(
        InvoiceIssued(
            invoice_id=uuid4(),
            account_id=ACCOUNT,
            external_id="I-3",
            currency="USD",
            total_minor=10_000,
            issue_date=date(2026, 9, 1),
            due_date=date(2026, 12, 1),
            lines=[
                {
                    "description": "Fit-out",
                    "quantity": 1,
                    "unit_price_minor": 10_000,
                    "amount_minor": 10_000,
                }
            ],
            subtotal_minor=10_000,
            tax_minor=0,
            instalments=[{"due_date": d, "amount_minor": a} for d, a in plan],
        )
    )
    taken = await reporting.client.post(
        "/v1/aging/snapshots", headers=SUPERVISOR, json={"date": "2026-11-19"}
    )
    assert taken.status_code == 201, taken.text
    conn = await connect(reporting.url)
    try:
        rows = await conn.fetch(
            "SELECT bucket, amount_minor, invoices FROM aging_snapshots "
            "WHERE snapshot_date = '2026-11-19' ORDER BY bucket"
        )
    finally:
        await conn.close()
    assert {r["bucket"]: (r["amount_minor"], r["invoices"]) for r in rows} == {
        "current": (6_000, 0),
        "31-60": (4_000, 1),
    }
    live = await reporting.client.get(
        "/v1/aging", headers=SUPERVISOR, params={"as_of": "2026-11-19", "group_by": "currency"}
    )
    [row] = live.json()["rows"]
    assert {k: v for k, v in row["buckets"].items() if v} == {"current": 6_000, "31-60": 4_000}
