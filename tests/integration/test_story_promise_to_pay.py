"""Story: a past-due account is worked, promises to pay, pays, and the reports follow.

Billing issues an invoice already 20 days past due; the aging shows it in
1-30. A supervisor gives the account to a collector and the day's cadence
puts it on that collector's worklist; the collector calls, the customer
promises the whole amount, billing records and applies the payment, and
collections judges the promise kept. Reporting then shows nothing left in
the aging and the account summary, and the collector's KPIs count the
payment as collections secured and the promise as kept (100 %).
"""

from datetime import date, timedelta

import httpx

from receivables_devkit.testing.stories import Stories, eventually, kpi_group, unique
from receivables_devkit.testing.system import RunningSystem

OWED = 120_000


async def test_past_due_account_promises_pays_and_the_reports_move(system: RunningSystem):
    today = date.today()
    collector = unique("collector")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        segment = await s.segment_with_calls(1, 15)
        account_id = await s.account("Promise Ltd", "USD", segment=segment)
        invoice_id = await s.invoice(
            account_id, OWED, issued=today - timedelta(days=50), due=today - timedelta(days=20)
        )

        aging = await s.reported(
            "/v1/aging",
            lambda a: len(a["rows"]) == 1,
            what="invoice in the aging",
            account_id=account_id,
        )
        [row] = aging["rows"]
        assert row["buckets"]["1-30"] == OWED and row["total_minor"] == OWED

        await s.assign(account_id, collector, invoices=1)
        day = await s.business_day_on_or_before(today)
        worklist = await s.get(
            "collections-service", "/v1/worklist", roles=("collector",), sub=collector
        )
        [task] = [t for t in worklist["tasks"] if t["account_id"] == account_id]
        assert task["business_date"] == day.isoformat()
        assert task["invoice_ids"] == [invoice_id]
        assert task["amount_past_due_minor"] == OWED
        assert task["channel"] == "call" and task["status"] == "open"

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
        done = await s.get(
            "collections-service",
            f"/v1/tasks/{task['task_id']}",
            roles=("collector",),
            sub=collector,
        )
        assert done["status"] != "open" and done["outcome"] == "reached_promised"
        promise = await s.create(
            "collections-service",
            "/v1/commitments",
            {
                "account_id": account_id,
                "amount_minor": OWED,
                "currency": "USD",
                "promised_date": (today + timedelta(days=3)).isoformat(),
                "invoice_ids": [invoice_id],
                "contact_id": call["contact_id"],
            },
            roles=("collector",),
            sub=collector,
        )
        assert promise["status"] == "open" and promise["collector_id"] == collector

        summary = await s.reported(
            f"/v1/accounts/{account_id}/summary",
            lambda a: len(a["open_promises"]) == 1 and a["last_contact"] is not None,
            what="promise and call in the account summary",
        )
        assert summary["collector_id"] == collector
        [balance] = summary["balances"]
        assert balance["total_minor"] == OWED and balance["buckets"]["1-30"] == OWED
        assert summary["open_promises"][0]["amount_minor"] == OWED
        assert summary["last_contact"]["outcome"] == "reached_promised"

        await s.pay(account_id, OWED, "USD", on=today, invoice_id=invoice_id)

        async def kept() -> dict | None:
            seen = await s.get("collections-service", f"/v1/commitments/{promise['commitment_id']}")
            return seen if seen["status"] != "open" else None

        judged = await eventually(kept, what="promise judged")
        assert judged["status"] == "kept" and judged["paid_minor"] == OWED
        assert judged["judged_on"] == today.isoformat()

        await s.reported(
            "/v1/aging",
            lambda a: a["rows"] == [],
            what="paid invoice gone from the aging",
            account_id=account_id,
        )
        summary = await s.reported(
            f"/v1/accounts/{account_id}/summary",
            lambda a: a["open_promises"] == [],
            what="kept promise no longer open",
        )
        assert summary["balances"] == []

        kpis = await s.reported(
            "/v1/kpis",
            lambda k: kpi_group(k, collector)["promises"]["kept"] == 1,
            what="kept promise in the KPIs",
            currency="USD",
            period=today.isoformat(),
            group_by="collector",
        )
        mine = kpi_group(kpis, collector)
        assert mine["collections_secured"]["payments"] == 1
        assert mine["collections_secured"]["amount_minor"] == OWED
        assert mine["promises"] == {
            "kept": 1,
            "partially_kept": 0,
            "broken": 0,
            "promised_minor": OWED,
            "paid_minor": OWED,
            "kept_rate_by_count_pct": 100,
            "kept_rate_by_amount_pct": 100,
        }
        assert mine["ar"]["closing_ar_minor"] == 0
