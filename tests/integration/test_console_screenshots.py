"""`make screenshots`: every console screen in both languages, from a real run, into
docs/console/<screen>-<lang>.png so a reader can see the console without starting it.

Not a check (it asserts only that each page rendered); it runs the whole stack as
`make run` starts it, puts a small day's work in it, and photographs each screen.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser

from receivables_devkit.testing.console import account_on_worklist
from receivables_devkit.testing.stories import Stories, unique
from receivables_devkit.testing.system import RunningSystem

pytestmark = [pytest.mark.browser, pytest.mark.screenshots]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "console"


async def test_screenshots_of_every_screen(system: RunningSystem, browser: Browser, console: str):
    person = "pat.reyes"
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id, _ = await account_on_worklist(
            s,
            person,
            "Northwind Traders",
            184_250,
            contacts=[{"name": "Ana Ruiz", "email": "ap@northwind.test", "phone": "+15550142"}],
        )
        await account_on_worklist(s, person, "Contoso Dental", 62_000)
        category = await s.create(
            "case-service",
            "/v1/root-causes",
            {"code": unique("SEATS").upper().replace("-", "_"), "name": "Seat count keyed wrongly"},
            roles=("admin",),
        )
        await s.create(
            "case-service",
            "/v1/sops",
            {
                "title": "Check provisioning before crediting seats",
                "link": "https://wiki.example/sop/seats",
                "category_ids": [category["category_id"]],
            },
            roles=("admin",),
        )
        case = await s.create(
            "case-service",
            "/v1/cases",
            {
                "type": "dispute",
                "origin": "inbound_phone",
                "account_id": account_id,
                "subject": "Billed for a seat we never had",
                "owner_id": person,
                "description": "The March invoice charges 3 seats; the contract has 2.",
            },
            roles=("case_agent",),
            sub=person,
        )
        await s.send(
            "POST",
            "case-service",
            f"/v1/cases/{case['case_id']}/notes",
            roles=("case_agent",),
            expect=200,
            json={"body": "Provisioning shows 2 seats since onboarding."},
        )
        attached = await s.send(
            "POST",
            "case-service",
            f"/v1/cases/{case['case_id']}/attachments",
            roles=("case_agent",),
            sub=person,
            expect=201,
            params={"filename": "provisioning-export.pdf", "note": "Seats as provisioned"},
            headers={"Idempotency-Key": unique("file"), "Content-Type": "application/pdf"},
            content=b"%PDF-1.4\n" + b"2 seats since onboarding\n" * 200,
        )
        await s.send(
            "POST",
            "case-service",
            f"/v1/cases/{case['case_id']}/next-action",
            roles=("case_agent",),
            sub=person,
            expect=200,
            headers={"If-Match": attached.headers["ETag"]},
            json={
                "next_action_on": (await s.business_day_after(date.today())).isoformat(),
                "next_action": "Call Ana once operations answers",
            },
        )
        await s.send(
            "POST",
            "case-service",
            f"/v1/cases/{case['case_id']}/escalations",
            roles=("case_agent",),
            expect=201,
            headers={"Idempotency-Key": unique("esc")},
            json={
                "team": "operations",
                "question": "How many seats are live?",
                "due_date": (date.today() + timedelta(days=7)).isoformat(),
            },
        )
        large = await s.invoice(account_id, 1_250_000, issued=date.today(), due=date.today())
        await s.send(
            "POST",
            "billing-adapter",
            f"/v1/invoices/{large}/adjustments",
            roles=("integration",),
            sub="sam.clerk",
            expect=202,
            headers={"Idempotency-Key": unique("credit")},
            json={
                "kind": "credit",
                "amount_minor": 750_000,
                "reason_code": "goodwill",
                "effective_date": date.today().isoformat(),
            },
        )
    year, week, _ = date.today().isocalendar()
    screens = {
        "sign-in": "/sign-in",
        "my-day": "/my-day",
        "account": f"/accounts/{account_id}",
        "search": "/search?q=Northwind",
        "case-desk": "/cases?queue=mine",
        "case": f"/cases/{case['case_id']}",
        "supervisor": f"/supervisor?week={year}-W{week:02d}",
        "aging": "/supervisor/aging?currency=USD&bucket=1-30",
        "weekly-review": f"/supervisor/weekly-review?week={year}-W{week:02d}",
        "approvals": "/supervisor/approvals",
        "admin": "/admin",
        "inbox": "/inbox",
        "templates": "/admin/templates",
        "template": "/admin/templates/reminder/en",
        "preferences": "/preferences",
    }
    DOCS.mkdir(parents=True, exist_ok=True)
    for language in ("en", "es"):
        context = await browser.new_context(
            base_url=console,
            locale=language,
            viewport={"width": 1280, "height": 900},
            extra_http_headers={"Accept-Language": language},
        )
        page = await context.new_page()
        await page.goto("/sign-in")
        await page.screenshot(path=str(DOCS / f"sign-in-{language}.png"))
        await page.fill("#sub", person)
        for box in await page.locator("input[name=roles]").all():
            await box.check()
        await page.locator("form.card button[type=submit]").click()
        await page.wait_for_url("**/my-day")
        for name, path in screens.items():
            if name == "sign-in":
                continue
            answer = await page.goto(path)
            assert answer is not None and answer.status == 200, (name, path)
            await page.screenshot(path=str(DOCS / f"{name}-{language}.png"))
        await context.close()
