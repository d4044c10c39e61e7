"""Who did what to an account: every billing event names its actor, and profile edits are
readable as the account's own history, through the API (and the Stripe webhook)."""

from __future__ import annotations

from uuid import uuid4

import asyncpg
import httpx

from billing_adapter.stripe_samples import customer, event, invoice, stripe_id
from billing_adapter.stripe_testing import a_customer, accepted
from receivables_platform.web.auth import issue_token

from .test_billing_api import SECRET, account_body, billing, invoice_body, payment_body

__all__ = ["billing"]  # a fixture, used by name


def as_(sub: str, *roles: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, roles)}", **headers}


def creating(sub: str) -> dict[str, str]:
    return as_(sub, "integration", **{"Idempotency-Key": str(uuid4())})


async def actors(url: str) -> list[tuple[str, str | None]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT type, data->>'actor' AS actor FROM events "
            "WHERE type LIKE 'billing.%' ORDER BY position"
        )
        return [(r["type"], r["actor"]) for r in rows]
    finally:
        await conn.close()


async def test_every_billing_event_records_who_caused_it(
    billing: httpx.AsyncClient, billing_url: str
):
    made = await billing.post("/v1/accounts", json=account_body(), headers=creating("erp"))
    account = made.json()
    url = f"/v1/accounts/{account['account_id']}"
    edited = await billing.patch(
        url,
        json={"payment_terms_days": 45},
        headers=as_("ops-olga", "admin", **{"If-Match": made.headers["ETag"]}),
    )
    assert edited.status_code == 200, edited.text
    enrolled = await billing.put(
        f"{url}/autopay",
        headers=as_("ops-ivan", "admin", **{"If-Match": edited.headers["ETag"]}),
        json={
            "payment_method_reference": "pm_123",
            "payment_method_type": "card",
            "enrolled_on": "2026-10-01",
        },
    )
    assert enrolled.status_code == 200, enrolled.text
    cancelled = await billing.post(
        f"{url}/autopay/cancel",
        headers=as_("ops-olga", "admin", **{"If-Match": enrolled.headers["ETag"]}),
        json={"cancelled_on": "2026-10-02"},
    )
    assert cancelled.status_code == 200, cancelled.text
    issued = await billing.post(
        "/v1/invoices", json=invoice_body(account["account_id"]), headers=creating("erp")
    )
    paid = await billing.post(
        "/v1/payments",
        json=payment_body(account["account_id"], amount_minor=5_000),
        headers=creating("bank-feed"),
    )
    assert issued.status_code == paid.status_code == 201, (issued.text, paid.text)
    payment_id = paid.json()["payment_id"]
    applied = await billing.post(
        f"/v1/payments/{payment_id}/applications",
        headers=creating("cash-app"),
        json={"applied_on": "2026-11-02"},
    )
    assert applied.status_code == 201, applied.text
    reversed_ = await billing.post(
        f"/v1/payments/{payment_id}/reversal",
        headers=as_("bank-feed", "integration", **{"If-Match": applied.headers["ETag"]}),
        json={"reason": "returned", "reversed_on": "2026-11-03"},
    )
    assert reversed_.status_code == 200, reversed_.text

    assert await actors(billing_url) == [
        ("billing.account.registered", "erp"),
        ("billing.account.updated", "ops-olga"),
        ("billing.autopay.enrolled", "ops-ivan"),
        ("billing.autopay.cancelled", "ops-olga"),
        ("billing.invoice.issued", "erp"),
        ("billing.payment.received", "bank-feed"),
        ("billing.payment.applied", "cash-app"),
        ("billing.payment.reversed", "bank-feed"),
    ]


async def test_profile_edits_are_the_accounts_history_with_who_when_and_what(
    billing: httpx.AsyncClient,
):
    made = await billing.post(
        "/v1/accounts", json=account_body(segment="smb"), headers=creating("erp")
    )
    url = f"/v1/accounts/{made.json()['account_id']}"
    first = await billing.patch(
        url,
        json={"payment_terms_days": 45, "segment": None},
        headers=as_("ops-olga", "admin", **{"If-Match": made.headers["ETag"]}),
    )
    nothing = await billing.patch(
        url,
        json={"payment_terms_days": 45},
        headers=as_("ops-ivan", "admin", **{"If-Match": first.headers["ETag"]}),
    )
    second = await billing.patch(
        url,
        json={"name": "Acme Holdings", "contacts": [{"name": "Bea", "email": "bea@acme.test"}]},
        headers=as_("ops-ivan", "admin", **{"If-Match": nothing.headers["ETag"]}),
    )
    assert second.status_code == 200, second.text
    await billing.post(
        "/v1/invoices", json=invoice_body(made.json()["account_id"]), headers=creating("erp")
    )

    got = await billing.get(f"{url}/history", headers=as_("col", "collector"))
    assert got.status_code == 200, got.text
    events = got.json()["events"]
    assert [(e["type"], e["actor"]) for e in events] == [
        ("billing.account.registered", "erp"),
        ("billing.account.updated", "ops-olga"),
        ("billing.account.updated", "ops-ivan"),
    ]  # the edit that changed nothing is not one
    assert [e["changes"] for e in events] == [
        None,
        [
            {"field": "payment_terms_days", "before": 30, "after": 45},
            {"field": "segment", "before": "smb", "after": None},
        ],
        [
            {"field": "name", "before": "Acme Corp", "after": "Acme Holdings"},
            {
                "field": "contacts",
                "before": [
                    {"name": "Ann", "email": "ann@acme.test", "phone": "+1 555 0100", "role": None}
                ],
                "after": [{"name": "Bea", "email": "bea@acme.test", "phone": None, "role": None}],
            },
        ],
    ]
    assert events[1]["recorded_at"] <= events[2]["recorded_at"]

    unknown = await billing.get(f"/v1/accounts/{uuid4()}/history", headers=as_("c", "collector"))
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["field"].endswith("account_id")
    nobody = await billing.get(f"{url}/history")
    assert nobody.status_code == 401


async def test_what_a_stripe_webhook_books_is_recorded_as_stripes_doing(
    stripe: httpx.AsyncClient, database: str
):
    customer_id = await a_customer(stripe)
    await accepted(stripe, event("customer.updated", customer(customer_id, name="Acme Inc")))
    invoice_id = stripe_id("in")
    await accepted(stripe, event("invoice.finalized", invoice(invoice_id, customer_id)))
    booked = await actors(database)
    assert [t for t, _ in booked] == [
        "billing.account.registered",
        "billing.account.updated",
        "billing.invoice.issued",
    ]
    assert {a for _, a in booked} == {"stripe"}
