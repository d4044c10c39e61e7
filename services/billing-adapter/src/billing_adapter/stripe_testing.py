"""Driving the Stripe webhook in tests: a served app, signed deliveries, and reading back.

In the package (like `stripe_samples.py`) so that every test module about
the connector shares one way to deliver and read back, whatever API version
its payloads are in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx

from billing_adapter.settings import BillingDependencies, PayLinkSettings, StripeSettings
from billing_adapter.spec import SPEC
from billing_adapter.stripe_samples import customer, encode, event, sign, stripe_id
from receivables_platform.service import build_app
from receivables_platform.web.auth import issue_token
from receivables_platform.web.testserver import running_server

# test-only signing keys, never a deployment's
SECRET = "whsec_current_4eC39HqLyjWDarjtT1zdp7dc"  # noqa: S105
OLD_SECRET = "whsec_previous_9aF27QpLmnWDarjtT1zdp7dc"  # noqa: S105
API_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"  # Stripe's documented test key
JWT_SECRET = "test-secret-for-stripe-webhook-0123456789"  # noqa: S105
TOTAL = 11_000  # a sample invoice: four seats for 10,000 plus 1,000 tax
READ = {"Authorization": f"Bearer {issue_token(JWT_SECRET, 'ops', ['integration'])}"}


@asynccontextmanager
async def serving(
    url: str,
    secrets: str,
    *,
    stripe_api: str | None = None,
    pay_links: PayLinkSettings | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """`stripe_api`: a Stripe API base (stripe-mock) pay links are made at, with a test key."""
    stripe = StripeSettings(
        webhook_secret=secrets,
        api_key=API_KEY if stripe_api else "",
        api_base=stripe_api or "http://127.0.0.1:9",
    )
    links = pay_links or PayLinkSettings(
        provider="stripe" if stripe_api else "", success_url="https://pay.example.test/done"
    )
    app = build_app(
        SPEC,
        SPEC.settings(database_url=url, jwt_secret=JWT_SECRET),
        dependencies=BillingDependencies(stripe, links),
    )
    async with running_server(app) as base, httpx.AsyncClient(base_url=base, timeout=10) as client:
        yield client


async def deliver(
    client: httpx.AsyncClient,
    body: dict[str, Any],
    *secrets: str,
    timestamp: int | None = None,
    header: str | None = None,
) -> httpx.Response:
    payload = encode(body)
    signature = (
        header
        if header is not None
        else sign(payload, *(secrets or (SECRET,)), timestamp=timestamp)
    )
    return await client.post(
        "/v1/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


async def accepted(
    client: httpx.AsyncClient,
    body: dict[str, Any],
    outcome: str = "applied",
) -> dict[str, Any]:
    response = await deliver(client, body)
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert (receipt["event_id"], receipt["outcome"]) == (body["id"], outcome), receipt
    return dict(receipt)


async def internal_id(url: str, kind: str, external_id: str) -> str | None:
    conn = await asyncpg.connect(url)
    try:
        value = await conn.fetchval(
            "SELECT internal_id FROM external_ids WHERE kind = $1 AND external_id = $2",
            kind,
            external_id,
        )
        return None if value is None else str(value)
    finally:
        await conn.close()


async def stored(url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(url)
    try:
        return (
            await conn.fetchval("SELECT count(*) FROM events"),
            await conn.fetchval("SELECT count(*) FROM stripe_events"),
        )
    finally:
        await conn.close()


async def read(
    client: httpx.AsyncClient,
    url: str,
    kind: str,
    external_id: str,
) -> dict[str, Any]:
    found = await internal_id(url, kind, external_id)
    assert found is not None, f"no {kind} {external_id}"
    response = await client.get(f"/v1/{kind}s/{found}", headers=READ)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def history(client: httpx.AsyncClient, invoice_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/invoices/{invoice_id}/history", headers=READ)
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


async def a_customer(client: httpx.AsyncClient, **fields: Any) -> str:
    customer_id = stripe_id("cus")
    await accepted(client, event("customer.created", customer(customer_id, **fields)))
    return customer_id


async def metric(client: httpx.AsyncClient, sample: str) -> float:
    """A sample's value on /metrics (the counters are the process's, so they only grow)."""
    for line in (await client.get("/metrics")).text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def received(client: httpx.AsyncClient, outcome: str) -> list[dict[str, Any]]:
    response = await client.get(
        "/v1/webhooks/stripe/events", params={"outcome": outcome}, headers=READ
    )
    assert response.status_code == 200, response.text
    return list(response.json())
