"""Story: an invoice paid in instalments is past due as soon as its first instalment is.

Billing issues an invoice in three instalments; the first fell due three weeks
ago and was not paid, the others are still to come, so the invoice's own (last)
due date is weeks away. Collections reads the plan from billing's
`invoice.issued` and the day's cadence puts the account on the collector's
worklist for the overdue instalment (and only its amount); reporting's aging
shows that instalment past due from its own due date and the rest current.
Everything through the services' public APIs.
"""

from datetime import date, timedelta

import httpx

from receivables_devkit.testing.stories import Stories, unique
from receivables_devkit.testing.system import RunningSystem

FIRST, SECOND, THIRD = 30_000, 30_000, 40_000


async def test_an_overdue_instalment_gets_a_task_and_ages_past_due(system: RunningSystem):
    today = date.today()
    collector = unique("collector")
    first_due = today - timedelta(days=20)
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        segment = await s.segment_with_calls(1, 15)
        account_id = await s.account("Plan Builders Ltd", "USD", segment=segment)
        issued = await s.create(
            "billing-adapter",
            "/v1/invoices",
            {
                "external_id": unique("INV"),
                "account_id": account_id,
                "total_minor": FIRST + SECOND + THIRD,
                "issue_date": (today - timedelta(days=50)).isoformat(),
                "due_date": (today + timedelta(days=40)).isoformat(),
                "instalments": [
                    {"due_date": first_due.isoformat(), "amount_minor": FIRST},
                    {"due_date": (today + timedelta(days=10)).isoformat(), "amount_minor": SECOND},
                    {"due_date": (today + timedelta(days=40)).isoformat(), "amount_minor": THIRD},
                ],
            },
            roles=("integration",),
        )
        invoice_id = issued["invoice_id"]
        await s.assign(account_id, collector, invoices=1)

        day = await s.business_day_on_or_before(today)
        [task] = await s.tasks_for(account_id, collector, day)
        assert task["invoice_ids"] == [invoice_id]
        assert task["amount_past_due_minor"] == FIRST
        assert task["days_past_due"] == (day - first_due).days

        view = await s.get(
            "collections-service", f"/v1/accounts/{account_id}", roles=("collector",), sub=collector
        )
        [invoice] = view["invoices"]
        assert invoice["due_date"] == first_due.isoformat() and invoice["days_past_due"] > 0
        assert invoice["past_due_minor"] == view["past_due_minor"] == FIRST

        aged = await s.reported(
            "/v1/aging",
            lambda a: bool(a["rows"]) and a["rows"][0]["total_minor"] == (FIRST + SECOND + THIRD),
            what="the instalment invoice aged",
            as_of=today.isoformat(),
            group_by="invoice",
            account_id=account_id,
        )
        [row] = aged["rows"]
        assert row["invoice_id"] == invoice_id and row["invoices"] == 1
        assert {k: v for k, v in row["buckets"].items() if v} == {
            "current": SECOND + THIRD,
            "1-30": FIRST,
        }
