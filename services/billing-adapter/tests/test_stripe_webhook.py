"""The Stripe webhook through a real HTTP server over real PostgreSQL, with real HMAC signatures.

Payloads are Stripe's objects in API version 2024-06-20 (`stripe_samples.py`); what the
connector did is read back through the billing adapter's own read APIs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from billing_adapter.stripe_samples import (
    NOW,
    charge,
    credit_note,
    customer,
    dispute,
    encode,
    event,
    invoice,
    sign,
    stripe_id,
    subscription,
)
from billing_adapter.stripe_testing import (
    OLD_SECRET,
    READ,
    SECRET,
    TOTAL,
    a_customer,
    accepted,
    deliver,
    history,
    internal_id,
    metric,
    read,
    received,
    serving,
    stored,
)
from receivables_platform.money import MAX_MINOR

REFUSED = 'stripe_webhook_refused_total{{reason="{}"}}'
# -- the happy path -------------------------------------------------------------------------------


async def test_customer_invoice_and_payment_become_the_same_events_as_the_api(
    stripe: httpx.AsyncClient, database: str
):
    customer_id = await a_customer(stripe, metadata={"segment": "enterprise"})
    account = await read(stripe, database, "account", customer_id)
    assert (account["name"], account["currency"], account["segment"]) == (
        "Acme Corp",
        "USD",
        "enterprise",
    )
    assert account["contacts"] == [
        {"name": "Acme Corp", "email": "billing@acme.test", "phone": "+1 555 0100", "role": None}
    ]

    invoice_id, charge_id = stripe_id("in"), stripe_id("ch")
    finalized_at = NOW - 2 * 86400
    finalized = event(
        "invoice.finalized",
        invoice(
            invoice_id,
            customer_id,
            lines=[("Seats", 4, 10_000), ("Support", 1, 2_500)],
            tax=1_250,
            finalized_at=finalized_at,
            due_date=finalized_at + 14 * 86400,
        ),
    )
    await accepted(stripe, finalized)
    issued = await read(stripe, database, "invoice", invoice_id)
    assert (issued["total_minor"], issued["tax_minor"], issued["open_minor"]) == (
        13_750,
        1_250,
        13_750,
    )
    assert [(x["description"], x["quantity"], x["unit_price_minor"]) for x in issued["lines"]] == [
        ("Seats", 4, 2_500),
        ("Support", 1, 2_500),
    ]
    assert (issued["issue_date"], issued["due_date"]) == (
        time.strftime("%Y-%m-%d", time.gmtime(finalized_at)),
        time.strftime("%Y-%m-%d", time.gmtime(finalized_at + 14 * 86400)),
    )

    paid = event(
        "invoice.paid",
        invoice(
            invoice_id,
            customer_id,
            lines=[("Seats", 4, 10_000), ("Support", 1, 2_500)],
            tax=1_250,
            status="paid",
            finalized_at=finalized_at,
            due_date=finalized_at + 14 * 86400,
            charge=charge_id,
            payment_intent=stripe_id("pi"),
        ),
    )
    await accepted(stripe, paid)
    assert (await read(stripe, database, "invoice", invoice_id))["status"] == "paid"
    payment = await read(stripe, database, "payment", charge_id)
    assert (
        payment["amount_minor"],
        payment["currency"],
        payment["reference"],
        payment["unapplied_minor"],
    ) == (13_750, "USD", charge_id, 0)

    trail = await history(stripe, issued["invoice_id"])
    assert [(e["type"], e["causation_id"]) for e in trail] == [
        ("billing.invoice.issued", finalized["id"]),
        ("billing.payment.applied", paid["id"]),
    ]


async def test_a_charge_automatically_invoice_is_due_when_issued(
    stripe: httpx.AsyncClient, database: str
):
    customer_id, invoice_id = await a_customer(stripe), stripe_id("in")
    await accepted(
        stripe,
        event(
            "invoice.finalized",
            invoice(
                invoice_id, customer_id, collection_method="charge_automatically", discount=2_000
            ),
        ),
    )
    issued = await read(stripe, database, "invoice", invoice_id)
    assert issued["due_date"] == issued["issue_date"]
    # A discount makes Stripe's lines not add up to the total: the total wins, as one line.
    assert (issued["total_minor"], issued["tax_minor"], len(issued["lines"])) == (9_000, 1_000, 1)


# -- signatures -----------------------------------------------------------------------------------


def forged(body: dict[str, Any]) -> dict[str, str | None]:
    payload = encode(body)
    tampered = encode({**body, "type": "invoice.voided"})
    return {
        "wrong secret": sign(payload, "whsec_someone_else"),
        "signed other bytes": sign(tampered, SECRET),
        "no v1": f"t={int(time.time())},v0=abc",
        "garbage": "not a signature",
        "timestamp not a number": "t=soon,v1=00",
        "missing": None,
    }


async def test_bad_signatures_are_400_and_store_nothing(stripe: httpx.AsyncClient, database: str):
    body = event("customer.created", customer(stripe_id("cus")))
    before = await metric(stripe, REFUSED.format("signature"))
    for name, header in forged(body).items():
        headers = {"Content-Type": "application/json"}
        if header is not None:
            headers["Stripe-Signature"] = header
        response = await stripe.post("/v1/webhooks/stripe", content=encode(body), headers=headers)
        assert response.status_code == 400, name
        assert response.headers["content-type"] == "application/problem+json", name
        problem = response.json()
        assert problem["type"] == "urn:receivables:problem:invalid-signature", name
        assert problem["errors"][0]["field"] == "header.Stripe-Signature", name
    assert await stored(database) == (0, 0)
    assert await metric(stripe, REFUSED.format("signature")) - before == len(forged(body))


async def test_stale_or_future_timestamps_are_refused(stripe: httpx.AsyncClient, database: str):
    body = event("customer.created", customer(stripe_id("cus")))
    for offset in (-360, -3600, 360):  # well past the 300 s tolerance, whatever the load
        response = await deliver(stripe, body, timestamp=int(time.time()) + offset)
        assert response.status_code == 400, offset
        assert "from now" in response.json()["detail"]
    assert await stored(database) == (0, 0)
    await accepted(stripe, body)  # the same event, freshly signed, is fine


async def test_rotated_secrets(database: str):
    """While a secret rolls Stripe signs with both and either passes; afterwards only the new."""
    async with serving(database, f"{SECRET}, {OLD_SECRET}") as rolling:
        for secrets in ((OLD_SECRET,), (SECRET,), ("whsec_wrong", SECRET), (OLD_SECRET, SECRET)):
            body = event("customer.created", customer(stripe_id("cus")))
            response = await deliver(rolling, body, *secrets)
            assert (response.status_code, response.json()["outcome"]) == (200, "applied")
    async with serving(database, SECRET) as rolled:
        body = event("customer.created", customer(stripe_id("cus")))
        assert (await deliver(rolled, body, OLD_SECRET)).status_code == 400
        assert (await deliver(rolled, body, OLD_SECRET, SECRET)).status_code == 200


async def test_without_a_secret_nothing_is_accepted(database: str):
    async with serving(database, "") as unconfigured:
        response = await deliver(
            unconfigured, event("customer.created", customer(stripe_id("cus")))
        )
        assert response.status_code == 400
        assert response.json()["type"] == "urn:receivables:problem:invalid-signature"
        assert "STRIPE_WEBHOOK_SECRET" in response.json()["detail"]
    assert await stored(database) == (0, 0)


async def test_signed_bodies_that_are_not_events_are_400(stripe: httpx.AsyncClient, database: str):
    cases = {
        b"{not json": "body",
        encode({"object": "customer", "id": "cus_1"}): "body",
        encode({**event("customer.created", {}), "data": {}}): "body.data.object",
        encode({**event("customer.created", {}), "id": ""}): "body.id",
        encode({**event("customer.created", {}), "created": 10**20}): "body.created",
        encode(event("customer.created", customer("cus_\x00"))): "body",
    }
    before = [await metric(stripe, REFUSED.format(r)) for r in ("malformed_json", "not_an_event")]
    for payload, field in cases.items():
        response = await stripe.post(
            "/v1/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": sign(payload, SECRET)},
        )
        assert response.status_code == 400, payload
        assert response.json()["errors"][0]["field"] == field
    assert await stored(database) == (0, 0)
    after = [await metric(stripe, REFUSED.format(r)) for r in ("malformed_json", "not_an_event")]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 5]


async def test_an_oversized_body_is_refused_before_it_is_read(
    stripe: httpx.AsyncClient, database: str
):
    """Unauthenticated, so a forged giant must cost nothing: 413 on its declared length alone."""
    before = await metric(stripe, REFUSED.format("too_large"))
    url = httpx.URL(str(stripe.base_url))
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(
            f"POST /v1/webhooks/stripe HTTP/1.1\r\nHost: {url.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {150 * 2**20}\r\n"
            f"Stripe-Signature: t=1,v1=00\r\n\r\n{{".encode()
        )
        await writer.drain()  # one byte of the 150 MiB announced, and the answer comes
        async with asyncio.timeout(5):
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
    finally:
        writer.close()
    assert head.startswith("HTTP/1.1 413"), head
    assert "application/problem+json" in head

    async def streamed() -> AsyncIterator[bytes]:  # no length declared: counted as it comes
        for _ in range(3 * 16):
            yield b" " * 2**16

    response = await stripe.post(
        "/v1/webhooks/stripe", content=streamed(), headers={"Stripe-Signature": "t=1,v1=00"}
    )
    assert response.status_code == 413, response.text
    assert (response.json()["type"], response.json()["errors"][0]["field"]) == (
        "urn:receivables:problem:payload-too-large",
        "body",
    )
    assert await metric(stripe, REFUSED.format("too_large")) - before == 2
    assert await stored(database) == (0, 0)


async def test_a_delivery_cut_off_mid_body_is_counted_as_unreadable(
    stripe: httpx.AsyncClient, database: str
):
    before = await metric(stripe, REFUSED.format("unreadable"))
    url = httpx.URL(str(stripe.base_url))
    _, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        f"POST /v1/webhooks/stripe HTTP/1.1\r\nHost: {url.host}\r\n"
        f"Content-Length: 1000\r\nStripe-Signature: t=1,v1=00\r\n\r\n"
        f'{{"id": "evt_'.encode()
    )
    await writer.drain()
    await asyncio.sleep(0.2)
    writer.close()  # the sender gives up after 12 of the 1,000 bytes it announced
    async with asyncio.timeout(5):
        while await metric(stripe, REFUSED.format("unreadable")) == before:
            await asyncio.sleep(0.1)
    assert await stored(database) == (0, 0)


async def test_the_webhook_needs_no_token_but_the_listing_does(stripe: httpx.AsyncClient):
    await accepted(stripe, event("customer.created", customer(stripe_id("cus"))))
    assert (await stripe.get("/v1/webhooks/stripe/events")).status_code == 401


# -- redelivery and order -------------------------------------------------------------------------


async def test_a_redelivered_event_changes_nothing(stripe: httpx.AsyncClient, database: str):
    customer_id = await a_customer(stripe)
    body = event("invoice.finalized", invoice(stripe_id("in"), customer_id))
    await accepted(stripe, body)
    before = await stored(database)
    for _ in range(2):
        assert (await accepted(stripe, body, "duplicate"))["detail"] == "already received"
    assert await stored(database) == before


async def test_concurrent_deliveries_of_one_event_apply_once(
    stripe: httpx.AsyncClient, database: str
):
    customer_id = await a_customer(stripe)
    body = event("invoice.finalized", invoice(stripe_id("in"), customer_id))
    responses = await asyncio.gather(*(deliver(stripe, body) for _ in range(5)))
    assert sorted(r.json()["outcome"] for r in responses) == ["applied"] + ["duplicate"] * 4
    assert await stored(database) == (2, 2)


async def test_paid_before_finalized_issues_and_pays_once(stripe: httpx.AsyncClient, database: str):
    customer_id, invoice_id, charge_id = await a_customer(stripe), stripe_id("in"), stripe_id("ch")
    await accepted(
        stripe,
        event(
            "invoice.paid",
            invoice(invoice_id, customer_id, status="paid", charge=charge_id),
            created=NOW,
        ),
    )
    await accepted(
        stripe, event("invoice.finalized", invoice(invoice_id, customer_id), created=NOW - 60)
    )
    found = await read(stripe, database, "invoice", invoice_id)
    assert (found["status"], found["open_minor"]) == ("paid", 0)
    assert [e["type"] for e in await history(stripe, found["invoice_id"])] == [
        "billing.invoice.issued",
        "billing.payment.applied",
    ]


async def test_an_older_customer_snapshot_does_not_undo_a_newer_one(
    stripe: httpx.AsyncClient, database: str
):
    customer_id = stripe_id("cus")
    await accepted(
        stripe,
        event(
            "customer.updated",
            customer(customer_id, name="Acme Renamed"),
            created=NOW,
            previous_attributes={"name": "Acme Corp"},
        ),
    )
    receipt = await accepted(
        stripe, event("customer.created", customer(customer_id), created=NOW - 30), "ignored"
    )
    assert "newer event" in receipt["detail"]
    assert (await read(stripe, database, "account", customer_id))["name"] == "Acme Renamed"


async def test_events_for_unknown_customers_park_and_replay_in_order(
    stripe: httpx.AsyncClient, database: str
):
    customer_id, invoice_id = stripe_id("cus"), stripe_id("in")
    finalized = event("invoice.finalized", invoice(invoice_id, customer_id), created=NOW - 20)
    note = event(
        "credit_note.created", credit_note(invoice_id, customer_id, amount=2_000), created=NOW - 10
    )
    assert "customer" in (await accepted(stripe, finalized, "parked"))["detail"]
    await accepted(stripe, note, "parked")
    parked = await received(stripe, "parked")
    assert {(p["event_id"], p["waiting_for"]) for p in parked} == {
        (finalized["id"], f"account:{customer_id}"),
        (note["id"], f"invoice:{invoice_id}"),
    }
    assert await internal_id(database, "invoice", invoice_id) is None

    await accepted(stripe, event("customer.created", customer(customer_id)))
    found = await read(stripe, database, "invoice", invoice_id)
    assert (found["total_minor"], found["open_minor"]) == (TOTAL, TOTAL - 2_000)
    assert await received(stripe, "parked") == []
    applied = {e["event_id"] for e in await received(stripe, "applied")}
    assert {finalized["id"], note["id"]} <= applied
    # A redelivery of a replayed event is still a duplicate.
    await accepted(stripe, finalized, "duplicate")
    assert (
        await metric(
            stripe, 'stripe_webhook_events_total{outcome="parked",type="credit_note.created"}'
        )
        >= 1
    )


async def test_parked_events_replay_on_demand_once_their_customer_exists(
    stripe: httpx.AsyncClient, database: str
):
    """Customers backfilled through the REST API (or an import) under their Stripe ids."""
    customer_id, invoice_id = stripe_id("cus"), stripe_id("in")
    await accepted(stripe, event("invoice.finalized", invoice(invoice_id, customer_id)), "parked")
    replay = await stripe.post("/v1/webhooks/stripe/events/replay", headers=READ)
    assert replay.json() == {"replayed": 0}
    created = await stripe.post(
        "/v1/accounts",
        headers={**READ, "Idempotency-Key": "backfill-1"},
        json={
            "external_id": customer_id,
            "name": "Backfilled Ltd",
            "currency": "USD",
            "payment_terms_days": 30,
        },
    )
    assert created.status_code == 201, created.text
    replay = await stripe.post("/v1/webhooks/stripe/events/replay", headers=READ)
    assert replay.json() == {"replayed": 1}
    found = await read(stripe, database, "invoice", invoice_id)
    assert (found["account_id"], found["open_minor"]) == (created.json()["account_id"], TOTAL)
    assert (await stripe.post("/v1/webhooks/stripe/events/replay")).status_code == 401


async def test_concurrent_events_about_one_new_invoice_issue_it_once(
    stripe: httpx.AsyncClient, database: str
):
    customer_id, invoice_id = await a_customer(stripe), stripe_id("in")
    bodies = [
        event("invoice.finalized", invoice(invoice_id, customer_id)),
        event("invoice.payment_failed", invoice(invoice_id, customer_id, attempt_count=1)),
        event(
            "invoice.paid", invoice(invoice_id, customer_id, status="paid", charge=stripe_id("ch"))
        ),
    ]
    responses = await asyncio.gather(*(deliver(stripe, body) for body in bodies))
    assert [r.json()["outcome"] for r in responses] == ["applied"] * 3
    found = await read(stripe, database, "invoice", invoice_id)
    assert (found["status"], found["open_minor"]) == ("paid", 0)
    assert [e["type"] for e in await history(stripe, found["invoice_id"])] == [
        "billing.invoice.issued",
        "billing.payment.applied",
    ]


# -- the other mappings ---------------------------------------------------------------------------


async def test_void_write_off_and_failed_payment(stripe: httpx.AsyncClient, database: str):
    customer_id = await a_customer(stripe)
    voided_id, lost_id, failing_id = stripe_id("in"), stripe_id("in"), stripe_id("in")
    await accepted(stripe, event("invoice.finalized", invoice(voided_id, customer_id)))
    await accepted(
        stripe,
        event("invoice.voided", invoice(voided_id, customer_id, status="void", voided_at=NOW)),
    )
    await accepted(
        stripe,
        event(
            "invoice.marked_uncollectible",
            invoice(lost_id, customer_id, status="uncollectible", marked_uncollectible_at=NOW),
        ),
    )
    await accepted(
        stripe,
        event(
            "invoice.payment_failed",
            invoice(
                failing_id, customer_id, collection_method="charge_automatically", attempt_count=1
            ),
        ),
    )
    voided = await read(stripe, database, "invoice", voided_id)
    lost = await read(stripe, database, "invoice", lost_id)
    failing = await read(stripe, database, "invoice", failing_id)
    assert [(i["status"], i["open_minor"]) for i in (voided, lost, failing)] == [
        ("voided", 0),
        ("written_off", 0),
        ("open", TOTAL),
    ]
    assert [e["type"] for e in await history(stripe, lost["invoice_id"])] == [
        "billing.invoice.issued",
        "billing.invoice.written_off",
    ]
    # Voided twice (a second event about the same void) records nothing more.
    await accepted(
        stripe,
        event("invoice.voided", invoice(voided_id, customer_id, status="void", voided_at=NOW)),
    )
    assert len(await history(stripe, voided["invoice_id"])) == 2


async def test_a_refused_change_is_kept_as_rejected_and_changes_nothing(
    stripe: httpx.AsyncClient, database: str
):
    customer_id, invoice_id = await a_customer(stripe), stripe_id("in")
    await accepted(
        stripe,
        event(
            "invoice.paid", invoice(invoice_id, customer_id, status="paid", charge=stripe_id("ch"))
        ),
    )
    before = await stored(database)
    voided = event("invoice.voided", invoice(invoice_id, customer_id, status="void"))
    receipt = await accepted(stripe, voided, "rejected")
    assert "money is applied" in receipt["detail"]
    assert (await stored(database))[0] == before[0]
    assert [e["event_id"] for e in await received(stripe, "rejected")] == [voided["id"]]


async def test_an_amount_no_read_model_could_sum_is_rejected_and_stores_nothing(
    stripe: httpx.AsyncClient, database: str
):
    """Webhook amounts skip the HTTP models' caps; the domain holds the line for them."""
    customer_id = await a_customer(stripe)
    before = await stored(database)
    huge = event(
        "invoice.finalized",
        invoice(stripe_id("in"), customer_id, lines=[("Seats", 1, MAX_MINOR)], tax=1),
    )
    receipt = await accepted(stripe, huge, "rejected")
    assert f"largest accepted, {MAX_MINOR}" in receipt["detail"]
    assert (await stored(database))[0] == before[0]


