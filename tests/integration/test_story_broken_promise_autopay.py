"""Story: a broken promise brings a next-day follow-up and at-risk; auto-pay is taken up.

A past-due account on a collector's worklist promises to pay today with no
grace, and does not. The first business day after the deadline the daily run
judges the promise broken, puts a follow-up on the collector's worklist for
that day and marks the account at risk. The collector then offers auto-pay,
the customer accepts, billing enrols the account, collections attributes the
conversion to the offer, and the collector's KPIs count the broken promise
and the conversion.
"""

from datetime import date, timedelta

import httpx

from receivables_devkit.testing.stories import (
    PAYMENT_METHOD,
    Stories,
    eventually,
    kpi_group,
    unique,
)
from receivables_devkit.testing.system import RunningSystem

OWED = 30_000


async def test_broken_promise_follow_up_at_risk_and_autopay_conversion(system: RunningSystem):
    today = date.today()
    collector = unique("collector")
    as_collector = {"roles": ("collector",), "sub": collector}
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        segment = await s.segment_with_calls(1)
        account_id = await s.account("Broken Promise Inc", "USD", segment=segment)
        invoice_id = await s.invoice(
            account_id, OWED, issued=today - timedelta(days=45), due=today - timedelta(days=15)
        )
        await s.assign(account_id, collector, invoices=1)
        await s.business_day_on_or_before(today)
        [task] = await s.tasks_for(account_id, collector, today)
        await s.create(
            "collections-service",
            "/v1/contacts/calls",
            {"account_id": account_id, "outcome": "reached_promised", "task_id": task["task_id"]},
            **as_collector,
        )
        promise = await s.create(
            "collections-service",
            "/v1/commitments",
            {
                "account_id": account_id,
                "amount_minor": OWED,
                "currency": "USD",
                "promised_date": today.isoformat(),
                "grace_days": 0,
                "invoice_ids": [invoice_id],
            },
            **as_collector,
        )
        deadline = date.fromisoformat(promise["deadline"])

        next_day = await s.business_day_after(deadline)
        judged = await s.get("collections-service", f"/v1/commitments/{promise['commitment_id']}")
        assert judged["status"] == "broken" and judged["paid_minor"] == 0
        assert judged["judged_on"] == next_day.isoformat()
        [follow_up] = await s.tasks_for(account_id, collector, next_day)
        assert follow_up["kind"] == "commitment_follow_up"
        assert follow_up["commitment_id"] == promise["commitment_id"]
        assert follow_up["due_on"] == next_day.isoformat()
        assert follow_up["amount_past_due_minor"] == OWED
        account = await s.get("collections-service", f"/v1/accounts/{account_id}")
        assert account["at_risk_since"] == next_day.isoformat()

        offer = await s.create(
            "collections-service",
            "/v1/autopay/offers",
            {"account_id": account_id, "channel": "call"},
            **as_collector,
        )
        answered = await s.send(
            "POST",
            "collections-service",
            f"/v1/autopay/offers/{offer['offer_id']}/answer",
            expect=200,
            json={"outcome": "accepted"},
            headers={"If-Match": f'"{offer["version"]}"'},
            **as_collector,
        )
        assert answered.json()["outcome"] == "accepted"
        billed = await s.send(
            "GET",
            "billing-adapter",
            f"/v1/accounts/{account_id}",
            roles=("integration",),
            expect=200,
        )
        enrolled = await s.send(
            "PUT",
            "billing-adapter",
            f"/v1/accounts/{account_id}/autopay",
            roles=("integration",),
            expect=200,
            headers={"If-Match": billed.headers["ETag"]},
            json={
                "payment_method_reference": PAYMENT_METHOD,
                "payment_method_type": "card",
                "enrolled_on": today.isoformat(),
            },
        )
        assert enrolled.json()["autopay"]["enrolled"] is True

        async def converted() -> dict | None:
            seen = await s.get("collections-service", f"/v1/autopay/offers/{offer['offer_id']}")
            return seen if seen["converted_on"] else None

        assert (await eventually(converted, what="offer converted"))[
            "converted_on"
        ] == today.isoformat()

        # the promise is judged on the business day after its deadline, a day still to come;
        # a KPI period reaching past today is computed up to today, so the conversion counts
        # and the judgement (known to collections above) does not yet
        kpis = await s.reported(
            "/v1/kpis",
            lambda k: kpi_group(k, collector)["autopay"]["offers_converted"] == 1,
            what="the conversion in the KPIs",
            currency="USD",
            group_by="collector",
            **{"from": today.isoformat(), "to": next_day.isoformat()},
        )
        assert kpis["requested_period"]["end"] == next_day.isoformat()
        assert kpis["period"]["end"] < next_day.isoformat()
        mine = kpi_group(kpis, collector)
        assert mine["promises"]["broken"] == 0
        assert mine["autopay"] == {
            "not_on_autopay_at_start": 1,
            "enrolled_in_period": 1,
            "conversion_pct": 100,
            "on_autopay_at_end": 1,
            "accounts_at_end": 1,
            "penetration_pct": 100,
            "offers_converted": 1,
        }
        summary = await s.get("reporting-service", f"/v1/accounts/{account_id}/summary")
        assert summary["on_autopay"] is True and summary["open_promises"] == []
