"""Story: a promise on one invoice leaves the account's other past-due invoice in the cadence.

The customer owes two past-due invoices and promises to pay one of them.
Collections pauses that invoice until the promise is judged and shows so on
the account, while the day's cadence still puts the other invoice on the
collector's worklist.
"""

from datetime import date, timedelta

import httpx

from receivables_devkit.testing.stories import Stories, unique
from receivables_devkit.testing.system import RunningSystem


async def test_a_promise_on_one_invoice_leaves_the_other_in_the_cadence(system: RunningSystem):
    today = date.today()
    collector = unique("collector")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        segment = await s.segment_with_calls(1, 15)
        account_id = await s.account("Two Invoices Ltd", "USD", segment=segment)
        promised = await s.invoice(
            account_id, 30_000, issued=today - timedelta(days=50), due=today - timedelta(days=20)
        )
        other = await s.invoice(
            account_id, 45_000, issued=today - timedelta(days=45), due=today - timedelta(days=18)
        )
        await s.assign(account_id, collector, invoices=2)
        promise = await s.create(
            "collections-service",
            "/v1/commitments",
            {
                "account_id": account_id,
                "amount_minor": 30_000,
                "promised_date": (today + timedelta(days=7)).isoformat(),
                "invoice_ids": [promised],
            },
            roles=("collector",),
            sub=collector,
        )

        day = await s.business_day_on_or_before(today)
        [task] = await s.tasks_for(account_id, collector, day)
        assert task["invoice_ids"] == [other]
        assert task["amount_past_due_minor"] == 45_000

        view = await s.get(
            "collections-service", f"/v1/accounts/{account_id}", roles=("collector",), sub=collector
        )
        paused = {i["invoice_id"]: i["paused_until"] for i in view["invoices"]}
        assert paused == {promised: promise["deadline"], other: None}
        assert all(i["external_id"] for i in view["invoices"])

        mine = await s.get(
            "collections-service", "/v1/commitments", roles=("collector",), sub=collector
        )
        assert [c["commitment_id"] for c in mine["items"]] == [promise["commitment_id"]]