YEAR_9999 = 253_402_214_400  # 9999-12-31T00:00:00Z
YEAR_1 = -62_135_596_800  # 0001-01-01T00:00:00Z


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"due_date": YEAR_9999}, "data.object.due_date"),
        ({"finalized_at": YEAR_1}, "data.object.status_transitions.finalized_at"),
        ({"finalized_at": 10**15}, "data.object.status_transitions.finalized_at"),
        ({"due_date": -(10**15)}, "data.object.due_date"),
        (
            {"status": "paid", "charge": "ch_far", "paid_at": YEAR_9999},
            "data.object.status_transitions.paid_at",
        ),
    ],
)
async def test_a_timestamp_outside_the_business_dates_is_rejected_and_books_nothing(
    stripe: httpx.AsyncClient, database: str, fields: dict[str, Any], named: str
):
    """A Stripe date the platform could not book (or no calendar holds) is the object's fault:
    kept as rejected with the field named, never a 500 and never an event."""
    customer_id, invoice_id = await a_customer(stripe), stripe_id("in")
    before = await stored(database)
    kind = "invoice.paid" if fields.get("status") == "paid" else "invoice.finalized"
    if kind == "invoice.paid":
        await accepted(stripe, event("invoice.finalized", invoice(invoice_id, customer_id)))
        before = await stored(database)
    far = event(kind, invoice(invoice_id, customer_id, **fields))
    receipt = await accepted(stripe, far, "rejected")
    assert named in receipt["detail"]
    assert (await stored(database))[0] == before[0]


