"""Stripe's current API versions (2025-03-31.basil and later) through the real webhook.

Payloads are built from Stripe's published fixtures (`tests/stripe_fixtures/`,
through `stripe_samples.basil_*`). In these versions an invoice no longer
names the charge that paid it and a charge no longer names its invoice:
`invoice_payment.paid` is what links them. Each test reads back what the
connector did through the billing adapter's own read APIs.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from billing_adapter.service_layer.stripe_connector import Mapping, sweep_parked_forever
from billing_adapter.stripe_samples import (
    NOW,
    basil_charge,
    basil_credit_note,
    basil_dispute,
    basil_event,
    basil_invoice,
    basil_invoice_payment,
    stripe_id,
)
from billing_adapter.stripe_testing import (
    READ,
    a_customer,
    accepted,
    deliver,
    history,
    internal_id,
    metric,
    read,
    received,
)

AMOUNT = 11_000  # a basil sample invoice: one line, no tax


async def paid_invoice(
    stripe: httpx.AsyncClient,
    customer_id: str,
    **fields: Any,
) -> tuple[str, str, str]:
    """(invoice, charge, PaymentIntent) of an invoice paid as basil tells it: two events."""
    invoice_id, charge_id, intent = stripe_id("in"), stripe_id("ch"), stripe_id("pi")
    paid = basil_invoice(invoice_id, customer_id, status="paid", **fields)
    await accepted(stripe, basil_event("invoice.paid", paid))
    if paid["amount_paid"]:
        await accepted(
            stripe,
            basil_event(
                "invoice_payment.paid",
                basil_invoice_payment(
                    invoice_id, amount=paid["amount_paid"], payment_intent=intent
                ),
            ),
        )
    return invoice_id, charge_id, intent


async def paid_once(stripe: httpx.AsyncClient, database: str, invoice_id: str, intent: str) -> None:
    """The invoice paid by one payment, known by its PaymentIntent, with nothing left over."""
    found = await read(stripe, database, "invoice", invoice_id)
    assert (found["status"], found["open_minor"]) == ("paid", 0)
    payment = await read(stripe, database, "payment", intent)
    assert (payment["amount_minor"], payment["unapplied_minor"]) == (AMOUNT, 0)
    assert [e["type"] for e in await history(stripe, found["invoice_id"])] == [
        "billing.invoice.issued",
        "billing.payment.applied",
    ]


async def test_a_refund_finds_the_payment_its_invoice_payment_linked(
    stripe: httpx.AsyncClient, database: str
):
    customer_id = await a_customer(stripe)
    invoice_id, charge_id, intent = await paid_invoice(stripe, customer_id)
    # invoice.paid did not know who paid, invoice_payment.paid linked it
    await paid_once(stripe, database, invoice_id, intent)

    await accepted(
        stripe,
        basil_event(
            "charge.refunded",
            basil_charge(
                charge_id, customer_id, amount=AMOUNT, payment_intent=intent, amount_refunded=AMOUNT
            ),
        ),
    )
    assert (await read(stripe, database, "payment", intent))["reversed"] is True
    refunded = await read(stripe, database, "invoice", invoice_id)
    assert (refunded["status"], refunded["open_minor"]) == ("paid", 0)  # nobody chases it


async def test_the_invoice_payment_first_then_the_invoice_books_the_money_once(
    stripe: httpx.AsyncClient, database: str
):
    customer_id, invoice_id, intent = await a_customer(stripe), stripe_id("in"), stripe_id("pi")
    early = basil_event(
        "invoice_payment.paid",
        basil_invoice_payment(invoice_id, amount=AMOUNT, payment_intent=intent),
    )
    assert "not known yet" in (await accepted(stripe, early, "parked"))["detail"]
    await accepted(
        stripe, basil_event("invoice.paid", basil_invoice(invoice_id, customer_id, status="paid"))
    )
    await paid_once(stripe, database, invoice_id, intent)


async def test_a_dispute_parked_on_its_payment_intent_applies_once_the_payment_is_linked(
    stripe: httpx.AsyncClient, database: str
):
    customer_id, invoice_id = await a_customer(stripe), stripe_id("in")
    charge_id, intent = stripe_id("ch"), stripe_id("pi")
    disputed = basil_event(
        "charge.dispute.created", basil_dispute(charge_id, amount=AMOUNT, payment_intent=intent)
    )
    await accepted(stripe, disputed, "parked")
    assert [p["waiting_for"] for p in await received(stripe, "parked")] == [f"payment:{intent}"]
    await accepted(
        stripe, basil_event("invoice.paid", basil_invoice(invoice_id, customer_id, status="paid"))
    )
    await accepted(
        stripe,
        basil_event(
            "invoice_payment.paid",
            basil_invoice_payment(invoice_id, amount=AMOUNT, payment_intent=intent),
        ),
    )
    assert await received(stripe, "parked") == []
    assert (await read(stripe, database, "payment", intent))["reversed"] is True
    owed = await read(stripe, database, "invoice", invoice_id)
    assert (owed["status"], owed["open_minor"]) == ("open", AMOUNT)  # charged back: owed again


async def test_a_refund_of_a_charge_that_paid_no_invoice_is_given_up_and_the_gauge_clears(
    stripe: httpx.AsyncClient, database: str
):
    customer_id = await a_customer(stripe)
    charge_id, intent = stripe_id("ch"), stripe_id("pi")
    refund = basil_event(
        "charge.refunded",
        basil_charge(
            charge_id, customer_id, amount=500, payment_intent=intent, amount_refunded=500
        ),
    )
    await accepted(stripe, refund, "parked")
    gauge = 'stripe_webhook_parked_events{waiting_for="payment"}'
    assert await metric(stripe, gauge) == 1
    assert (await stripe.post("/v1/webhooks/stripe/events/replay", headers=READ)).json() == {
        "replayed": 0
    }
    assert [p["event_id"] for p in await received(stripe, "parked")] == [refund["id"]]

    conn = await asyncpg.connect(database)  # three days and more go by
    try:
        await conn.execute(
            "UPDATE stripe_events SET received_at = received_at - interval "
            "'73 hours' WHERE event_id = $1",
            refund["id"],
        )
    finally:
        await conn.close()
    await stripe.post("/v1/webhooks/stripe/events/replay", headers=READ)
    assert await received(stripe, "parked") == []
    [given_up] = [e for e in await received(stripe, "ignored") if e["event_id"] == refund["id"]]
    assert given_up["detail"].startswith("gave up waiting")
    assert f"payment {intent} never became known" in given_up["detail"]
    assert await metric(stripe, gauge) == 0


async def test_a_voided_credit_note_is_owed_again_in_either_order(
    stripe: httpx.AsyncClient, database: str
):
    customer_id, invoice_id = await a_customer(stripe), stripe_id("in")
    await accepted(stripe, basil_event("invoice.finalized", basil_invoice(invoice_id, customer_id)))
    note = basil_credit_note(invoice_id, customer_id, pre_payment=2_000)
    await accepted(stripe, basil_event("credit_note.created", note))
    assert (await read(stripe, database, "invoice", invoice_id))["open_minor"] == AMOUNT - 2_000
    await accepted(
        stripe, basil_event("credit_note.voided", {**note, "status": "void", "voided_at": NOW})
    )
    found = await read(stripe, database, "invoice", invoice_id)
    assert found["open_minor"] == AMOUNT
    last = (await history(stripe, found["invoice_id"]))[-1]
    assert (last["type"], last["data"]["kind"], last["data"]["reason_code"]) == (
        "billing.invoice.adjusted",
        "debit",
        "credit_note_voided",
    )

    # the void arriving before the note waits for it, then takes it back
    later = basil_credit_note(invoice_id, customer_id, pre_payment=1_000)
    await accepted(stripe, basil_event("credit_note.voided", {**later, "status": "void"}), "parked")
    await accepted(stripe, basil_event("credit_note.created", later))
    assert await received(stripe, "parked") == []
    assert (await read(stripe, database, "invoice", invoice_id))["open_minor"] == AMOUNT

    # a note credited only after payment was never booked: its void changes nothing
    refund_only = basil_credit_note(invoice_id, customer_id, pre_payment=0, post_payment=500)
    await accepted(stripe, basil_event("credit_note.voided", refund_only), "ignored")


async def test_the_customer_balance_pays_or_adds_to_an_invoice(
    stripe: httpx.AsyncClient, database: str
):
    customer_id = await a_customer(stripe)
    partly, _, partly_intent = await paid_invoice(stripe, customer_id, starting_balance=-5_000)
    wholly, _, _ = await paid_invoice(stripe, customer_id, starting_balance=-20_000)
    carried, _, carried_intent = await paid_invoice(stripe, customer_id, starting_balance=3_000)
    for invoice_id in (partly, wholly, carried):
        found = await read(stripe, database, "invoice", invoice_id)
        assert (found["status"], found["open_minor"]) == ("paid", 0), found
    assert (await read(stripe, database, "payment", partly_intent))["amount_minor"] == 6_000
    carried_payment = await read(stripe, database, "payment", carried_intent)
    assert (carried_payment["amount_minor"], carried_payment["unapplied_minor"]) == (14_000, 0)
    account = await read(stripe, database, "account", customer_id)
    assert sum(c["amount_minor"] for c in account["credit"]) == 0, account  # no fake credit
    trail = await history(stripe, (await read(stripe, database, "invoice", carried))["invoice_id"])
    assert [
        (e["data"].get("kind"), e["data"].get("reason_code"))
        for e in trail
        if e["type"] == "billing.invoice.adjusted"
    ] == [("debit", "stripe_customer_balance")]


async def test_an_invoice_paid_after_it_was_marked_uncollectible_is_paid(
    stripe: httpx.AsyncClient, database: str
):
    customer_id, invoice_id, intent = await a_customer(stripe), stripe_id("in"), stripe_id("pi")
    await accepted(
        stripe,
        basil_event(
            "invoice.marked_uncollectible",
            basil_invoice(
                invoice_id, customer_id, status="uncollectible", marked_uncollectible_at=NOW - 60
            ),
        ),
    )
    assert (await read(stripe, database, "invoice", invoice_id))["status"] == "written_off"
    await accepted(
        stripe,
        basil_event(
            "invoice.paid",
            basil_invoice(invoice_id, customer_id, status="paid", marked_uncollectible_at=NOW - 60),
        ),
    )
    await accepted(
        stripe,
        basil_event(
            "invoice_payment.paid",
            basil_invoice_payment(invoice_id, amount=AMOUNT, payment_intent=intent),
        ),
    )
    found = await read(stripe, database, "invoice", invoice_id)
    assert (found["status"], found["open_minor"]) == ("paid", 0)
    assert (await read(stripe, database, "payment", intent))["unapplied_minor"] == 0


async def test_invoice_paid_and_its_invoice_payment_at_once_book_the_money_once(
    stripe: httpx.AsyncClient, database: str
):
    """Stripe sends both within milliseconds; neither may book what the other is booking."""
    customer_id = await a_customer(stripe)
    for _ in range(3):
        invoice_id, intent = stripe_id("in"), stripe_id("pi")
        await accepted(
            stripe, basil_event("invoice.finalized", basil_invoice(invoice_id, customer_id))
        )
        both = [
            basil_event("invoice.paid", basil_invoice(invoice_id, customer_id, status="paid")),
            basil_event(
                "invoice_payment.paid",
                basil_invoice_payment(invoice_id, amount=AMOUNT, payment_intent=intent),
            ),
        ]
        responses = await asyncio.gather(*(deliver(stripe, body) for body in both))
        assert [r.json()["outcome"] for r in responses] == ["applied", "applied"]
        assert (await read(stripe, database, "payment", intent))["unapplied_minor"] == 0
    account = await read(stripe, database, "account", customer_id)
    assert sum(c["amount_minor"] for c in account["credit"]) == 0, account


async def test_a_full_refund_after_a_post_payment_credit_note_reopens_nothing(
    stripe: httpx.AsyncClient, database: str
):
    """3,000 credited and refunded after payment, then the rest: never owed more than net."""
    customer_id = await a_customer(stripe)
    invoice_id, charge_id, intent = await paid_invoice(stripe, customer_id)
    note = basil_credit_note(invoice_id, customer_id, pre_payment=0, post_payment=3_000)
    await accepted(stripe, basil_event("credit_note.created", note), "ignored")
    await accepted(
        stripe,
        basil_event(
            "charge.refunded",
            basil_charge(
                charge_id, customer_id, amount=AMOUNT, payment_intent=intent, amount_refunded=3_000
            ),
        ),
        "ignored",
    )
    await accepted(
        stripe,
        basil_event(
            "charge.refunded",
            basil_charge(
                charge_id, customer_id, amount=AMOUNT, payment_intent=intent, amount_refunded=AMOUNT
            ),
        ),
    )
    found = await read(stripe, database, "invoice", invoice_id)
    assert found["open_minor"] <= AMOUNT - 3_000
    assert (found["status"], found["open_minor"]) == ("paid", 0)


async def test_a_dispute_after_a_partial_refund_reopens_only_what_was_disputed(
    stripe: httpx.AsyncClient, database: str
):
    customer_id = await a_customer(stripe)
    invoice_id, charge_id, intent = await paid_invoice(stripe, customer_id)
    await accepted(
        stripe,
        basil_event(
            "charge.refunded",
            basil_charge(
                charge_id, customer_id, amount=AMOUNT, payment_intent=intent, amount_refunded=4_000
            ),
        ),
        "ignored",
    )
    await accepted(
        stripe,
        basil_event(
            "charge.dispute.created",
            basil_dispute(charge_id, amount=AMOUNT - 4_000, payment_intent=intent),
        ),
    )
    found = await read(stripe, database, "invoice", invoice_id)
    assert (found["status"], found["open_minor"]) == ("open", AMOUNT - 4_000)


async def test_the_background_sweep_gives_up_what_waited_too_long_without_a_delivery(
    stripe: httpx.AsyncClient, database: str
):
    dispute = basil_event(
        "charge.dispute.created",
        basil_dispute(stripe_id("ch"), amount=500, payment_intent=stripe_id("pi")),
    )
    await accepted(stripe, dispute, "parked")
    pool = await asyncpg.create_pool(database, min_size=1, max_size=2)
    try:
        sweep = asyncio.create_task(
            sweep_parked_forever(
                pool, Mapping(parked_ttl=timedelta(hours=1)), every=timedelta(seconds=0.2)
            )
        )
        try:
            await asyncio.sleep(0.5)
            assert [p["event_id"] for p in await received(stripe, "parked")] == [dispute["id"]]
            await pool.execute(
                "UPDATE stripe_events SET received_at = received_at - interval "
                "'2 hours' WHERE event_id = $1",
                dispute["id"],
            )
            async with asyncio.timeout(10):
                while await received(stripe, "parked"):
                    await asyncio.sleep(0.2)
        finally:
            sweep.cancel()
    finally:
        await pool.close()
    assert dispute["id"] in {e["event_id"] for e in await received(stripe, "ignored")}


async def test_signed_objects_of_the_wrong_shape_are_rejected_not_failed(
    stripe: httpx.AsyncClient, database: str
):
    """Signed, so stored with the reason; never a 500, which Stripe would retry for days."""
    customer_id, invoice_id = await a_customer(stripe), stripe_id("in")
    await accepted(stripe, basil_event("invoice.finalized", basil_invoice(invoice_id, customer_id)))
    odd = [
        basil_event(
            "invoice_payment.paid",
            {
                **basil_invoice_payment(invoice_id, amount=AMOUNT, payment_intent=stripe_id("pi")),
                "payment": "pi_1",
            },
        ),
        basil_event(
            "invoice.paid",
            {**basil_invoice(stripe_id("in"), customer_id, status="paid"), "lines": ["il_1"]},
        ),
        basil_event(
            "invoice.voided",
            {
                **basil_invoice(invoice_id, customer_id, status="void"),
                "status_transitions": "voided",
            },
        ),
    ]
    for body in odd:
        receipt = await accepted(stripe, body, "rejected")
        assert "cannot be read" in receipt["detail"]
    assert (await read(stripe, database, "invoice", invoice_id))["open_minor"] == AMOUNT


async def test_a_timestamp_that_is_not_unix_seconds_is_rejected_naming_its_field(
    stripe: httpx.AsyncClient, database: str
):
    """Not read with int(): "x" was refused naming no field, true and 1.5 became 1970."""
    customer_id = await a_customer(stripe)
    for field, value in (
        ("finalized_at", "x"),
        ("finalized_at", True),
        ("finalized_at", 1.5),
        ("finalized_at", "1764900000"),
        ("due_date", "x"),
        ("due_date", 1.5e9),
    ):
        invoice_id = stripe_id("in")
        invoice = basil_invoice(invoice_id, customer_id)
        if field == "due_date":
            invoice["due_date"] = value
        else:
            invoice["status_transitions"]["finalized_at"] = value
        receipt = await accepted(stripe, basil_event("invoice.finalized", invoice), "rejected")
        assert (
            f"data.object.{'status_transitions.' if field != 'due_date' else ''}{field} "
            "must be Unix seconds" in receipt["detail"]
        ), (value, receipt["detail"])
        assert await internal_id(database, "invoice", invoice_id) is None
