"""Story: a collector sends a pay link, the customer pays through it, and the promise is kept.

The account is past due and on the collector's worklist; the customer
promises on the call, and the collector asks billing for a pay link (a Stripe
Checkout Session, made at stripe-mock). Stripe then tells billing through the
signed webhook that the session was paid (stripe-mock sends no webhooks, so
the test posts the event Stripe would send for that session); billing books
the money against the invoice, and collections judges the promise kept from
billing's events. Everything through the services' public APIs.
"""

from datetime import date, timedelta
from typing import Any

import httpx

from billing_adapter.stripe_samples import checkout_session_completed, encode, sign
from billing_adapter.stripe_testing import API_KEY
from receivables_devkit.testing.stories import Stories, eventually, unique
from receivables_devkit.testing.system import RunningSystem

OWED = 84_000


async def stripe_session(system: RunningSystem, session_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(
        base_url=system.env["STRIPE_API_BASE"], headers={"Authorization": f"Bearer {API_KEY}"}
    ) as api:
        seen = await api.get(f"/v1/checkout/sessions/{session_id}")
    assert seen.status_code == 200, seen.text
    return dict(seen.json())


async def past_due_task(s: Stories, name: str, collector: str) -> tuple[str, str, dict[str, Any]]:
    """An account owing OWED, 15 days late, and the task the day's cadence gave its collector."""
    today = date.today()
    segment = await s.segment_with_calls(1, 15)
    account_id = await s.account(name, "USD", segment=segment)
    invoice_id = await s.invoice(
        account_id, OWED, issued=today - timedelta(days=45), due=today - timedelta(days=15)
    )
    await s.assign(account_id, collector, invoices=1)
    [task] = await s.tasks_for(account_id, collector, await s.business_day_on_or_before(today))
    return account_id, invoice_id, task


async def test_a_pay_link_paid_through_stripe_pays_the_invoice_and_keeps_the_promise(
    system: RunningSystem,
):
    today = date.today()
    collector = unique("collector")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id, invoice_id, task = await past_due_task(s, "Paylink Ltd", collector)
        call = await s.create(
            "collections-service",
            "/v1/contacts/calls",
            {
                "account_id": account_id,
                "outcome": "reached_promised",
                "task_id": task["task_id"],
                "invoice_ids": [invoice_id],
            },
            roles=("collector",),
            sub=collector,
        )
        promise = await s.create(
            "collections-service",
            "/v1/commitments",
            {
                "account_id": account_id,
                "amount_minor": OWED,
                "currency": "USD",
                "promised_date": (today + timedelta(days=2)).isoformat(),
                "invoice_ids": [invoice_id],
                "contact_id": call["contact_id"],
            },
            roles=("collector",),
            sub=collector,
        )

        link = await s.create(
            "billing-adapter",
            f"/v1/accounts/{account_id}/pay-links",
            {},
            roles=("collector",),
            sub=collector,
        )
        assert link["provider"] == "stripe" and link["url"].startswith("https://")
        assert link["invoice_ids"] == [invoice_id] and link["amount_minor"] == OWED

        session = await stripe_session(system, link["provider_reference"])
        payload = encode(checkout_session_completed(session, link))
        receipt = await http.post(
            s.url("billing-adapter", "/v1/webhooks/stripe"),
            content=payload,
            headers={
                "Stripe-Signature": sign(payload, system.env["STRIPE_WEBHOOK_SECRET"]),
                "Content-Type": "application/json",
            },
        )
        assert receipt.status_code == 200 and receipt.json()["outcome"] == "applied", receipt.text

        invoice = await s.get("billing-adapter", f"/v1/invoices/{invoice_id}")
        assert invoice["status"] == "paid" and invoice["open_minor"] == 0

        async def judged() -> dict[str, Any] | None:
            seen = await s.get("collections-service", f"/v1/commitments/{promise['commitment_id']}")
            return seen if seen["status"] != "open" else None

        kept = await eventually(judged, what="promise judged after the pay link was paid")
        assert kept["status"] == "kept" and kept["paid_minor"] == OWED


async def test_a_task_hands_out_billing_s_pay_link_and_an_offer_its_enrolment_link(
    system: RunningSystem,
):
    """Collections asks billing over HTTP with its own credentials: the link is billing's
    (a Stripe session for the open invoices), the same on a second ask that day."""
    collector = unique("collector")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id, invoice_id, task = await past_due_task(s, "Linkable Ltd", collector)

        asked = await s.send(
            "POST",
            "collections-service",
            f"/v1/tasks/{task['task_id']}/pay-link",
            roles=("collector",),
            sub=collector,
        )
        assert asked.status_code == 200, asked.text
        link = asked.json()
        assert (link["account_id"], link["purpose"], link["provider"]) == (
            account_id,
            "payment",
            "stripe",
        )
        made = await s.get(
            "billing-adapter", f"/v1/accounts/{account_id}/pay-links/{link['pay_link_id']}"
        )
        assert made["url"] == link["url"] and made["invoice_ids"] == [invoice_id]
        assert made["amount_minor"] == OWED
        again = await s.send(
            "POST",
            "collections-service",
            f"/v1/tasks/{task['task_id']}/pay-link",
            roles=("collector",),
            sub=collector,
        )
        assert again.json()["pay_link_id"] == link["pay_link_id"]
        other = await s.send(
            "POST",
            "collections-service",
            f"/v1/tasks/{task['task_id']}/pay-link",
            roles=("collector",),
            sub=unique("collector"),
        )
        assert other.status_code == 403, other.text

        offer = await s.create(
            "collections-service",
            "/v1/autopay/offers",
            {"account_id": account_id, "channel": "call"},
            roles=("collector",),
            sub=collector,
        )
        enrol = await s.send(
            "POST",
            "collections-service",
            f"/v1/autopay/offers/{offer['offer_id']}/enrolment-link",
            roles=("collector",),
            sub=collector,
        )
        assert enrol.status_code == 200, enrol.text
        enrolment = await s.get(
            "billing-adapter", f"/v1/accounts/{account_id}/pay-links/{enrol.json()['pay_link_id']}"
        )
        assert (enrolment["purpose"], enrolment["amount_minor"]) == ("autopay", 0)
        session = await stripe_session(system, enrolment["provider_reference"])
        assert session["id"] == enrolment["provider_reference"]
