"""Pay links made at stripe-mock (Stripe's own mock API), paid back through the signed webhook."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest

from billing_adapter.settings import PayLinkSettings
from billing_adapter.stripe_samples import checkout_session_completed, stripe_id
from billing_adapter.stripe_testing import READ, SECRET, accepted, serving

LINKS = "/v1/accounts/{}/pay-links"


@pytest.fixture
async def billing(database: str, stripe_mock: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(database, SECRET, stripe_api=stripe_mock) as client:
        yield client


def creating(key: str | None = None) -> dict[str, str]:
    return {**READ, "Idempotency-Key": key or str(uuid4())}


async def an_account(client: httpx.AsyncClient, currency: str = "USD") -> str:
    made = await client.post(
        "/v1/accounts",
        headers=creating(),
        json={
            "external_id": f"CUS-{uuid4().hex[:8]}",
            "name": "Lakeside Dental",
            "currency": currency,
            "payment_terms_days": 30,
        },
    )
    assert made.status_code == 201, made.text
    return str(made.json()["account_id"])


async def an_invoice(
    client: httpx.AsyncClient, account_id: str, total: int, due: date, currency: str = "USD"
) -> str:
    made = await client.post(
        "/v1/invoices",
        headers=creating(),
        json={
            "external_id": f"INV-{uuid4().hex[:8]}",
            "account_id": account_id,
            "currency": currency,
            "total_minor": total,
            "issue_date": (due - timedelta(days=30)).isoformat(),
            "due_date": due.isoformat(),
        },
    )
    assert made.status_code == 201, made.text
    return str(made.json()["invoice_id"])


async def a_link(
    client: httpx.AsyncClient,
    account_id: str,
    status: int = 201,
    key: str | None = None,
    **body: Any,
) -> dict[str, Any]:
    made = await client.post(LINKS.format(account_id), json=body, headers=creating(key))
    assert made.status_code == status, made.text
    return dict(made.json())


def fields(problem: dict[str, Any]) -> list[str]:
    return [e["field"] for e in problem.get("errors", [])]


async def stored_links(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM events WHERE type = 'billing.paylink.created'"
            )
        )
    finally:
        await conn.close()


async def link_makers(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        return [
            r["actor"]
            for r in await conn.fetch(
                "SELECT data->>'actor' AS actor FROM events WHERE type = 'billing.paylink.created'"
            )
        ]
    finally:
        await conn.close()


async def session_at(stripe_mock: str, session_id: str) -> dict[str, Any]:
    """The Checkout Session as Stripe's API shows it (what a webhook's object is built from)."""
    async with httpx.AsyncClient(base_url=stripe_mock, auth=("sk_test_x", "")) as api:
        seen = await api.get(f"/v1/checkout/sessions/{session_id}")
    assert seen.status_code == 200, seen.text
    return dict(seen.json())


async def test_a_link_pays_the_open_invoices_oldest_first_through_the_webhook(
    billing: httpx.AsyncClient, database: str, stripe_mock: str
):
    today = date.today()
    account_id = await an_account(billing)
    later = await an_invoice(billing, account_id, 30_000, today + timedelta(days=5))
    earlier = await an_invoice(billing, account_id, 12_000, today - timedelta(days=10))

    link = await a_link(billing, account_id, key="link-1")
    assert link["provider"] == "stripe" and link["provider_reference"].startswith("cs_")
    assert link["url"].startswith("https://")
    assert link["invoice_ids"] == [earlier, later] and link["amount_minor"] == 42_000
    assert link["purpose"] == "payment" and link["currency"] == "USD"
    expires = datetime.fromisoformat(link["expires_at"])
    assert datetime.now(UTC) < expires <= datetime.now(UTC) + timedelta(hours=24)

    assert await a_link(billing, account_id, key="link-1") == link  # replayed, not made again
    assert await stored_links(database) == 1
    assert await link_makers(database) == ["ops"]  # who asked for it
    read = await billing.get(f"{LINKS.format(account_id)}/{link['pay_link_id']}", headers=READ)
    assert read.status_code == 200 and read.json() == link

    session = await session_at(stripe_mock, link["provider_reference"])
    paid = checkout_session_completed(session, link)
    receipt = await accepted(billing, paid)
    assert link["pay_link_id"] in receipt["detail"]
    for invoice_id in (earlier, later):
        invoice = (await billing.get(f"/v1/invoices/{invoice_id}", headers=READ)).json()
        assert invoice["status"] == "paid", invoice
    await accepted(billing, paid, outcome="duplicate")
    account = (await billing.get(f"/v1/accounts/{account_id}", headers=READ)).json()
    assert account["open_balance"] == [{"currency": "USD", "amount_minor": 0}], account
    assert account["credit"] == [{"currency": "USD", "amount_minor": 0}], account


async def test_a_bank_debit_pays_when_it_settles_not_when_the_checkout_completes(
    billing: httpx.AsyncClient, stripe_mock: str
):
    account_id = await an_account(billing)
    invoice_id = await an_invoice(billing, account_id, 9_000, date.today())
    link = await a_link(billing, account_id, invoice_ids=[invoice_id])
    session = await session_at(stripe_mock, link["provider_reference"])

    await accepted(
        billing, checkout_session_completed(session, link, payment_status="unpaid"), "ignored"
    )
    invoice = (await billing.get(f"/v1/invoices/{invoice_id}", headers=READ)).json()
    assert invoice["status"] == "open"
    await accepted(
        billing,
        checkout_session_completed(
            session, link, event_type="checkout.session.async_payment_succeeded"
        ),
    )
    invoice = (await billing.get(f"/v1/invoices/{invoice_id}", headers=READ)).json()
    assert invoice["status"] == "paid"


async def test_money_beyond_what_the_links_invoices_still_owe_stays_as_credit(
    billing: httpx.AsyncClient, stripe_mock: str
):
    account_id = await an_account(billing)
    invoice_id = await an_invoice(billing, account_id, 5_000, date.today())
    other = await an_invoice(billing, account_id, 7_000, date.today() - timedelta(days=3))
    link = await a_link(billing, account_id, invoice_ids=[invoice_id])
    assert link["amount_minor"] == 5_000 and link["invoice_ids"] == [invoice_id]
    session = await session_at(stripe_mock, link["provider_reference"])

    await accepted(billing, checkout_session_completed(session, link, amount_total=6_000))
    paid = (await billing.get(f"/v1/invoices/{invoice_id}", headers=READ)).json()
    untouched = (await billing.get(f"/v1/invoices/{other}", headers=READ)).json()
    assert paid["status"] == "paid" and untouched["open_minor"] == 7_000
    account = (await billing.get(f"/v1/accounts/{account_id}", headers=READ)).json()
    assert account["credit"] == [{"currency": "USD", "amount_minor": 1_000}], account


async def test_an_autopay_link_enrols_the_account_when_the_setup_completes(
    billing: httpx.AsyncClient, stripe_mock: str
):
    account_id = await an_account(billing)
    link = await a_link(billing, account_id, purpose="autopay")
    assert link["amount_minor"] == 0 and link["invoice_ids"] == []
    session = await session_at(stripe_mock, link["provider_reference"])

    await accepted(billing, checkout_session_completed(session, link))
    account = (await billing.get(f"/v1/accounts/{account_id}", headers=READ)).json()
    assert account["autopay"]["enrolled"] is True, account
    assert account["autopay"]["payment_method_reference"].startswith("seti_")
    again = await a_link(billing, account_id, 409, purpose="autopay")
    assert fields(again) == ["body.purpose"]


async def test_a_checkout_session_made_elsewhere_is_ignored(
    billing: httpx.AsyncClient, stripe_mock: str
):
    elsewhere = {
        "pay_link_id": str(uuid4()),
        "account_id": str(uuid4()),
        "purpose": "payment",
        "provider_reference": stripe_id("cs"),
        "currency": "USD",
        "amount_minor": 100,
    }
    session = await session_at(stripe_mock, elsewhere["provider_reference"])
    await accepted(billing, checkout_session_completed(session, elsewhere), "ignored")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"purpose": "refund"}, 422, "body.purpose"),
        ({"invoice_ids": []}, 422, "body.invoice_ids"),
        ({"invoice_ids": ["not-a-uuid"]}, 422, "body.invoice_ids.0"),
        ({"invoice_ids": [str(uuid4())]}, 404, "body.invoice_ids.0"),
        ({"purpose": "autopay", "invoice_ids": [str(uuid4())]}, 422, "body.invoice_ids"),
        ({"amount_minor": 5}, 422, "body.amount_minor"),
    ],
)
async def test_bad_requests_name_the_field_and_make_no_link(
    billing: httpx.AsyncClient, database: str, body: dict[str, Any], status: int, field: str
):
    account_id = await an_account(billing)
    await an_invoice(billing, account_id, 5_000, date.today())
    refused = await a_link(billing, account_id, status, **body)
    assert fields(refused) == [field], refused
    assert await stored_links(database) == 0


async def test_nothing_owed_several_currencies_and_unknown_accounts_are_refused(
    billing: httpx.AsyncClient, database: str
):
    account_id = await an_account(billing)
    refused = await a_link(billing, account_id, 409)
    assert fields(refused) == ["body.account_id"]
    await an_invoice(billing, account_id, 5_000, date.today())
    await an_invoice(billing, account_id, 5_000, date.today(), currency="EUR")
    refused = await a_link(billing, account_id, 422)
    assert fields(refused) == ["body.invoice_ids"] and "EUR" in refused["detail"]
    unknown = await a_link(billing, str(uuid4()), 404)
    assert unknown["status"] == 404
    assert await stored_links(database) == 0


async def test_a_provider_that_fails_is_a_502_and_records_nothing(database: str):
    async with serving(database, SECRET, stripe_api="http://127.0.0.1:9") as client:
        account_id = await an_account(client)
        await an_invoice(client, account_id, 5_000, date.today())
        failed = await a_link(client, account_id, 502)
        assert "Stripe could not be reached" in failed["detail"]
    assert await stored_links(database) == 0


async def test_without_a_provider_pay_links_are_unavailable(database: str):
    async with serving(database, SECRET) as client:
        account_id = await an_account(client)
        await an_invoice(client, account_id, 5_000, date.today())
        assert (await a_link(client, account_id, 503))["title"] == "Pay links not configured"


async def test_another_provider_is_a_url_template(database: str):
    template = (
        "https://pay.example.test/{account_external_id}"
        "?amount={amount_minor}&currency={currency}&ref={pay_link_id}"
    )
    settings = PayLinkSettings(url_template=template, ttl_hours=2)
    async with serving(database, SECRET, pay_links=settings) as client:
        account_id = await an_account(client)
        await an_invoice(client, account_id, 5_000, date.today())
        link = await a_link(client, account_id)
    account = link["url"].split("/")[3].split("?")[0]
    assert account.startswith("CUS-")
    assert link["url"].endswith(f"?amount=5000&currency=USD&ref={link['pay_link_id']}")
    assert link["provider"] == "template" and link["provider_reference"] == link["pay_link_id"]


def test_a_template_naming_an_unknown_field_is_refused_when_read():
    with pytest.raises(ValueError, match="PAY_LINK_URL_TEMPLATE"):
        PayLinkSettings(url_template="https://pay.example.test/{customer_email}")
