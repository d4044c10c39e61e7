"""Story: a month of Stripe webhooks for a small customer base drives the reports.

Four Stripe customers (one segment of their own) and a month of signed
webhook deliveries: invoices finalised on different days, one paid late,
one left unpaid past its due date, one credited by a credit note before it
is due, and one customer on auto-pay whose invoice is charged at once. The
collector who works the segment is given the accounts. Reporting then
answers the aging as of today and as of three weeks ago, the account
summaries and the collector's AR and auto-pay KPIs for the month, each
figure worked out by hand from the stream below.

A second story does the same month for a customer whose Stripe account runs
a current API version (2025-03-31.basil and later), with its payloads built
from Stripe's published fixtures: an invoice partly paid from the
customer's Stripe credit, one paid (told by `invoice_payment.paid`) and then
refunded, and one whose credit note was voided.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx

from billing_adapter.stripe_samples import (
    basil_charge,
    basil_credit_note,
    basil_event,
    basil_invoice,
    basil_invoice_payment,
    credit_note,
    customer,
    encode,
    event,
    invoice,
    sign,
    stripe_id,
)
from receivables_devkit.testing.stories import PAYMENT_METHOD, Stories, kpi_group, unique
from receivables_devkit.testing.system import RunningSystem

BILLED = 11_000  # every invoice: 4 seats for 10 000 plus 1 000 tax
CREDITED = 5_000


def at(day: date) -> int:
    """Noon UTC of the day, as a Stripe timestamp."""
    return int(datetime.combine(day, time(12), tzinfo=UTC).timestamp())


def month_of_webhooks(today: date, segment: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The customers by letter, and their month of events in the order Stripe sent them."""

    def ago(days: int) -> int:
        return at(today - timedelta(days=days))

    who = {letter: stripe_id("cus") for letter in "ABCD"}
    a, b, c, d = (stripe_id("in") for _ in range(4))
    charge_a, charge_d = stripe_id("ch"), stripe_id("ch")
    meta = {"segment": segment}
    note = credit_note(c, who["C"], amount=CREDITED)
    note["effective_at"] = note["created"] = ago(15)
    stream = [
        event(
            "customer.created",
            customer(
                who[x],
                name=f"Stripe {x} Ltd",
                email=f"{x.lower()}-{who[x]}@stripe.test",
                metadata=meta,
            ),
            created=ago(45),
        )
        for x in "ABC"
    ]
    stream += [
        event(
            "customer.created",
            customer(
                who["D"],
                name="Stripe D Ltd",
                metadata=meta,
                email=f"d-{who['D']}@stripe.test",
                default_payment_method=PAYMENT_METHOD,
            ),
            created=ago(25),
        ),
        event(
            "invoice.finalized",
            invoice(a, who["A"], finalized_at=ago(40), due_date=ago(10)),
            created=ago(40),
        ),
        event(
            "invoice.finalized",
            invoice(b, who["B"], finalized_at=ago(35), due_date=ago(5)),
            created=ago(35),
        ),
        event(
            "invoice.finalized",
            invoice(c, who["C"], finalized_at=ago(20), due_date=at(today + timedelta(days=10))),
            created=ago(20),
        ),
        event("credit_note.created", note, created=ago(15)),
        event(
            "invoice.paid",
            invoice(
                d,
                who["D"],
                status="paid",
                finalized_at=ago(12),
                collection_method="charge_automatically",
                charge=charge_d,
                paid_at=ago(12),
            ),
            created=ago(12),
        ),
        event(
            "invoice.paid",
            invoice(
                a,
                who["A"],
                status="paid",
                finalized_at=ago(40),
                due_date=ago(10),
                charge=charge_a,
                paid_at=ago(5),
            ),
            created=ago(5),
        ),
    ]
    return who, stream


async def delivered(
    system: RunningSystem, http: httpx.AsyncClient, delivery: dict[str, Any]
) -> dict[str, Any]:
    """The receipt of one signed delivery, which must have been applied."""
    payload = encode(delivery)
    receipt = await http.post(
        f"{system.url('billing-adapter')}/v1/webhooks/stripe",
        content=payload,
        headers={
            "Stripe-Signature": sign(payload, system.env["STRIPE_WEBHOOK_SECRET"]),
            "Content-Type": "application/json",
        },
    )
    assert receipt.status_code == 200, receipt.text
    assert receipt.json()["outcome"] == "applied", receipt.text
    return dict(receipt.json())