async def test_an_event_created_on_no_calendar_day_is_not_a_stripe_event(
    stripe: httpx.AsyncClient, database: str
):
    payload = encode(event("customer.created", customer(stripe_id("cus")), created=10**15))
    response = await stripe.post(
        "/v1/webhooks/stripe", content=payload, headers={"Stripe-Signature": sign(payload, SECRET)}
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == "body.created"
    assert await stored(database) == (0, 0)


async def test_credit_notes_before_payment_credit_the_invoice(
    stripe: httpx.AsyncClient, database: str
):
    customer_id, invoice_id = await a_customer(stripe), stripe_id("in")
    await accepted(stripe, event("invoice.finalized", invoice(invoice_id, customer_id)))
    await accepted(
        stripe, event("credit_note.created", credit_note(invoice_id, customer_id, amount=5_000))
    )
    receipt = await accepted(
        stripe,
        event(
            "credit_note.created",
            credit_note(invoice_id, customer_id, amount=1_000, type_="post_payment"),
        ),
        "ignored",
    )
    assert "after payment" in receipt["detail"]
    found = await read(stripe, database, "invoice", invoice_id)
    assert found["open_minor"] == TOTAL - 5_000
    adjusted = (await history(stripe, found["invoice_id"]))[-1]
    assert (adjusted["type"], adjusted["data"]["kind"], adjusted["data"]["reason_code"]) == (
        "billing.invoice.adjusted",
        "credit",
        "product_unsatisfactory",
    )


async def test_a_full_refund_returns_the_payment_and_a_dispute_charges_back(
    stripe: httpx.AsyncClient, database: str
):
    customer_id = await a_customer(stripe)
    refunded_invoice, refunded_charge = stripe_id("in"), stripe_id("ch")
    disputed_invoice, disputed_charge = stripe_id("in"), stripe_id("ch")
    for invoice_id, charge_id in (
        (refunded_invoice, refunded_charge),
        (disputed_invoice, disputed_charge),
    ):
        await accepted(
            stripe,
            event(
                "invoice.paid", invoice(invoice_id, customer_id, status="paid", charge=charge_id)
            ),
        )

    partial = await accepted(
        stripe,
        event(
            "charge.refunded",
            charge(
                refunded_charge,
                customer_id,
                amount=TOTAL,
                invoice_id=refunded_invoice,
                amount_refunded=1_000,
            ),
        ),
        "ignored",
    )
    assert "partial refund" in partial["detail"]
    await accepted(
        stripe,
        event(
            "charge.refunded",
            charge(
                refunded_charge,
                customer_id,
                amount=TOTAL,
                invoice_id=refunded_invoice,
                amount_refunded=TOTAL,
            ),
        ),
    )
    await accepted(stripe, event("charge.dispute.created", dispute(disputed_charge, amount=TOTAL)))

    disputed = await read(stripe, database, "invoice", disputed_invoice)
    assert (disputed["status"], disputed["open_minor"]) == ("open", TOTAL)
    reversal = (await history(stripe, disputed["invoice_id"]))[-1]
    assert (reversal["type"], reversal["data"]["reason"]) == (
        "billing.payment.reversed",
        "chargeback",
    )
    # A refund is the merchant's own doing: the money went back and nothing is chased.
    refunded = await read(stripe, database, "invoice", refunded_invoice)
    assert (refunded["status"], refunded["open_minor"]) == ("paid", 0)
    trail = await history(stripe, refunded["invoice_id"])
    assert [
        (e["type"], e["data"].get("reason"), e["data"].get("reason_code")) for e in trail[-2:]
    ] == [
        ("billing.payment.reversed", "returned", None),
        ("billing.invoice.adjusted", None, "refunded"),
    ]
    for charge_id in (refunded_charge, disputed_charge):
        assert (await read(stripe, database, "payment", charge_id))["reversed"] is True


async def test_a_dispute_on_an_unknown_charge_waits_for_its_payment(
    stripe: httpx.AsyncClient, database: str
):
    customer_id, invoice_id, charge_id = await a_customer(stripe), stripe_id("in"), stripe_id("ch")
    disputed = event("charge.dispute.created", dispute(charge_id, amount=TOTAL))
    await accepted(stripe, disputed, "parked")
    await accepted(
        stripe,
        event("invoice.paid", invoice(invoice_id, customer_id, status="paid", charge=charge_id)),
    )
    assert (await read(stripe, database, "payment", charge_id))["reversed"] is True
    assert (await read(stripe, database, "invoice", invoice_id))["open_minor"] == TOTAL
    # A charge that pays no invoice is none of ours.
    await accepted(
        stripe,
        event(
            "charge.refunded",
            charge(stripe_id("ch"), customer_id, amount=500, invoice_id=None, amount_refunded=500),
        ),
        "ignored",
    )


async def test_a_dispute_naming_a_payment_intent_waits_on_it_and_finds_the_charge(
    stripe: httpx.AsyncClient, database: str
):
    """A payment answers to its charge and its PaymentIntent, whichever a later event names."""
    customer_id, invoice_id = await a_customer(stripe), stripe_id("in")
    charge_id, intent = stripe_id("ch"), stripe_id("pi")
    disputed = event(
        "charge.dispute.created", dispute(charge_id, amount=TOTAL, payment_intent=intent)
    )
    await accepted(stripe, disputed, "parked")
    assert [p["waiting_for"] for p in await received(stripe, "parked")] == [f"payment:{intent}"]
    await accepted(
        stripe,
        event(
            "invoice.paid",
            invoice(
                invoice_id, customer_id, status="paid", charge=charge_id, payment_intent=intent
            ),
        ),
    )
    assert await received(stripe, "parked") == []
    assert (await read(stripe, database, "payment", intent))["reversed"] is True
    assert (await read(stripe, database, "payment", charge_id))["reversed"] is True


async def test_autopay_follows_the_default_payment_method_and_collection_method(
    stripe: httpx.AsyncClient, database: str
):
    customer_id = await a_customer(stripe)
    assert (await read(stripe, database, "account", customer_id))["autopay"]["enrolled"] is False

    await accepted(
        stripe,
        event(
            "customer.updated",
            customer(customer_id, default_payment_method="pm_1PgKq2LkdIwHu7ixQf8bHn3R"),
            created=NOW + 1,
            previous_attributes={"invoice_settings": {"default_payment_method": None}},
        ),
    )
    autopay = (await read(stripe, database, "account", customer_id))["autopay"]
    assert (
        autopay["enrolled"],
        autopay["payment_method_reference"],
        autopay["payment_method_type"],
    ) == (True, "pm_1PgKq2LkdIwHu7ixQf8bHn3R", "payment_method")

    await accepted(
        stripe,
        event(
            "customer.subscription.updated",
            subscription(customer_id, collection_method="send_invoice"),
            created=NOW + 2,
        ),
    )
    assert (await read(stripe, database, "account", customer_id))["autopay"]["enrolled"] is False

    await accepted(
        stripe,
        event(
            "customer.subscription.created",
            subscription(
                customer_id,
                collection_method="charge_automatically",
                default_payment_method="pm_1PgKz9LkdIwHu7ixSepaDebit",
            ),
            created=NOW + 3,
        ),
    )
    assert (await read(stripe, database, "account", customer_id))["autopay"][
        "payment_method_reference"
    ] == "pm_1PgKz9LkdIwHu7ixSepaDebit"

    await accepted(
        stripe,
        event(
            "customer.updated",
            customer(customer_id),
            created=NOW + 4,
            previous_attributes={
                "invoice_settings": {"default_payment_method": "pm_1PgKz9LkdIwHu7ixSepaDebit"}
            },
        ),
    )
    account = await read(stripe, database, "account", customer_id)
    assert account["autopay"]["enrolled"] is False
    # no card digits anywhere (the account id is random hex: any four digits may be in it)
    assert "4242" not in str({k: v for k, v in account.items() if k != "account_id"})


async def test_unknown_event_types_are_answered_and_ignored(
    stripe: httpx.AsyncClient, database: str
):
    body = event("payment_intent.created", {"id": stripe_id("pi"), "object": "payment_intent"})
    receipt = await accepted(stripe, body, "ignored")
    assert "not an event this connector maps" in receipt["detail"]
    assert await stored(database) == (0, 1)
