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

from receivables_devkit.testing.console import ConsoleUser, account_on_worklist
from receivables_devkit.testing.stories import Stories, eventually, unique
from receivables_devkit.testing.system import RunningSystem


@pytest.fixture
async def supervisor(console: str):
    async with httpx.AsyncClient(base_url=console, timeout=20) as http:
        yield ConsoleUser(http)


async def test_aging_drills_from_bucket_to_account_to_invoice(system: RunningSystem,
                                                              supervisor: ConsoleUser):
    collector = unique("collector")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id, task = await account_on_worklist(s, collector, unique("Aging Co"), 98_765)
        [invoice_id] = task["invoice_ids"]
        invoice = await s.get("billing-adapter", f"/v1/invoices/{invoice_id}",
                              roles=("integration",))
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

    for hostile, field in (("/supervisor/aging?bucket=9999-1", "bucket"),
                           ("/supervisor/aging?bucket=<x>", "bucket"),
                           ("/supervisor?week=2026-53x", "week"),
                           ("/supervisor/aging?account_id=../x", "account_id")):
        answer = await supervisor.http.get(hostile)
        assert answer.status_code == 422, (hostile, answer.status_code)
        assert field in answer.text and answer.headers["content-type"].startswith("text/html")


async def test_the_supervisor_page_holds_kpis_trend_and_escalations(supervisor: ConsoleUser):
    await supervisor.sign_in(unique("boss"), "supervisor")
    year, week, _ = date.today().isocalendar()
    page = await supervisor.page(f"/supervisor?week={year}-W{week:02d}&currency=USD")
    for part in ("KPIs per collector", "KPIs per team", "Trend", "Overdue escalations",
                 'href="/supervisor/weekly-review?week='):
        assert part in page, part
    review = await supervisor.page(f"/supervisor/weekly-review?week={year}-W{week:02d}")
    assert "Pareto" in review and "Week over week" in review
