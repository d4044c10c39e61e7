"""Four eyes over large credits and write-offs, and who did each change, through the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest

from billing_adapter.domain.approval import ApprovalThresholds, DecideApproval
from billing_adapter.service_layer.approvals import decide_approval
from billing_adapter.settings import BillingDependencies
from receivables_platform.contracts.billing import ApprovalRequested, CorrectionRejected
from receivables_platform.web.auth import issue_token

from .test_billing_api import SECRET, billing, create_headers, new_account, new_invoice
from .test_corrections import (
    answer,
    billing_events,
    open_balance,
    open_invoice,
    pool,
    request_event,
)

__all__ = ["billing", "pool"]  # fixtures, used by name
LARGE = 1_000_000  # over the default threshold of 500,000 minor units


def as_(sub: str, *roles: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, roles)}", **headers}


async def invoice_of(billing: httpx.AsyncClient, total: int = LARGE) -> dict[str, Any]:
    account = await new_account(billing)
    return await new_invoice(
        billing, account["account_id"], total_minor=total, tax_minor=0, lines=None
    )


async def credit(billing: httpx.AsyncClient, invoice_id: str, amount: int) -> httpx.Response:
    return await billing.post(
        f"/v1/invoices/{invoice_id}/adjustments",
        headers=create_headers(),
        json={
            "kind": "credit",
            "amount_minor": amount,
            "reason_code": "goodwill",
            "effective_date": "2026-10-05",
        },
    )


async def history(billing: httpx.AsyncClient, invoice_id: str, type_: str) -> list[dict]:
    got = await billing.get(f"/v1/invoices/{invoice_id}/history", headers=as_("x", "integration"))
    return [e["data"] for e in got.json()["events"] if e["type"] == type_]


async def test_a_large_credit_waits_for_a_second_person_and_is_applied_on_approval(billing):
    invoice = await invoice_of(billing, total=2_000_000)
    small = await credit(billing, invoice["invoice_id"], 500_000)  # at the threshold: applied
    assert small.status_code == 201 and small.json()["open_minor"] == 1_500_000

    large = await credit(billing, invoice["invoice_id"], 600_000)
    assert large.status_code == 202, large.text
    approval = large.json()
    assert approval["status"] == "pending" and approval["requested_by"] == "billing-system"
    assert approval["threshold_minor"] == 500_000 and approval["action"] == "credit"
    assert large.headers["location"] == f"/v1/approvals/{approval['approval_id']}"
    read = await billing.get(
        f"/v1/invoices/{invoice['invoice_id']}", headers=as_("x", "integration")
    )
    assert read.json()["open_minor"] == 1_500_000  # nothing applied yet

    listed = await billing.get("/v1/approvals", headers=as_("sup-sue", "supervisor"))
    assert [a["approval_id"] for a in listed.json()["items"]] == [approval["approval_id"]]
    url = f"/v1/approvals/{approval['approval_id']}"
    current = await billing.get(url, headers=as_("sup-sue", "supervisor"))
    etag = current.headers["ETag"]

    itself = await billing.post(
        f"{url}/approve", headers=as_("billing-system", "admin", **{"If-Match": etag})
    )
    assert itself.status_code == 403, itself.text
    assert itself.json()["title"] == "Requester cannot decide"
    collector = await billing.post(
        f"{url}/approve", headers=as_("col", "collector", **{"If-Match": etag})
    )
    assert collector.status_code == 403
    no_etag = await billing.post(f"{url}/approve", headers=as_("sup-sue", "supervisor"))
    assert no_etag.status_code == 428
    stale = await billing.post(
        f"{url}/approve", headers=as_("sup-sue", "supervisor", **{"If-Match": '"9"'})
    )
    assert stale.status_code == 412

    approved = await billing.post(
        f"{url}/approve", headers=as_("sup-sue", "supervisor", **{"If-Match": etag})
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["decided_by"] == "sup-sue"
    read = await billing.get(
        f"/v1/invoices/{invoice['invoice_id']}", headers=as_("x", "integration")
    )
    assert read.json()["open_minor"] == 900_000
    small_credit, large_credit = await history(
        billing, invoice["invoice_id"], "billing.invoice.adjusted"
    )
    assert small_credit["actor"] == "billing-system" and small_credit["approved_by"] is None
    assert large_credit["actor"] == "billing-system" and large_credit["approved_by"] == "sup-sue"

    again = await billing.post(
        f"{url}/approve",
        headers=as_("sup-tom", "supervisor", **{"If-Match": approved.headers["ETag"]}),
    )
    assert again.status_code == 409
    assert (await billing.get("/v1/approvals", headers=as_("s", "supervisor"))).json()[
        "items"
    ] == []
    done = await billing.get("/v1/approvals?status=approved", headers=as_("s", "supervisor"))
    assert [a["approval_id"] for a in done.json()["items"]] == [approval["approval_id"]]


async def test_a_large_write_off_rejected_changes_nothing_on_the_invoice(billing, billing_url):
    invoice = await invoice_of(billing)
    read = await billing.get(
        f"/v1/invoices/{invoice['invoice_id']}", headers=as_("x", "integration")
    )
    waiting = await billing.post(
        f"/v1/invoices/{invoice['invoice_id']}/write-off",
        headers=as_("erp", "integration", **{"If-Match": read.headers["ETag"]}),
        json={"reason_code": "BAD_DEBT", "written_off_on": "2026-11-01"},
    )
    assert waiting.status_code == 202, waiting.text
    assert waiting.json()["action"] == "write_off" and waiting.json()["amount_minor"] == LARGE
    url = f"/v1/approvals/{waiting.json()['approval_id']}"
    headers = as_("sup-sue", "supervisor", **{"If-Match": waiting.headers["ETag"]})
    no_reason = await billing.post(f"{url}/reject", headers=headers, json={})
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "body.reason"
    rejected = await billing.post(
        f"{url}/reject", headers=headers, json={"reason": "customer is on a payment plan"}
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["reason"] == "customer is on a payment plan"
    read = await billing.get(
        f"/v1/invoices/{invoice['invoice_id']}", headers=as_("x", "integration")
    )
    assert read.json()["status"] != "written_off" and read.json()["open_minor"] == LARGE
    conn = await asyncpg.connect(billing_url)
    try:
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM events WHERE type = $1", ApprovalRequested.event_type
            )
            == 1
        )
    finally:
        await conn.close()
    unknown = await billing.post(f"/v1/approvals/{uuid4()}/approve", headers=headers)
    assert unknown.status_code == 404


async def test_voids_write_offs_and_adjustments_record_who_did_them(billing):
    invoice = await invoice_of(billing, total=20_000)
    other = await invoice_of(billing, total=30_000)
    read = await billing.get(
        f"/v1/invoices/{invoice['invoice_id']}", headers=as_("x", "integration")
    )
    voided = await billing.post(
        f"/v1/invoices/{invoice['invoice_id']}/void",
        headers=as_("ops-olga", "admin", **{"If-Match": read.headers["ETag"]}),
        json={"voided_on": "2026-10-02"},
    )
    assert voided.status_code == 200
    [void_event] = await history(billing, invoice["invoice_id"], "billing.invoice.voided")
    assert void_event["actor"] == "ops-olga"
    read = await billing.get(f"/v1/invoices/{other['invoice_id']}", headers=as_("x", "integration"))
    written_off = await billing.post(
        f"/v1/invoices/{other['invoice_id']}/write-off",
        headers=as_("erp", "integration", **{"If-Match": read.headers["ETag"]}),
        json={"reason_code": "BAD_DEBT", "written_off_on": "2026-11-01"},
    )
    assert written_off.status_code == 200 and written_off.json()["status"] == "written_off"
    [write_off_event] = await history(billing, other["invoice_id"], "billing.invoice.written_off")
    assert write_off_event["actor"] == "erp"


async def test_a_cases_large_credit_waits_and_its_rejection_answers_the_case(pool):
    account_id, invoice_id = await open_invoice(pool, total=LARGE)
    correction_id = uuid4()
    event = request_event(account_id, invoice_id, amount=600_000, correction_id=correction_id)
    await answer(pool, event)
    await answer(pool, event)  # redelivered: still one approval
    assert await open_balance(pool, invoice_id) == LARGE
    [requested] = await billing_events(pool, ApprovalRequested.event_type)
    assert requested["data"]["requested_by"] == "agent-7"
    assert requested["data"]["correction_id"] == str(correction_id)
    async with pool.acquire() as conn:
        refused = DecideApproval(correction_id, False, "agent-7", datetime.now(UTC), "no")
        with pytest.raises(Exception, match="four eyes"):
            await decide_approval(conn, refused)
        await decide_approval(
            conn,
            DecideApproval(correction_id, False, "sup-sue", datetime.now(UTC), "over the policy"),
        )
    [rejected] = await billing_events(pool, CorrectionRejected.event_type)
    assert rejected["data"]["reason_code"] == "approval_rejected"
    assert rejected["data"]["correction_id"] == str(correction_id)
    assert rejected["data"]["actor"] == "sup-sue"  # who turned it down
    await answer(pool, event)  # a late redelivery is answered already
    assert await open_balance(pool, invoice_id) == LARGE


async def test_a_cases_large_credit_approved_is_the_adjustment_the_case_waits_for(pool):
    account_id, invoice_id = await open_invoice(pool, total=LARGE)
    correction_id = uuid4()
    await answer(
        pool, request_event(account_id, invoice_id, amount=600_000, correction_id=correction_id)
    )
    async with pool.acquire() as conn:
        await decide_approval(
            conn, DecideApproval(correction_id, True, "sup-sue", datetime.now(UTC))
        )
    assert await open_balance(pool, invoice_id) == LARGE - 600_000
    [adjusted] = await billing_events(pool, "billing.invoice.adjusted")
    assert adjusted["data"]["adjustment_id"] == str(correction_id)
    assert adjusted["data"]["actor"] == "agent-7" and adjusted["data"]["approved_by"] == "sup-sue"


def test_thresholds_are_minor_units_per_currency_with_a_default(monkeypatch):
    thresholds = ApprovalThresholds.parse("USD=100000, jpy=1000000, *=50000")
    assert not thresholds.needs_approval("USD", 100_000)
    assert thresholds.needs_approval("USD", 100_001)
    assert not thresholds.needs_approval("JPY", 999_999)
    assert thresholds.needs_approval("EUR", 50_001)
    assert not ApprovalThresholds.parse("USD=1").needs_approval("EUR", 10**12)
    for bad in ("USD=ten", "XXQ=5", "USD", "*=-1"):
        with pytest.raises(ValueError, match="APPROVAL_THRESHOLDS"):
            ApprovalThresholds.parse(bad)
    monkeypatch.setenv("APPROVAL_THRESHOLDS", "EUR=7")
    assert BillingDependencies.from_environment().approvals.needs_approval("EUR", 8)


async def test_the_approval_routes_are_in_the_openapi(billing):
    paths = (await billing.get("/openapi.json")).json()["paths"]
    assert "202" in paths["/v1/invoices/{invoice_id}/adjustments"]["post"]["responses"]
    assert {
        "/v1/approvals",
        "/v1/approvals/{approval_id}/approve",
        "/v1/approvals/{approval_id}/reject",
    } <= set(paths)
