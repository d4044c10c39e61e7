"""Story: a collector sets a follow-up, the customer asks for another day, the call is made.

A collector agrees with a customer to call back on the next business day at
10:00, the customer asks for the day after instead, and the collector
reschedules (If-Match the task's ETag) and makes the call. Reporting's
follow-up timeliness measures the task against the date it was moved to, so
the call counts as on time, on that day.
"""

from datetime import date, timedelta

import httpx

from receivables_devkit.testing.stories import Stories, unique
from receivables_devkit.testing.system import RunningSystem


async def test_a_follow_up_created_rescheduled_and_completed_on_time(system: RunningSystem):
    today = date.today()
    collector = unique("collector")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        first_day = await s.business_day_after(today)
        agreed_day = await s.business_day_after(first_day)
        account_id = await s.account("Call Back Ltd", "USD")
        await s.invoice(
            account_id, 50_000, issued=today - timedelta(days=60), due=today - timedelta(days=30)
        )
        await s.assign(account_id, collector, invoices=1)

        task = await s.create(
            "collections-service",
            "/v1/tasks",
            {
                "account_id": account_id,
                "kind": "call",
                "due_on": first_day.isoformat(),
                "due_time": "10:00",
                "note": "customer asked for a call back",
            },
            roles=("collector",),
            sub=collector,
        )
        assert task["kind"] == "follow_up" and task["collector_id"] == collector
        url = f"/v1/tasks/{task['task_id']}"
        moved = await s.send(
            "PATCH",
            "collections-service",
            url,
            roles=("collector",),
            sub=collector,
            expect=200,
            json={"due_on": agreed_day.isoformat(), "due_time": "10:00"},
            headers={"If-Match": f'"{task["version"]}"'},
        )
        assert moved.json()["due_on"] == agreed_day.isoformat()
        [listed] = await s.tasks_for(account_id, collector, agreed_day)
        assert listed["task_id"] == task["task_id"]
        await s.send(
            "POST",
            "collections-service",
            f"{url}/complete",
            roles=("collector",),
            sub=collector,
            expect=200,
            json={"outcome": "reached_promised"},
        )

        # the agreed day is a business day still to come (the story runs the cadence ahead
        # of the calendar); reporting answers for a period only once it has started, so the
        # timeliness of that day is refused now, naming the period, instead of reported early
        early = await s.send(
            "GET",
            "reporting-service",
            "/v1/kpis",
            roles=("supervisor",),
            expect=422,
            params={"currency": "USD", "period": agreed_day.isoformat()},
        )
        assert early.json()["title"] == "Period not started"
