"""The billing API through a real HTTP server over real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest

from billing_adapter.spec import SPEC
from receivables_platform.business_dates import business_dates
from receivables_platform.service import build_app
from receivables_platform.web.auth import issue_token
from receivables_platform.web.testserver import running_server

SECRET = "test-secret-for-billing-api-0123456789"


@pytest.fixture
async def billing(billing_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = SPEC.settings(database_url=billing_url, jwt_secret=SECRET)
    async with (
        running_server(build_app(SPEC, settings)) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as client,
    ):
        yield client


def auth(*roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, 'billing-system', roles)}"}


def create_headers(key: str | None = None) -> dict[str, str]:
    return {**auth("integration"), "Idempotency-Key": key or str(uuid4())}


def if_match(response: httpx.Response) -> dict[str, str]:
    return {**auth("integration"), "If-Match": response.headers["ETag"]}


async def counts(url: str) -> tuple[int, int, int]:
    conn = await asyncpg.connect(url)
    try:
        return (
            await conn.fetchval("SELECT count(*) FROM events"),
            await conn.fetchval("SELECT count(*) FROM external_ids"),
            await conn.fetchval("SELECT count(*) FROM account_entities"),
        )
    finally:
        await conn.close()


def account_body(**overrides: Any) -> dict[str, Any]:
    return {
        "external_id": f"CUS-{uuid4().hex[:8]}",
        "name": "Acme Corp",
        "currency": "USD",
        "payment_terms_days": 30,
        "segment": "smb",
        "contacts": [{"name": "Ann", "email": "ann@acme.test", "phone": "+1 555 0100"}],
        **overrides,
    }


async def new_account(billing: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    created = await billing.post(
        "/v1/accounts", json=account_body(**overrides), headers=create_headers()
    )
    assert created.status_code == 201, created.text
    return created.json()


def invoice_body(account_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "external_id": f"INV-{uuid4().hex[:8]}",
        "account_id": account_id,
        "currency": "USD",
        "total_minor": 11_000,
        "tax_minor": 1_000,
        "issue_date": "2026-10-01",
        "lines": [{"description": "Seats", "quantity": 4, "unit_price_minor": 2_500}],
        **overrides,
    }


async def new_invoice(
    billing: httpx.AsyncClient, account_id: str, **overrides: Any
) -> dict[str, Any]:
    created = await billing.post(
        "/v1/invoices", json=invoice_body(account_id, **overrides), headers=create_headers()
    )
    assert created.status_code == 201, created.text
    return created.json()


def payment_body(account_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "external_id": f"PAY-{uuid4().hex[:8]}",
        "account_id": account_id,
        "amount_minor": 15_000,
        "currency": "USD",
        "method": "ach",
        "reference": "ACH-TRACE-1",
        "received_on": "2026-11-02",
        **overrides,
    }


async def new_payment(
    billing: httpx.AsyncClient, account_id: str, **overrides: Any
) -> dict[str, Any]:
    created = await billing.post(
        "/v1/payments", json=payment_body(account_id, **overrides), headers=create_headers()
    )
    assert created.status_code == 201, created.text
    return created.json()


# -- accounts -----------------------------------------------------------------------------------


async def test_an_account_is_registered_once_per_external_id_and_key(billing: httpx.AsyncClient):
    body, headers = account_body(), create_headers()
    first = await billing.post("/v1/accounts", json=body, headers=headers)
    assert first.status_code == 201 and first.headers["ETag"] == '"1"'
    replay = await billing.post("/v1/accounts", json=body, headers=headers)
    assert replay.content == first.content and replay.headers["Idempotent-Replayed"] == "true"
    again = await billing.post("/v1/accounts", json=body, headers=create_headers())
    assert again.status_code == 200
    assert again.json()["account_id"] == first.json()["account_id"]
    read = await billing.get(first.headers["Location"], headers=auth("collector"))
    assert read.json()["contacts"][0]["email"] == "ann@acme.test"
    assert read.json()["open_balance"] == [] and read.json()["autopay"]["enrolled"] is False


async def test_updates_need_the_current_etag(billing: httpx.AsyncClient):
    account = await new_account(billing)
    url = f"/v1/accounts/{account['account_id']}"
    blind = await billing.patch(url, json={"name": "Acme"}, headers=auth("integration"))
    assert blind.status_code == 428
    read = await billing.get(url, headers=auth("integration"))
    updated = await billing.patch(
        url, json={"payment_terms_days": 45, "segment": None}, headers=if_match(read)
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["payment_terms_days"], updated.json()["segment"]) == (45, None)
    assert updated.headers["ETag"] == '"2"'
    stale = await billing.patch(url, json={"name": "Other"}, headers=if_match(read))
    assert stale.status_code == 412
    assert (await billing.get(url, headers=auth("admin"))).json()["name"] == "Acme Corp"


async def test_autopay_keeps_a_reference_and_refuses_card_numbers(
    billing: httpx.AsyncClient, billing_url: str
):
    account = await new_account(billing)
    url = f"/v1/accounts/{account['account_id']}"
    read = await billing.get(url, headers=auth("integration"))
    before = await counts(billing_url)
    card = await billing.put(
        f"{url}/autopay",
        headers=if_match(read),
        json={
            "payment_method_reference": "4242 4242 4242 4242",
            "payment_method_type": "card",
            "enrolled_on": "2026-11-01",
        },
    )
    assert card.status_code == 422
    assert card.json()["errors"][0]["field"] == "body.payment_method_reference"
    assert await counts(billing_url) == before
    enrolled = await billing.put(
        f"{url}/autopay",
        headers=if_match(read),
        json={
            "payment_method_reference": "pm_1Nv8Xy2eZvKYlo2C",
            "payment_method_type": "card",
            "enrolled_on": "2026-11-01",
        },
    )
    assert enrolled.status_code == 200 and enrolled.json()["autopay"]["enrolled"]
    cancelled = await billing.post(
        f"{url}/autopay/cancel",
        headers=if_match(enrolled),
        json={"cancelled_on": "2026-12-01", "reason": "customer"},
    )
    assert cancelled.json()["autopay"] == {
        "enrolled": False,
        "payment_method_reference": None,
        "payment_method_type": None,
        "enrolled_on": None,
    }


# -- invoices -----------------------------------------------------------------------------------


async def test_an_invoice_with_lines_is_due_by_the_terms_and_keeps_its_history(
    billing: httpx.AsyncClient,
):
    account = await new_account(billing, payment_terms_days=30)
    invoice = await new_invoice(billing, account["account_id"])
    assert (invoice["subtotal_minor"], invoice["due_date"]) == (10_000, "2026-10-31")
    assert invoice["open_minor"] == 11_000 and invoice["status"] == "open"
    url = f"/v1/invoices/{invoice['invoice_id']}"
    credit = await billing.post(
        f"{url}/adjustments",
        headers=create_headers(),
        json={
            "kind": "credit",
            "amount_minor": 1_500,
            "reason_code": "PRICE",
            "effective_date": "2026-10-05",
            "case_id": "CASE-000123",
        },
    )
    assert credit.status_code == 201 and credit.json()["open_minor"] == 9_500
    history = await billing.get(f"{url}/history", headers=auth("case_agent"))
    assert [e["type"] for e in history.json()["events"]] == [
        "billing.invoice.issued",
        "billing.invoice.adjusted",
    ]
    assert history.json()["events"][1]["data"]["case_id"] == "CASE-000123"


async def test_void_and_write_off_need_the_invoice_etag(billing: httpx.AsyncClient):
    account = await new_account(billing)
    first = await new_invoice(billing, account["account_id"])
    read = await billing.get(f"/v1/invoices/{first['invoice_id']}", headers=auth("integration"))
    # a change to another invoice of the account does not make this one stale
    second = await new_invoice(billing, account["account_id"])
    voided = await billing.post(
        f"/v1/invoices/{first['invoice_id']}/void",
        headers=if_match(read),
        json={"voided_on": "2026-10-02"},
    )
    assert voided.status_code == 200 and voided.json()["status"] == "voided"
    again = await billing.post(
        f"/v1/invoices/{first['invoice_id']}/void",
        headers=if_match(read),
        json={"voided_on": "2026-10-02"},
    )
    assert again.status_code == 412
    second_read = await billing.get(
        f"/v1/invoices/{second['invoice_id']}", headers=auth("integration")
    )
    written_off = await billing.post(
        f"/v1/invoices/{second['invoice_id']}/write-off",
        headers=if_match(second_read),
        json={"reason_code": "BAD_DEBT", "written_off_on": "2026-11-01"},
    )
    assert written_off.json()["status"] == "written_off"
    assert written_off.json()["open_minor"] == 0


async def test_an_accounts_invoices_page_by_cursor_with_balances(billing: httpx.AsyncClient):
    account = await new_account(billing)
    made = [
        await new_invoice(billing, account["account_id"], due_date=f"2026-11-{day:02d}")
        for day in (20, 5, 12)
    ]
    url = f"/v1/accounts/{account['account_id']}/invoices"
    first = (await billing.get(url, params={"limit": 2}, headers=auth("collector"))).json()
    assert [i["due_date"] for i in first["items"]] == ["2026-11-05", "2026-11-12"]
    second = (
        await billing.get(
            url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth("collector")
        )
    ).json()
    assert [i["due_date"] for i in second["items"]] == ["2026-11-20"]
    assert second["next_cursor"] is None
    assert {i["invoice_id"] for i in first["items"] + second["items"]} == {
        m["invoice_id"] for m in made
    }
    bad = await billing.get(url, params={"cursor": "nope"}, headers=auth("collector"))
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "query.cursor"


# -- payments -----------------------------------------------------------------------------------


async def test_payments_apply_oldest_first_keep_credit_and_reverse(billing: httpx.AsyncClient):
    account = await new_account(billing)
    account_url = f"/v1/accounts/{account['account_id']}"
    late = await new_invoice(billing, account["account_id"], due_date="2026-12-31")
    early = await new_invoice(billing, account["account_id"], due_date="2026-10-31")
    payment = await new_payment(billing, account["account_id"], amount_minor=25_000)
    assert (await billing.get(account_url, headers=auth("collector"))).json()["credit"] == [
        {"currency": "USD", "amount_minor": 25_000}
    ]
    applied = await billing.post(
        f"/v1/payments/{payment['payment_id']}/applications",
        headers=create_headers(),
        json={"applied_on": "2026-11-02"},
    )
    assert applied.status_code == 201, applied.text
    assert [a["invoice_id"] for a in applied.json()["applications"]] == [
        early["invoice_id"],
        late["invoice_id"],
    ]
    assert applied.json()["unapplied_minor"] == 3_000
    balance = (await billing.get(account_url, headers=auth("collector"))).json()
    assert balance["open_balance"] == [{"currency": "USD", "amount_minor": 0}]
    assert balance["credit"] == [{"currency": "USD", "amount_minor": 3_000}]
    paid_invoice = await billing.get(
        f"/v1/invoices/{early['invoice_id']}", headers=auth("integration")
    )
    void = await billing.post(
        f"/v1/invoices/{early['invoice_id']}/void",
        headers=if_match(paid_invoice),
        json={"voided_on": "2026-11-03"},
    )
    assert void.status_code == 409
    payment_read = await billing.get(
        f"/v1/payments/{payment['payment_id']}", headers=auth("integration")
    )
    reversed_ = await billing.post(
        f"/v1/payments/{payment['payment_id']}/reversal",
        headers=if_match(payment_read),
        json={"reason": "chargeback", "reversed_on": "2026-11-20"},
    )
    assert reversed_.status_code == 200 and reversed_.json()["reversed"]
    after = (await billing.get(account_url, headers=auth("collector"))).json()
    assert after["open_balance"] == [{"currency": "USD", "amount_minor": 22_000}]
    assert after["credit"] == [{"currency": "USD", "amount_minor": 0}]
    history = await billing.get(
        f"/v1/invoices/{early['invoice_id']}/history", headers=auth("admin")
    )
    assert [e["type"] for e in history.json()["events"]] == [
        "billing.invoice.issued",
        "billing.payment.applied",
        "billing.payment.reversed",
    ]


async def test_concurrent_payments_on_one_account_never_overpay_an_invoice(
    billing: httpx.AsyncClient,
):
    account = await new_account(billing)
    invoice = await new_invoice(billing, account["account_id"])
    payments = [
        await new_payment(billing, account["account_id"], amount_minor=11_000) for _ in range(3)
    ]
    results = await asyncio.gather(
        *[
            billing.post(
                f"/v1/payments/{p['payment_id']}/applications",
                headers=create_headers(),
                json={
                    "applied_on": "2026-11-02",
                    "allocations": [{"invoice_id": invoice["invoice_id"], "amount_minor": 11_000}],
                },
            )
            for p in payments
        ]
    )
    assert sorted(r.status_code for r in results) == [201, 422, 422]
    read = await billing.get(f"/v1/invoices/{invoice['invoice_id']}", headers=auth("admin"))
    assert read.json()["open_minor"] == 0 and read.json()["applied_minor"] == 11_000


# -- bad input ----------------------------------------------------------------------------------

BAD_INVOICES = [
    ({"total_minor": -1}, "body.total_minor"),
    ({"total_minor": 0}, "body.total_minor"),
    ({"total_minor": "12"}, "body.total_minor"),
    ({"total_minor": 10.5}, "body.total_minor"),
    ({"currency": "XYZ"}, "body.currency"),
    ({"due_date": "2026-09-30"}, "body.due_date"),
    ({"total_minor": 12_000}, "body.total_minor"),
    (
        {"lines": [{"description": "x", "quantity": 0, "unit_price_minor": 1}]},
        "body.lines.0.quantity",
    ),
    ({"instalments": [{"due_date": "2026-11-01", "amount_minor": 5_000}]}, "body.instalments"),
    ({"account_id": "not-a-uuid"}, "body.account_id"),
    ({"surprise": 1}, "body.surprise"),
    # found by the import fuzz: accepted (and overflowing every consumer's bigint), and a 500
    ({"total_minor": 10**30, "lines": None, "tax_minor": 0}, "body.total_minor"),
    ({"issue_date": "9999-12-31"}, "body.issue_date"),
    # issue 16: placeholder dates became -infinity/infinity downstream; numbers were 1970
    ({"issue_date": "0001-01-01"}, "body.issue_date"),
    ({"issue_date": "2026-10-01", "due_date": "9999-12-31"}, "body.due_date"),
    ({"issue_date": 0}, "body.issue_date"),
    ({"issue_date": "0"}, "body.issue_date"),
    ({"issue_date": "2026-10-01T00:00:00Z"}, "body.issue_date"),
    (
        {"instalments": [{"due_date": "2100-01-01", "amount_minor": 11_000}]},
        "body.instalments.0.due_date",
    ),
    # the terms' due date of a late issue date is past the last business date
    ({"issue_date": "2099-12-20"}, "body.issue_date"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_INVOICES)
async def test_bad_invoices_name_the_field_and_write_nothing(
    billing: httpx.AsyncClient, billing_url: str, overrides: dict[str, Any], field: str
):
    account = await new_account(billing)
    before = await counts(billing_url)
    body = {**invoice_body(account["account_id"]), **overrides}
    response = await billing.post("/v1/invoices", json=body, headers=create_headers())
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await counts(billing_url) == before


async def test_unknown_accounts_and_malformed_json_write_nothing(
    billing: httpx.AsyncClient, billing_url: str
):
    before = await counts(billing_url)
    unknown = await billing.post(
        "/v1/invoices", json=invoice_body(str(uuid4())), headers=create_headers()
    )
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["field"] == "body.account_id"
    payment = await billing.post(
        "/v1/payments", json=payment_body(str(uuid4())), headers=create_headers()
    )
    assert payment.status_code == 404
    malformed = await billing.post(
        "/v1/payments",
        content=b'{"amount_minor": ',
        headers={**create_headers(), "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["field"] == "body"
    assert await counts(billing_url) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount_minor": 0}, "body.amount_minor"),
        ({"amount_minor": -100}, "body.amount_minor"),
        ({"currency": "usd"}, "body.currency"),
        ({"method": "bitcoin"}, "body.method"),
        ({"received_on": "yesterday"}, "body.received_on"),
        ({"received_on": "9999-12-31"}, "body.received_on"),
        ({"received_on": "0001-01-01"}, "body.received_on"),
        ({"received_on": 0}, "body.received_on"),
        ({"received_on": "0"}, "body.received_on"),
    ],
)
async def test_bad_payments_name_the_field_and_write_nothing(
    billing: httpx.AsyncClient, billing_url: str, body: dict[str, Any], field: str
):
    account = await new_account(billing)
    before = await counts(billing_url)
    response = await billing.post(
        "/v1/payments", json=payment_body(account["account_id"], **body), headers=create_headers()
    )
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await counts(billing_url) == before


async def test_every_dated_change_refuses_a_date_outside_the_business_dates(
    billing: httpx.AsyncClient, billing_url: str
):
    account = await new_account(billing)
    invoice = await new_invoice(billing, account["account_id"])
    payment = await new_payment(billing, account["account_id"])
    account_path = f"/v1/accounts/{account['account_id']}"
    invoice_path = f"/v1/invoices/{invoice['invoice_id']}"
    payment_path = f"/v1/payments/{payment['payment_id']}"
    changes = [
        (
            "PUT",
            f"{account_path}/autopay",
            "enrolled_on",
            {"payment_method_reference": "pm_1", "payment_method_type": "card"},
        ),
        ("POST", f"{account_path}/autopay/cancel", "cancelled_on", {}),
        (
            "POST",
            f"{invoice_path}/adjustments",
            "effective_date",
            {"kind": "credit", "amount_minor": 100, "reason_code": "goodwill"},
        ),
        ("POST", f"{invoice_path}/void", "voided_on", {}),
        ("POST", f"{invoice_path}/write-off", "written_off_on", {"reason_code": "bad_debt"}),
        ("POST", f"{payment_path}/applications", "applied_on", {}),
        ("POST", f"{payment_path}/reversal", "reversed_on", {"reason": "returned"}),
    ]
    before = await counts(billing_url)
    for method, path, field, body in changes:
        for far in ("0001-01-01", "9999-12-31", 0):
            response = await billing.request(
                method,
                path,
                json={**body, field: far},
                headers={**create_headers(), "If-Match": '"1"'},
            )
            assert response.status_code == 422, (path, far, response.text)
            assert f"body.{field}" in [e["field"] for e in response.json()["errors"]], path
    assert await counts(billing_url) == before


async def test_applications_over_the_balance_or_across_currencies_write_nothing(
    billing: httpx.AsyncClient, billing_url: str
):
    account = await new_account(billing)
    invoice = await new_invoice(billing, account["account_id"])
    euro = await new_invoice(billing, account["account_id"], currency="EUR")
    payment = await new_payment(billing, account["account_id"], amount_minor=50_000)
    url = f"/v1/payments/{payment['payment_id']}/applications"
    before = await counts(billing_url)
    over = await billing.post(
        url,
        headers=create_headers(),
        json={
            "applied_on": "2026-11-02",
            "allocations": [{"invoice_id": invoice["invoice_id"], "amount_minor": 11_001}],
        },
    )
    assert over.status_code == 422
    assert over.json()["errors"][0]["field"] == "body.allocations.0.amount_minor"
    other = await billing.post(
        url,
        headers=create_headers(),
        json={
            "applied_on": "2026-11-02",
            "allocations": [
                {"invoice_id": invoice["invoice_id"], "amount_minor": 100},
                {"invoice_id": euro["invoice_id"], "amount_minor": 100},
            ],
        },
    )
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "body.allocations.1.invoice_id"
    credit = await billing.post(
        f"/v1/invoices/{invoice['invoice_id']}/adjustments",
        headers=create_headers(),
        json={
            "kind": "credit",
            "amount_minor": 11_001,
            "reason_code": "PRICE",
            "effective_date": "2026-10-05",
        },
    )
    assert credit.status_code == 422
    assert await counts(billing_url) == before


async def test_entries_dated_against_the_invoices_history_or_after_today_write_nothing(
    billing: httpx.AsyncClient, billing_url: str
):
    account = await new_account(billing)
    invoice = await new_invoice(billing, account["account_id"])
    url = f"/v1/invoices/{invoice['invoice_id']}"
    credit = await billing.post(
        f"{url}/adjustments",
        headers=create_headers(),
        json={
            "kind": "credit",
            "amount_minor": 1_000,
            "reason_code": "PRICE",
            "effective_date": "2026-10-20",
        },
    )
    assert credit.status_code == 201
    read = await billing.get(url, headers=auth("integration"))
    before = await counts(billing_url)
    backdated = await billing.post(
        f"{url}/void", headers=if_match(read), json={"voided_on": "2026-10-10"}
    )
    assert backdated.status_code == 409
    assert backdated.json()["errors"][0]["field"] == "body.voided_on"
    detail = backdated.json()["detail"]
    assert "credit memo" in detail and "2026-10-20" in detail
    tomorrow = business_dates().today() + timedelta(days=1)
    future = await billing.post(
        f"{url}/write-off",
        headers=if_match(read),
        json={"reason_code": "BAD_DEBT", "written_off_on": tomorrow.isoformat()},
    )
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "body.written_off_on"
    payment = await new_payment(billing, account["account_id"])
    early = await billing.post(
        f"/v1/payments/{payment['payment_id']}/applications",
        headers=create_headers(),
        json={"applied_on": "2026-10-31"},
    )
    assert early.status_code == 422
    assert early.json()["errors"][0]["field"] == "body.applied_on"
    assert await counts(billing_url) == tuple(n + 1 for n in before)  # only the payment


async def test_roles(billing: httpx.AsyncClient):
    no_token = await billing.post(
        "/v1/accounts", json=account_body(), headers={"Idempotency-Key": "k"}
    )
    assert no_token.status_code == 401
    collector = await billing.post(
        "/v1/accounts", json=account_body(), headers={**auth("collector"), "Idempotency-Key": "k"}
    )
    assert collector.status_code == 403
