"""Corrections answered by billing, escalations, and the SLA sweep, over real PostgreSQL.

Billing's answers go through the consumer's handler (`handle_billing_event`),
built from the billing contracts as billing-adapter publishes them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
import httpx

from case_service.service_layer.sla import check_breaches
from case_service.testing import (
    auth,
    billing_account,
    case_body,
    count,
    create,
    feed,
    if_match,
)
from receivables_platform.contracts.billing import CorrectionRejected, InvoiceAdjusted
from receivables_platform.db.pool import connect
from receivables_platform.ids import new_id


async def opened_case(api: httpx.AsyncClient, url: str) -> tuple[httpx.Response, UUID, UUID]:
    account_id, [invoice_id] = await billing_account(url)
    opened = await api.post("/v1/cases", json=case_body(account_id, [invoice_id]), headers=create())
    assert opened.status_code == 201, opened.text
    return opened, account_id, invoice_id


async def request(
    api: httpx.AsyncClient, case_url: str, invoice_id: UUID, **overrides
) -> httpx.Response:
    return await api.post(
        f"{case_url}/corrections",
        json={
            "invoice_id": str(invoice_id),
            "amount_minor": 2_500,
            "direction": "credit",
            "reason": "Line billed twice",
            "reason_code": "DUPLICATE",
            **overrides,
        },
        headers=create(),
    )


async def test_a_correction_request_is_published_for_billing_and_shows_its_answer(api, cases_url):
    opened, account_id, invoice_id = await opened_case(api, cases_url)
    url, case_id = opened.headers["Location"], opened.json()["case_id"]
    requested = await request(api, url, invoice_id)
    assert requested.status_code == 201, requested.text
    [correction] = requested.json()["corrections"]
    assert correction["outcome"] == "requested" and correction["currency"] == "USD"
    conn = await asyncpg.connect(cases_url)
    try:
        row = await conn.fetchrow(
            "SELECT subject, partition_key FROM events "
            "WHERE type = 'cases.case.correction_requested'"
        )
        outbox = await conn.fetchval("SELECT count(*) FROM outbox")
    finally:
        await conn.close()
    assert row["subject"] == row["partition_key"] == str(account_id), "keyed by account"
    assert outbox >= 2
    adjusted = InvoiceAdjusted(
        invoice_id=invoice_id,
        account_id=account_id,
        adjustment_id=UUID(correction["correction_id"]),
        kind="credit",
        amount_minor=2_500,
        currency="USD",
        reason_code="DUPLICATE",
        case_id=case_id,
        effective_date=date(2026, 11, 5),
    )
    await feed(cases_url, adjusted, adjusted)
    shown = (await api.get(url, headers=auth())).json()["corrections"][0]
    assert shown["outcome"] == "applied"
    assert shown["adjustment_id"] == correction["correction_id"]
    assert (
        await count(
            cases_url, "SELECT count(*) FROM events WHERE type = 'cases.case.correction_applied'"
        )
        == 1
    )


async def test_a_rejected_correction_shows_why(api, cases_url):
    opened, account_id, invoice_id = await opened_case(api, cases_url)
    url, case_id = opened.headers["Location"], opened.json()["case_id"]
    correction = (await request(api, url, invoice_id)).json()["corrections"][0]
    await feed(
        cases_url,
        CorrectionRejected(
            account_id=account_id,
            case_id=case_id,
            correction_id=correction["correction_id"],
            invoice_id=invoice_id,
            reason_code="EXCEEDS_BALANCE",
            detail="Credit exceeds balance",
        ),
    )
    shown = (await api.get(url, headers=auth())).json()["corrections"][0]
    assert (shown["outcome"], shown["rejection_code"]) == ("rejected", "EXCEEDS_BALANCE")


async def test_an_answer_for_someone_elses_case_changes_nothing(api, cases_url):
    _, account_id, invoice_id = await opened_case(api, cases_url)
    before = await count(cases_url, "SELECT count(*) FROM events")
    await feed(
        cases_url,
        CorrectionRejected(
            account_id=account_id,
            case_id="CASE-LEGACY-9",
            correction_id="c-1",
            reason_code="X",
            detail="not ours",
        ),
        InvoiceAdjusted(
            invoice_id=invoice_id,
            account_id=account_id,
            adjustment_id=uuid4(),
            kind="debit",
            amount_minor=100,
            currency="USD",
            reason_code="FEE",
            case_id=str(uuid4()),
            effective_date=date(2026, 11, 5),
        ),
    )
    assert await count(cases_url, "SELECT count(*) FROM events") == before


async def test_a_correction_on_another_accounts_invoice_or_currency_is_refused(api, cases_url):
    opened, _, invoice_id = await opened_case(api, cases_url)
    url = opened.headers["Location"]
    _, [foreign] = await billing_account(cases_url)
    refused = await request(api, url, foreign)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "body.invoice_id"
    wrong_currency = await request(api, url, invoice_id, currency="EUR")
    assert wrong_currency.status_code == 422
    negative = await request(api, url, invoice_id, amount_minor=-5)
    assert negative.status_code == 422 and "body.amount_minor" in negative.text
    assert (
        await count(
            cases_url, "SELECT count(*) FROM events WHERE type = 'cases.case.correction_requested'"
        )
        == 0
    )


async def test_overdue_escalations_are_listed_until_answered(api, cases_url):
    opened, _, _ = await opened_case(api, cases_url)
    url = opened.headers["Location"]
    today = datetime.now(UTC).date()
    escalated = await api.post(
        f"{url}/escalations",
        json={
            "team": "installation",
            "question": "Was the meter swapped?",
            "due_date": today.isoformat(),
        },
        headers=create(),
    )
    assert escalated.status_code == 201, escalated.text
    escalation_id = escalated.json()["escalations"][0]["escalation_id"]
    conn = await asyncpg.connect(cases_url)
    try:  # the due date passes: move it back as time would
        await conn.execute("UPDATE case_escalations SET due_date = due_date - 3")
    finally:
        await conn.close()
    [overdue] = (await api.get("/v1/escalations/overdue", headers=auth())).json()
    assert overdue["escalation_id"] == escalation_id and overdue["days_overdue"] == 3
    answered = await api.post(
        f"{url}/escalations/{escalation_id}/answer",
        json={"answer": "Yes, on 1 Nov"},
        headers=auth("installer-7", "integration"),
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["escalations"][0]["answered_by"] == "installer-7"
    assert (await api.get("/v1/escalations/overdue", headers=auth())).json() == []
    past = await api.post(
        f"{url}/escalations",
        json={
            "team": "service",
            "question": "x",
            "due_date": (today - timedelta(days=1)).isoformat(),
        },
        headers=create(),
    )
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "body.due_date"
    for far in ("9999-12-31", 0, "0"):  # issue 16: infinity in the escalations table
        never = await api.post(
            f"{url}/escalations",
            json={"team": "service", "question": "x", "due_date": far},
            headers=create(),
        )
        assert never.status_code == 422, never.text
        assert never.json()["errors"][0]["field"] == "body.due_date"


async def test_the_sla_sweep_records_each_breach_once_and_skips_paused_cases(api, cases_url):
    running, _, _ = await opened_case(api, cases_url)
    paused, _, _ = await opened_case(api, cases_url)
    await api.post(
        f"{paused.headers['Location']}/status",
        json={"status": "waiting_on_customer"},
        headers=if_match(paused),
    )
    later = datetime.now(UTC) + timedelta(days=15)
    conn = await connect(cases_url)
    try:
        assert await check_breaches(conn, later) == [UUID(running.json()["case_id"])]
        assert await check_breaches(conn, later) == []
    finally:
        await conn.close()
    assert (
        await count(cases_url, "SELECT count(*) FROM events WHERE type = 'cases.case.sla_breached'")
        == 1
    )
    breached = await api.get("/v1/cases", params={"sla_state": "breached"}, headers=auth())
    assert [x["case_id"] for x in breached.json()["items"]] == [running.json()["case_id"]]
    sweep = await api.post("/v1/sla/check", headers=auth("sue", "supervisor"))
    assert sweep.status_code == 200 and sweep.json() == {"breached": []}


async def test_sops_link_to_root_cause_categories(api):
    admin = auth("root", "admin")
    made = await api.post(
        "/v1/root-causes",
        json={"code": "METER", "name": "Meter misread"},
        headers={**admin, "Idempotency-Key": str(new_id())},
    )
    category_id = made.json()["category_id"]
    sop = await api.post(
        "/v1/sops",
        json={
            "title": "Re-read the meter",
            "link": "https://wiki.example/meter",
            "category_ids": [category_id],
        },
        headers={**admin, "Idempotency-Key": str(new_id())},
    )
    assert sop.status_code == 201, sop.text
    listed = await api.get("/v1/sops", params={"category_id": category_id}, headers=auth())
    assert [x["title"] for x in listed.json()] == ["Re-read the meter"]
    neither = await api.post(
        "/v1/sops",
        json={"title": "x", "category_ids": [category_id]},
        headers={**admin, "Idempotency-Key": str(new_id())},
    )
    assert neither.status_code == 422
    dup = await api.post(
        "/v1/root-causes",
        json={"code": "METER", "name": "again"},
        headers={**admin, "Idempotency-Key": str(new_id())},
    )
    assert dup.status_code == 409 and dup.json()["errors"][0]["field"] == "body.code"
