"""A collector's day in real headless Chromium against the whole stack, in both languages.

Debian's chromium, driven by Playwright (its own browser download is not used),
against the services and the console started as `make run` starts them. Each
page the collector works on is checked with axe-core (vendored, served by the
console itself): no serious or critical WCAG violation. A failing test leaves
a screenshot of the page in `.artifacts/console/`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from receivables_devkit.testing.console import account_on_worklist
from receivables_devkit.testing.stories import Stories, unique
from receivables_devkit.testing.system import RunningSystem

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts" / "console"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
WORDS = {
    "en": {"sign_in": "Sign in", "log_call": "Log call", "take_promise": "Take promise",
           "promise_recorded": "Promise recorded", "complete": "Complete task",
           "search": "Search", "done": "completed", "money": "$1,200.00"},
    "es": {"sign_in": "Iniciar sesión", "log_call": "Registrar llamada",
           "take_promise": "Registrar promesa", "promise_recorded": "Promesa registrada",
           "complete": "Completar tarea", "search": "Buscar", "done": "completada",
           "money": "1.200,00\xa0US$"},
}


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                    args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser, console: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=console, viewport={"width": 1280,
                                                                    "height": 900})
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def no_serious_violations(page: Page) -> None:
    """axe-core in the page; only serious and critical findings fail the test."""
    await page.add_script_tag(url="/static/vendor/axe.min.js")
    found = await page.evaluate("""async () => {
        const result = await axe.run(document, {runOnly: ["wcag2a", "wcag2aa", "wcag21aa",
                                                          "wcag22aa"]});
        return result.violations.filter(v => ["serious", "critical"].includes(v.impact))
            .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}));
    }""")
    assert found == [], json.dumps(found, indent=1)


async def screenshot_on_failure(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("language", ["en", "es"])
async def test_a_collectors_day_in_the_browser(system: RunningSystem, page: Page,
                                               language: str):
    words = WORDS[language]
    collector = unique("collector")
    promised, completed = unique("Promise Co"), unique("Paid Co")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id, task = await account_on_worklist(s, collector, promised, 120_000)
        _, other = await account_on_worklist(s, collector, completed, 50_000)
    try:
        await page.goto("/my-day")
        await expect(page).to_have_url("/sign-in?next=%2Fmy-day")
        await page.select_option("#lang", language)
        await page.get_by_role("button", name="Change").click()  # the browser's English
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await page.fill("#sub", collector)
        await page.get_by_role("button", name=words["sign_in"], exact=True).click()
        await expect(page).to_have_url("/my-day")
        await no_serious_violations(page)

        row = page.locator(f"#task-{task['task_id']}")
        await expect(row).to_contain_text(promised)
        await expect(row).to_contain_text(words["money"])
        await row.locator("input[name=amount]").fill("1200" if language == "en" else "1200,00")
        await row.locator("input[name=promised_date]").fill(
            (date.today() + timedelta(days=3)).isoformat())
        await row.get_by_role("button", name=words["take_promise"]).click()
        await expect(row).to_contain_text(words["promise_recorded"])
        await row.locator("select[name=outcome].call-outcome").select_option(
            "reached_promised")
        await row.locator("input[name=notes]").fill("pays on Friday")
        await row.get_by_role("button", name=words["log_call"]).click()
        await expect(row.locator(".status")).to_have_text(words["done"])
        assert page.url.endswith("/my-day"), "the list was not left"

        other_row = page.locator(f"#task-{other['task_id']}")
        await other_row.locator(f"#done-{other['task_id']}").select_option("voicemail")
        await other_row.get_by_role("button", name=words["complete"]).click()
        await expect(other_row.locator(".status")).to_have_text(words["done"])

        await page.fill("#q", promised)
        await page.get_by_role("button", name=words["search"], exact=True).click()
        # Reporting's search answers, or the page says it is not there yet: never an error.
        await expect(page.locator("main .results, main .notice")).to_be_visible()
        await page.goto(f"/accounts/{account_id}")
        await expect(page.locator(".contacts")).to_contain_text("pays on Friday")
        await expect(page.locator(".promises")).to_contain_text(words["money"])
        await no_serious_violations(page)
    except BaseException:
        await screenshot_on_failure(page, f"collectors-day-{language}")
        raise


async def test_my_day_and_the_account_fit_a_phone(system: RunningSystem, browser: Browser,
                                                  console: str):
    """At 390 px nothing but a wide table scrolls sideways: the page itself does not."""
    collector = unique("collector")
    async with httpx.AsyncClient(timeout=15) as http:
        account_id, _ = await account_on_worklist(Stories(system, http), collector,
                                                  unique("Phone Co"), 75_000)
    context = await browser.new_context(base_url=console, viewport={"width": 390,
                                                                    "height": 844})
    page = await context.new_page()
    try:
        await page.goto("/sign-in")
        await page.fill("#sub", collector)
        await page.get_by_role("button", name="Sign in", exact=True).click()
        for path in ("/my-day", f"/accounts/{account_id}"):
            await page.goto(path)
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width} px wide at a 390 px viewport"
    except BaseException:
        await screenshot_on_failure(page, "phone-width")
        raise
    finally:
        await context.close()
