"""Story: a customer disputes an invoice by email and the dispute runs its course.

The customer's email (raw RFC 5322, from the contact's address) opens a case
on their account. The agent links the invoice to that case and reclassifies it
from a billing inquiry to a dispute, which puts the invoice on hold in
collections: the day's cadence passes it by. The investigation finds an
account-setup root cause, a credit is requested and billing applies it; the
customer is told, answers by email (threaded by the case tag) and confirms;
the case is resolved and closed, the hold lifts and the invoice, now smaller,
rejoins the cadence; the weekly review counts the case under its root cause.

"""

from datetime import UTC, date, datetime, timedelta

import httpx

from receivables_devkit.testing.stories import Stories, eventually, raw_email, unique
from receivables_devkit.testing.system import RunningSystem

BILLED = 50_000
CREDIT = 15_000


async def test_an_emailed_dispute_holds_the_invoice_until_credited_and_closed(
    system: RunningSystem,
):
    today = date.today()
    sender = f"{unique('ap')}@customer.test"
    collector, agent = unique("collector"), unique("agent")
    cause = unique("ACCOUNT_SETUP").upper().replace("-", "_")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        segment = await s.segment_with_calls(1)
        account_id = await s.account(
            "Dispute GmbH", "USD", segment=segment, contacts=[{"name": "AP", "email": sender}]
        )
        invoice_id = await s.invoice(
            account_id, BILLED, issued=today - timedelta(days=40), due=today - timedelta(days=10)
        )
        await s.assign(account_id, collector, invoices=1)
        as_agent = {"roles": ("case_agent",), "sub": agent}

        async def filed() -> dict | None:
            answer = await s.send(
                "POST",
                "case-service",
                "/v1/inbound-email",
                roles=("integration",),
                headers={"Content-Type": "message/rfc822"},
                content=raw_email(
                    sender,
                    "We were billed for a seat we never had",
                    "Your invoice charges us for 3 seats; our contract has 2.",
                ),
            )
            assert answer.status_code == 201, answer.text
            return answer.json() if answer.json()["threaded_by"] == "sender_contact" else None

        # until case-service has read the account's contacts from billing
        email_case = (await eventually(filed, what="email filed on the account"))["case"]
        assert email_case["account_id"] == account_id
        assert email_case["origin"] == "inbound_email"
        assert email_case["notes"][0]["body"].startswith("Your invoice charges us for 3 seats")

        case_url = f"/v1/cases/{email_case['case_id']}"

        async def linked() -> dict | None:  # once case-service has read the invoice too
            answer = await s.send(
                "POST",
                "case-service",
                f"{case_url}/links",
                json={"account_id": account_id, "invoice_ids": [invoice_id]},
                headers={"If-Match": f'"{email_case["version"]}"'},
                **as_agent,
            )
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        email_case = await eventually(linked, what="invoice linked to the emailed case")
        dispute = (
            await s.send(
                "POST",
                "case-service",
                f"{case_url}/type",
                expect=200,
                json={"type": "dispute", "reason": "3 seats billed, the contract says 2"},
                headers={"If-Match": f'"{email_case["version"]}"'},
                **as_agent,
            )
        ).json()
        assert dispute["type"] == "dispute" and dispute["invoice_ids"] == [invoice_id]

        async def held() -> dict | None:
            seen = (await s.collections_account(account_id, invoices=1)).json()
            return seen if seen["invoices"][0]["held"] else None

        await eventually(held, what="invoice on hold in collections")
        day = await s.business_day_on_or_before(today)
        assert await s.tasks_for(account_id, collector) == []

        category = await s.create(
            "case-service",
            "/v1/root-causes",
            {"code": cause, "name": "Account set up with the wrong seat count"},
            roles=("admin",),
        )
        version = await _step(
            s,
            "POST",
            f"{case_url}/status",
            dispute["version"],
            {"status": "investigating"},
            **as_agent,
        )
        version = await _step(
            s,
            "POST",
            f"{case_url}/notes",
            version,
            {"body": "Provisioning shows 2 seats since onboarding; billing has 3."},
            **as_agent,
        )
        version = await _step(
            s,
            "POST",
            f"{case_url}/root-cause",
            version,
            {
                "category_id": category["category_id"],
                "detail": "Seat count keyed wrongly at account setup",
            },
            **as_agent,
        )
        asked = await s.create(
            "case-service",
            f"{case_url}/corrections",
            {
                "invoice_id": invoice_id,
                "amount_minor": CREDIT,
                "direction": "credit",
                "reason": "One seat never provisioned",
                "reason_code": "SEAT_NOT_PROVISIONED",
            },
            **as_agent,
        )
        correction_id = asked["corrections"][0]["correction_id"]

        async def applied() -> dict | None:
            case = await s.get("case-service", case_url, **as_agent)
            return case if case["corrections"][0]["outcome"] != "requested" else None

        case = await eventually(applied, what="billing's answer to the correction")
        assert case["corrections"][0]["outcome"] == "applied"
        assert case["corrections"][0]["adjustment_id"] == correction_id
        invoice = await s.get(
            "billing-adapter", f"/v1/invoices/{invoice_id}", roles=("integration",)
        )
        assert invoice["open_minor"] == BILLED - CREDIT

        version = await _step(
            s,
            "POST",
            f"{case_url}/customer-updates",
            case["version"],
            {"channel": "phone", "summary": "Credited one seat; invoice now 350.00"},
            **as_agent,
        )
        reply = await s.send(
            "POST",
            "case-service",
            "/v1/inbound-email",
            roles=("integration",),
            headers={"Content-Type": "message/rfc822"},
            expect=200,
            content=raw_email(
                sender,
                f"Re: [{dispute['case_number']}] Billed for a seat",
                "Thanks, the corrected invoice is right.",
            ),
        )
        assert reply.json()["threaded_by"] == "subject_tag"
        version = reply.json()["case"]["version"]
        version = await _step(
            s,
            "POST",
            f"{case_url}/confirmation",
            version,
            {
                "confirmed_by_name": "AP",
                "channel": "email",
                "confirmed_at": datetime.now(UTC).isoformat(),
            },
            **as_agent,
        )
        version = await _step(
            s,
            "POST",
            f"{case_url}/resolve",
            version,
            {"resolution_summary": "Seat count fixed at setup; one seat credited"},
            **as_agent,
        )
        closed = await s.send(
            "POST",
            "case-service",
            f"{case_url}/close",
            expect=200,
            headers={"If-Match": f'"{version}"'},
            **as_agent,
        )
        assert closed.json()["status"] == "closed"
        assert closed.json()["completeness"]["complete"] is True

        async def lifted() -> list | None:
            holds = await s.get("collections-service", f"/v1/accounts/{account_id}/holds")
            return holds if holds and holds[0]["released_on"] else None

        [hold] = await eventually(lifted, what="hold lifted")
        assert hold["case_id"] == dispute["case_id"] and hold["invoice_ids"] == [invoice_id]
        await s.run_cadence(day)
        [task] = await s.tasks_for(account_id, collector)
        assert task["invoice_ids"] == [invoice_id]
        assert task["amount_past_due_minor"] == BILLED - CREDIT

        week = "{}-W{:02d}".format(*today.isocalendar()[:2])
        review = await s.reported(
            "/v1/reports/weekly-review",
            lambda r: any(c["code"] == cause for c in r["root_causes"]["this_week"]),
            what="root cause in the weekly review",
            week=week,
            currency="USD",
        )
        [counted] = [c for c in review["root_causes"]["this_week"] if c["code"] == cause]
        assert counted["cases"] == 1 and counted["amount_minor"] == BILLED
        assert counted["name"] == "Account set up with the wrong seat count"


async def _step(s: Stories, method: str, path: str, version: int, body: dict, **who: object) -> int:
    """One change to the case at the version last seen; its new version."""
    answer = await s.send(
        method,
        "case-service",
        path,
        expect=200,
        json=body,
        headers={"If-Match": f'"{version}"'},
        **who,
    )
    return int(answer.json()["version"])
