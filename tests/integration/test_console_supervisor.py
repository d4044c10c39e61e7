"""The supervisor's screens over plain HTTP against the real services.

Aging drills from the collector's bucket to the account and on to its
invoices; the KPIs per collector and team, the trend and the overdue
escalations share the page, each shown as reporting or case-service computes
it. The weekly review (Pareto and week over week) is covered by the case desk's
dispute story, where a closed case gives it a root cause to count.
"""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from receivables_devkit.testing.console import ConsoleUser, account_on_worklist, field_value
from receivables_devkit.testing.stories import Stories, eventually, unique
from receivables_devkit.testing.system import RunningSystem


@pytest.fixture
async def supervisor(console: str):
    async with httpx.AsyncClient(base_url=console, timeout=20) as http:
        yield ConsoleUser(http)


async def test_aging_drills_from_bucket_to_account_to_invoice(
    system: RunningSystem, supervisor: ConsoleUser
):
    collector = unique("collector")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id, task = await account_on_worklist(s, collector, unique("Aging Co"), 98_765)
        [invoice_id] = task["invoice_ids"]
        invoice = await s.get(
            "billing-adapter", f"/v1/invoices/{invoice_id}", roles=("integration",)
        )
    await supervisor.sign_in(unique("boss"), "supervisor", language="es")

    async def listed() -> str | None:
        page = await supervisor.page("/supervisor")
        aging = page.split('class="aging"', 1)[-1]
        return page if collector in aging else None

    page = await eventually(listed, what="the collector's row in aging")
    assert "KPIs por cobrador" in page
    drill = page.split('class="aging"', 1)[1].split(f"{collector}</th>", 1)[1].split("</tr>", 1)[0]
    assert "987,65\xa0US$" in drill, drill  # the 1-30 bucket, in Spanish money
    link = drill.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "bucket=1-30" in link and f"collector_id={collector}" in link

    accounts = await supervisor.page(link)
    assert f'href="/accounts/{account_id}"' in accounts and "987,65\xa0US$" in accounts
    invoices = await supervisor.page(f"/supervisor/aging?currency=USD&account_id={account_id}")
    assert invoice["external_id"] in invoices and "987,65\xa0US$" in invoices

    for hostile, field in (
        ("/supervisor/aging?bucket=9999-1", "bucket"),
        ("/supervisor/aging?bucket=<x>", "bucket"),
        ("/supervisor?week=2026-53x", "week"),
        ("/supervisor/aging?account_id=../x", "account_id"),
    ):
        answer = await supervisor.http.get(hostile)
        assert answer.status_code == 422, (hostile, answer.status_code)
        assert field in answer.text and answer.headers["content-type"].startswith("text/html")


async def test_the_supervisor_page_holds_kpis_trend_and_escalations(supervisor: ConsoleUser):
    await supervisor.sign_in(unique("boss"), "supervisor")
    year, week, _ = date.today().isocalendar()
    page = await supervisor.page(f"/supervisor?week={year}-W{week:02d}&currency=USD")
    for part in (
        "KPIs per collector",
        "KPIs per team",
        "Trend",
        "Overdue escalations",
        'href="/supervisor/weekly-review?week=',
    ):
        assert part in page, part
    review = await supervisor.page(f"/supervisor/weekly-review?week={year}-W{week:02d}")
    assert "Pareto" in review and "Week over week" in review


async def test_an_approval_needs_a_second_supervisor_and_says_so_to_the_first(
    system: RunningSystem, console: str
):
    today = date.today()
    boss, second = unique("boss"), unique("second")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id = await s.account(unique("Credit Co"), "USD")
        invoice_id = await s.invoice(account_id, 2_000_000, issued=today, due=today)
        asked = await s.send(
            "POST",
            "billing-adapter",
            f"/v1/invoices/{invoice_id}/adjustments",
            roles=("integration", "supervisor"),
            sub=boss,
            expect=202,
            headers={"Idempotency-Key": unique("key")},
            json={
                "kind": "credit",
                "amount_minor": 600_000,
                "reason_code": "goodwill",
                "effective_date": today.isoformat(),
            },
        )
        approval_id = asked.json()["approval_id"]

        async with httpx.AsyncClient(base_url=console, timeout=20) as own:
            first = ConsoleUser(own)
            await first.sign_in(boss, "supervisor")
            page = await first.page("/supervisor/approvals")
            assert f'id="approval-{approval_id}"' in page and "6,000.00" in page
            version = field_value(page.split(f'id="approval-{approval_id}"', 1)[1], "version")
            mine = await first.post(
                f"/supervisor/approvals/{approval_id}/approve", {"version": version}, expect=403
            )
            assert "another supervisor must decide it" in mine.text
            empty = await first.post(
                f"/supervisor/approvals/{approval_id}/reject",
                {"version": version, "reason": " "},
                expect=422,
            )
            assert "Say why the approval is rejected" in empty.text
            for hostile in (
                f"/supervisor/approvals/{approval_id}/delete",
                "/supervisor/approvals/..x/approve",
            ):
                answer = await first.http.post(hostile, data={"csrf_token": first.csrf})
                assert answer.status_code in (404, 422), (hostile, answer.status_code)
        state = await s.get("billing-adapter", f"/v1/approvals/{approval_id}")
        assert state["status"] == "pending"

        async with httpx.AsyncClient(base_url=console, timeout=20) as other:
            supervisor = ConsoleUser(other)
            await supervisor.sign_in(second, "supervisor", language="es")
            seen = await supervisor.page("/supervisor/approvals")
            assert "Aprobar" in seen
            done = await supervisor.post(
                f"/supervisor/approvals/{approval_id}/approve", {"version": version}, expect=200
            )
            assert "Aprobada" in done.text and f'id="approval-{approval_id}"' not in done.text
        state = await s.get("billing-adapter", f"/v1/approvals/{approval_id}")
        assert state["status"] == "approved" and state["decided_by"] == second