async def test_a_month_of_stripe_webhooks_drives_aging_and_kpis(system: RunningSystem):
    today = date.today()
    collector = unique("collector")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        segment = unique("stripe")
        who, stream = month_of_webhooks(today, segment)
        accounts: dict[str, str] = {}
        for delivery in stream:
            receipt = await delivered(system, http, delivery)
            if delivery["type"] == "customer.created":  # the receipt names the account
                stripe_customer = delivery["data"]["object"]["id"]
                accounts[stripe_customer] = receipt["detail"].removeprefix("account ")

        # three weeks ago A, B and C each owed a whole invoice, none yet due
        month_ago = await s.reported(
            "/v1/aging",
            lambda a: len(a["rows"]) == 3,
            what="Stripe invoices in the aging",
            segment=segment,
            as_of=(today - timedelta(days=20)).isoformat(),
        )
        assert {r["account_id"] for r in month_ago["rows"]} == {accounts[who[x]] for x in "ABC"}
        assert [(r["total_minor"], r["buckets"]["current"]) for r in month_ago["rows"]] == [
            (BILLED, BILLED)
        ] * 3

        # A's payment and C's credit note are on different partitions: wait for both
        now = await s.reported(
            "/v1/aging",
            lambda a: (
                len(a["rows"]) == 2
                and sum(r["total_minor"] for r in a["rows"]) == 2 * BILLED - CREDITED
            ),
            what="paid invoices out of the aging, the credit note in it",
            segment=segment,
            as_of=today.isoformat(),
        )
        owed = {r["account_id"]: r for r in now["rows"]}
        assert set(owed) == {accounts[who["B"]], accounts[who["C"]]}
        assert owed[accounts[who["B"]]]["buckets"]["1-30"] == BILLED
        assert owed[accounts[who["C"]]]["buckets"]["current"] == BILLED - CREDITED
        assert sum(r["total_minor"] for r in now["rows"]) == 2 * BILLED - CREDITED

        for account_id in accounts.values():
            await s.assign(account_id, collector)

        month = {"from": (today - timedelta(days=30)).isoformat(), "to": today.isoformat()}

        def settled(k: dict[str, Any]) -> bool:
            """Four accounts and both invoices issued in the month projected: D's invoice
            comes after D's account in its partition, so the accounts alone can be seen
            before it."""
            group = kpi_group(k, collector)
            return (
                group["autopay"]["accounts_at_end"] == 4
                and group["ar"]["credit_sales_minor"] == 2 * BILLED
            )

        kpis = await s.reported(
            "/v1/kpis",
            settled,
            what="the collector's four accounts and C's and D's invoices in the KPIs",
            currency="USD",
            group_by="collector",
            **month,
        )
        mine = kpi_group(kpis, collector)
        assert mine["ar"] == {
            "opening_ar_minor": 2 * BILLED,  # A and B, issued before
            "credit_sales_minor": 2 * BILLED,  # C and D, issued in it
            "closing_ar_minor": 2 * BILLED - CREDITED,  # B and C
            "closing_current_ar_minor": BILLED - CREDITED,
        }  # C
        assert mine["autopay"] == {
            "not_on_autopay_at_start": 4,
            "enrolled_in_period": 1,
            "conversion_pct": 25,
            "on_autopay_at_end": 1,
            "accounts_at_end": 4,
            "penetration_pct": 25,
            "offers_converted": 0,
        }
        summary = await s.get("reporting-service", f"/v1/accounts/{accounts[who['C']]}/summary")
        assert summary["collector_id"] == collector and summary["on_autopay"] is False
        [balance] = summary["balances"]
        assert balance["total_minor"] == BILLED - CREDITED


def basil_month(today: date, segment: str) -> list[dict[str, Any]]:
    """One customer's month in the current API version, in the order Stripe sent it.

    - e1, due ten days ago, 5 000 of it paid from the customer's Stripe credit: 6 000 owed;
    - e2, paid twelve days ago and refunded in full three days ago: nothing owed;
    - e3, due five days ago, credited 2 000 and the credit note voided: 11 000 owed.
    """

    def ago(days: int) -> int:
        return at(today - timedelta(days=days))

    who, e1, e2, e3 = stripe_id("cus"), stripe_id("in"), stripe_id("in"), stripe_id("in")
    charge, intent = stripe_id("ch"), stripe_id("pi")
    note = basil_credit_note(e3, who, pre_payment=2_000)
    return [
        basil_event(
            "customer.created",
            {
                **customer(
                    who,
                    name="Basil E Ltd",
                    email=f"e-{who}@stripe.test",
                    metadata={"segment": segment},
                ),
                "balance": -5_000,
            },
            created=ago(45),
        ),
        basil_event(
            "invoice.finalized",
            basil_invoice(e1, who, finalized_at=ago(30), due_date=ago(10), starting_balance=-5_000),
            created=ago(30),
        ),
        basil_event(
            "invoice.finalized",
            basil_invoice(e3, who, finalized_at=ago(25), due_date=ago(5)),
            created=ago(25),
        ),
        basil_event(
            "invoice.paid",
            basil_invoice(e2, who, status="paid", finalized_at=ago(14), paid_at=ago(12)),
            created=ago(12),
        ),
        basil_event(
            "invoice_payment.paid",
            basil_invoice_payment(e2, amount=BILLED, payment_intent=intent, paid_at=ago(12)),
            created=ago(12),
        ),
        basil_event("credit_note.created", note, created=ago(15)),
        basil_event(
            "credit_note.voided", {**note, "status": "void", "voided_at": ago(8)}, created=ago(8)
        ),
        basil_event(
            "charge.refunded",
            basil_charge(charge, who, amount=BILLED, payment_intent=intent, amount_refunded=BILLED),
            created=ago(3),
        ),
    ]


async def test_a_month_of_current_version_stripe_webhooks_reaches_the_aging(system: RunningSystem):
    today = date.today()
    segment = unique("basil")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        for delivery in basil_month(today, segment):
            await delivered(system, http, delivery)
        owed = 6_000 + BILLED  # e1 after the customer's credit, and e3 with its credit voided
        aging = await s.reported(
            "/v1/aging",
            lambda a: len(a["rows"]) == 1 and a["rows"][0]["total_minor"] == owed,
            what="e1 and e3 owed, e2 refunded and not",
            segment=segment,
            as_of=today.isoformat(),
        )
        [row] = aging["rows"]
        assert row["buckets"]["1-30"] == owed
