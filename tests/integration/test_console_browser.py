"""A collector's day in real headless Chromium against the whole stack, in both languages.

Debian's chromium, driven by Playwright (its own browser download is not used),
against the services and the console started as `make run` starts them. Each
page the collector works on is checked with axe-core (vendored, served by the
console itself): no serious or critical WCAG violation. A failing test leaves
a screenshot of the page in `.artifacts/console/`.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from receivables_devkit.testing.console import account_on_worklist, escalated
from receivables_devkit.testing.stories import Stories, eventually, raw_email, unique
from receivables_devkit.testing.system import RunningSystem

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts" / "console"
WORDS = {
    "en": {
        "sign_in": "Sign in",
        "log_call": "Log call",
        "take_promise": "Take promise",
        "promise_recorded": "Promise recorded",
        "complete": "Complete task",
        "search": "Search",
        "done": "completed",
        "money": "$1,200.00",
        "set_follow_up": "Set follow-up",
        "follow_up_set": "Follow-up set",
        "preview": "Preview",
        "send_email": "Send email",
        "emailed": "Email sent",
        "pay_link": "Make a pay link",
        "pay_link_made": "Pay link made",
    },
    "es": {
        "sign_in": "Iniciar sesión",
        "log_call": "Registrar llamada",
        "take_promise": "Registrar promesa",
        "promise_recorded": "Promesa registrada",
        "complete": "Completar tarea",
        "search": "Buscar",
        "done": "completada",
        "money": "1.200,00\xa0US$",
        "set_follow_up": "Programar seguimiento",
        "follow_up_set": "Seguimiento programado",
        "preview": "Vista previa",
        "send_email": "Enviar correo",
        "emailed": "Correo enviado",
        "pay_link": "Crear enlace de pago",
        "pay_link_made": "Enlace de pago creado",
    },
}
ALL_WORDS = {"change": {"en": "Change", "es": "Cambiar"}}


@pytest.fixture
async def page(browser: Browser, console: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=console, viewport={"width": 1280, "height": 900})
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


async def sign_in(
    page: Page, sub: str, language: str, *roles: str, landing: str = "/my-day"
) -> None:
    """The dev sign-in in the chosen language, as the person with these roles."""
    await page.goto("/sign-in")
    await page.select_option("#lang", language)
    await page.get_by_role(
        "button", name=ALL_WORDS["change"][await page.locator("html").get_attribute("lang") or "en"]
    ).click()
    await expect(page.locator("html")).to_have_attribute("lang", language)
    await page.fill("#sub", sub)
    for box in await page.locator("input[name=roles]").all():
        if await box.get_attribute("value") in roles:
            await box.check()
        else:
            await box.uncheck()
    await page.get_by_role("button", name=WORDS[language]["sign_in"], exact=True).click()
    await expect(page).to_have_url(landing)


@pytest.mark.parametrize("language", ["en", "es"])
async def test_a_collectors_day_in_the_browser(system: RunningSystem, page: Page, language: str):
    """Call, promise, follow-up set from the keyboard, a pay link, a template previewed in
    the account's language and emailed: never leaving the list."""
    words = WORDS[language]
    collector = unique("collector")
    promised, emailed = unique("Promise Co"), unique("Mail Co")
    callback = date.today() + timedelta(days=7)
    while callback.weekday() >= 5:
        callback += timedelta(days=1)
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id, task = await account_on_worklist(s, collector, promised, 120_000)
        _, other = await account_on_worklist(
            s,
            collector,
            emailed,
            50_000,
            contacts=[{"name": "Pat", "email": "ap@mail.test", "phone": "+15550100"}],
        )
    try:
        await page.goto("/my-day")
        await expect(page).to_have_url("/sign-in?next=%2Fmy-day")
        await sign_in(page, collector, language, "collector")
        await no_serious_violations(page)

        row = page.locator(f"#task-{task['task_id']}")
        await expect(row).to_contain_text(promised)
        await expect(row).to_contain_text(words["money"])
        # A refusal comes back in place, next to the field it names (htmx swaps a 422).
        await row.locator("input[name=amount]").fill("12,34,5")
        await row.get_by_role("button", name=words["take_promise"]).click()
        await expect(row.locator(f"#amount-{account_id}-error")).to_be_visible()
        await expect(row.locator(f"#amount-{account_id}")).to_have_attribute("aria-invalid", "true")
        await row.locator("input[name=amount]").fill("1200" if language == "en" else "1200,00")
        await row.locator("input[name=promised_date]").fill(
            (date.today() + timedelta(days=3)).isoformat()
        )
        await row.get_by_role("button", name=words["take_promise"]).click()
        await expect(row).to_contain_text(words["promise_recorded"])

        # The keyboard: focus the task, `f` opens the follow-up with its date focused.
        await row.focus()
        await page.keyboard.press("f")
        follow_date = row.locator(f"#follow-{task['task_id']}")
        await expect(follow_date).to_be_focused()
        await follow_date.fill(callback.isoformat())
        await row.locator(f"#follow-time-{task['task_id']}").fill("10:30")
        await row.get_by_role("button", name=words["set_follow_up"]).click()
        await expect(row.locator(".notice")).to_have_text(words["follow_up_set"])
        await no_serious_violations(page)

        await row.focus()
        await page.keyboard.press("c")
        await expect(row.locator("select.call-outcome")).to_be_focused()
        await row.locator("select.call-outcome").select_option("reached_promised")
        await row.locator("input[name=notes]").fill("pays on Friday")
        await row.get_by_role("button", name=words["log_call"]).click()
        await expect(row.locator(".status")).to_have_text(words["done"])
        assert page.url.endswith("/my-day"), "the list was not left"

        other_row = page.locator(f"#task-{other['task_id']}")
        await expect(other_row.locator('a[href="tel:+15550100"]')).to_be_visible()
        await other_row.get_by_role("button", name=words["pay_link"]).click()
        await expect(other_row.locator(".notice")).to_have_text(words["pay_link_made"])
        await expect(other_row.locator(".pay-link input")).to_have_value(re.compile(r"^https?://"))
        await other_row.focus()
        await page.keyboard.press("e")
        template = other_row.locator("select[name=template]")
        await expect(template).to_be_focused()
        await template.select_option("reminder")
        await other_row.get_by_role("button", name=words["preview"]).click()
        await expect(other_row.locator(".preview-subject")).not_to_be_empty()
        await no_serious_violations(page)
        await other_row.get_by_role("button", name=words["send_email"]).click()
        await expect(other_row.locator(".notice")).to_have_text(words["emailed"])
        await expect(other_row.locator(".status")).to_have_text(words["done"])
        # A fold opened with the mouse fetches its form in place, too.
        await other_row.locator("summary.case-move").click()
        await expect(other_row.locator("select[name=type]")).to_be_visible()
        await no_serious_violations(page)

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


CASE_WORDS = {
    "en": {
        "take": "Take this case",
        "link": "Link an invoice",
        "link_button": "Link invoice",
        "type": "Change type",
        "status": "Change status",
        "cause": "Root cause",
        "record_cause": "Record root cause",
        "add_note": "Add note",
        "correction": "Request a correction",
        "request": "Request correction",
        "update": "Update the customer",
        "record_update": "Record update",
        "confirmation": "Customer confirmation",
        "confirm": "Record confirmation",
        "resolve": "Resolve",
        "resolve_button": "Resolve case",
        "close": "Close case",
        "closed": "closed",
        "applied": "applied",
        "review": "Weekly review",
        "unassigned": "Unassigned",
        "attach": "Attach a file",
        "attach_button": "Attach",
        "satisfaction": "Satisfaction 5 of 5",
    },
    "es": {
        "take": "Tomar este caso",
        "link": "Vincular una factura",
        "link_button": "Vincular factura",
        "type": "Cambiar tipo",
        "status": "Cambiar estado",
        "cause": "Causa raíz",
        "record_cause": "Registrar causa raíz",
        "add_note": "Añadir nota",
        "correction": "Solicitar una corrección",
        "request": "Solicitar corrección",
        "update": "Informar al cliente",
        "record_update": "Registrar aviso",
        "confirmation": "Confirmación del cliente",
        "confirm": "Registrar confirmación",
        "resolve": "Resolver",
        "resolve_button": "Resolver caso",
        "close": "Cerrar caso",
        "closed": "cerrado",
        "applied": "aplicada",
        "review": "Revisión semanal",
        "unassigned": "Sin asignar",
        "attach": "Adjuntar un archivo",
        "attach_button": "Adjuntar",
        "satisfaction": "Satisfacción 5 de 5",
    },
}


async def test_a_key_pressed_as_a_row_is_swapped_still_opens_its_fold(
    system: RunningSystem, page: Page
):
    """htmx wires a swapped-in row only when it settles; a key pressed before that must still
    fetch the fold's form (a slow settle makes the window wide enough to hit every time)."""
    words = WORDS["en"]
    collector = unique("collector")
    async with httpx.AsyncClient(timeout=15) as http:
        _, task = await account_on_worklist(
            Stories(system, http),
            collector,
            unique("Quick Co"),
            50_000,
            contacts=[{"name": "Pat", "email": "ap@mail.test", "phone": "+15550100"}],
        )
    try:
        await sign_in(page, collector, "en", "collector")
        await page.evaluate("htmx.config.defaultSettleDelay = 1500")
        row = page.locator(f"#task-{task['task_id']}")
        await row.get_by_role("button", name=words["pay_link"]).click()
        await expect(row.locator(".notice")).to_have_text(words["pay_link_made"])
        await row.focus()
        await page.keyboard.press("e")
        await expect(row.locator("select[name=template]")).to_be_focused()
    except BaseException:
        await screenshot_on_failure(page, "key-during-swap")
        raise


async def send_step(page: Page, fold: str | None, fields: dict[str, str], button: str) -> None:
    """One step of the case page: open its fold, fill its fields, send it."""
    if fold:
        await page.locator("summary", has_text=fold).first.click()
    for selector, value in fields.items():
        field = page.locator(selector)
        if await field.evaluate("e => e.tagName") == "SELECT":
            await field.select_option(value)
        else:
            await field.fill(value)
    await page.get_by_role("button", name=button, exact=True).click()
    await expect(page.locator(".notice")).to_be_visible()


@pytest.mark.parametrize("language", ["en", "es"])
async def test_an_emailed_dispute_to_closed_case_and_the_weekly_review(
    system: RunningSystem, browser: Browser, console: str, language: str
):
    """The customer's email opens a case; an agent works it to closed in the browser and
    the invoice's hold lifts; the supervisor then finds its root cause in the week's
    review. Every screen passes axe-core."""
    words, today = CASE_WORDS[language], date.today()
    sender, agent = f"{unique('ap')}@customer.test", unique("agent")
    cause_name = f"Seats keyed wrongly {unique('c')}"
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id = await s.account("Browser GmbH", "USD", contacts=[{"email": sender}])
        invoice_id = await s.invoice(
            account_id, 50_000, issued=today - timedelta(days=40), due=today - timedelta(days=10)
        )
        category = await s.create(
            "case-service",
            "/v1/root-causes",
            {"code": unique("SEATS").upper().replace("-", "_"), "name": cause_name},
            roles=("admin",),
        )

        async def filed() -> dict | None:
            answer = await s.send(
                "POST",
                "case-service",
                "/v1/inbound-email",
                roles=("integration",),
                headers={"Content-Type": "message/rfc822"},
                expect=201,
                content=raw_email(sender, "Billed for a seat", "3 seats, not 2"),
            )
            return (
                answer.json()["case"] if answer.json()["threaded_by"] == "sender_contact" else None
            )

        emailed = await eventually(filed, what="email filed on the account")

    context = await browser.new_context(base_url=console, viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    try:
        await sign_in(page, agent, language, "case_agent")
        if emailed["owner_id"] is None:  # no active agent for the rule: it waits in the queue
            await page.goto("/cases?queue=unassigned")
            await no_serious_violations(page)
            await page.get_by_role("link", name=emailed["case_number"]).click()
        else:  # the assignment rule gave it to another agent: this one takes it over
            await page.goto(f"/cases/{emailed['case_id']}")
        await page.get_by_role("button", name=words["take"]).click()
        await expect(page.locator(".notice")).to_be_visible()  # the case page is back
        await no_serious_violations(page)

        async def offered() -> bool:
            await page.reload()
            return (
                await page.locator(f"#links-invoice_id option[value='{invoice_id}']").count() == 1
            )

        await eventually(offered, what="the invoice offered for linking")
        await send_step(
            page, words["link"], {"#links-invoice_id": invoice_id}, words["link_button"]
        )
        await send_step(
            page,
            words["type"],
            {"#type-type": "dispute", "#type-reason": "3 seats billed, 2 contracted"},
            words["type"],
        )
        await send_step(page, words["status"], {"#status-status": "investigating"}, words["status"])
        await send_step(
            page,
            words["cause"],
            {
                "#root-cause-category_id": category["category_id"],
                "#root-cause-detail": "keyed at setup",
            },
            words["record_cause"],
        )
        await send_step(page, None, {"#note": "Provisioning shows 2 seats"}, words["add_note"])
        await page.locator("summary", has_text=words["attach"]).click()
        await page.set_input_files(
            "#attachments-file",
            files=[
                {
                    "name": "provisioning.pdf",
                    "mimeType": "application/pdf",
                    "buffer": b"%PDF-1.4\n2 seats since onboarding\n",
                }
            ],
        )
        await page.fill("#attachments-note", "Provisioning export")
        await page.get_by_role("button", name=words["attach_button"], exact=True).click()
        await expect(page.locator(".files a", has_text="provisioning.pdf")).to_be_visible()
        await send_step(
            page,
            words["correction"],
            {
                "#corrections-invoice_id": invoice_id,
                "#corrections-amount": "150.00" if language == "en" else "150,00",
                "#corrections-direction": "credit",
                "#corrections-reason_code": "SEAT",
                "#corrections-reason": "one seat never provisioned",
            },
            words["request"],
        )

        async def applied() -> bool:
            await page.reload()
            return words["applied"] in await page.locator(".corrections").inner_text()

        await eventually(applied, what="billing's answer on the case")
        await send_step(
            page,
            words["update"],
            {"#customer-updates-channel": "phone", "#customer-updates-summary": "Credited"},
            words["record_update"],
        )
        await send_step(
            page,
            words["confirmation"],
            {
                "#confirmation-confirmed_by_name": "AP",
                "#confirmation-channel": "phone",
                "#confirmation-confirmed_at": f"{today.isoformat()}T00:01",
                "#confirmation-satisfaction": "5",
            },
            words["confirm"],
        )
        await expect(page.locator(".confirmation")).to_contain_text(words["satisfaction"])
        await send_step(
            page,
            words["resolve"],
            {"#resolve-resolution_summary": "Credited"},
            words["resolve_button"],
        )
        await no_serious_violations(page)
        await page.get_by_role("button", name=words["close"]).click()
        await expect(page.locator(".case-status")).to_have_text(words["closed"])
        await expect(page.locator(".checklist .todo")).to_have_count(0)
        await no_serious_violations(page)

        async with httpx.AsyncClient(timeout=15) as http:
            s = Stories(system, http)

            async def lifted() -> list | None:
                holds = await s.get("collections-service", f"/v1/accounts/{account_id}/holds")
                return holds if holds and holds[0]["released_on"] else None

            [hold] = await eventually(lifted, what="hold lifted")
        assert hold["case_id"] == emailed["case_id"]

        await context.clear_cookies()
        await sign_in(page, unique("boss"), language, "supervisor")
        await page.goto("/supervisor")
        await no_serious_violations(page)
        await page.get_by_role("link", name=words["review"]).click()

        async def counted() -> bool:
            await page.reload()
            return cause_name in await page.locator("table.pareto").inner_text()

        await eventually(counted, what="the root cause in the weekly review")
        await no_serious_violations(page)
        await page.goto("/supervisor/aging?currency=USD&bucket=1-30")
        await expect(
            page.locator(f'table.aging-drill a[href="/accounts/{account_id}"]')
        ).to_be_visible()
        await no_serious_violations(page)
    except BaseException:
        await screenshot_on_failure(page, f"dispute-{language}")
        raise
    finally:
        await context.close()


@pytest.mark.parametrize("width", [1280, 390])
async def test_every_screen_at_desk_and_phone_width(
    system: RunningSystem, browser: Browser, console: str, width: int
):
    """At 390 px nothing but a wide table scrolls sideways: the page itself does not; at
    both widths axe-core finds no serious violation on any screen."""
    person = unique("rep")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id, _ = await account_on_worklist(s, person, unique("Phone Co"), 75_000)
        case = await s.create(
            "case-service",
            "/v1/cases",
            {
                "type": "billing_inquiry",
                "origin": "inbound_phone",
                "subject": "Why twice?",
                "description": "Charged twice",
                "account_id": account_id,
            },
            roles=("case_agent",),
        )
    context = await browser.new_context(base_url=console, viewport={"width": width, "height": 844})
    page = await context.new_page()
    try:
        await sign_in(page, person, "en", "collector", "case_agent", "supervisor", "admin")
        for path in (
            "/my-day",
            f"/accounts/{account_id}",
            "/cases?queue=unassigned",
            f"/cases/{case['case_id']}",
            "/supervisor",
            "/supervisor/weekly-review",
            "/supervisor/aging?currency=USD&bucket=1-30",
            "/admin",
            "/search?q=Phone",
            "/inbox",
            "/admin/templates",
            "/admin/templates/overdue_statement/en",
            "/preferences",
        ):
            await page.goto(path)
            wide = await page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{path} is {wide} px wide at a {width} px viewport"
            await no_serious_violations(page)
    except BaseException:
        await screenshot_on_failure(page, f"screens-{width}px")
        raise
    finally:
        await context.close()


@pytest.mark.parametrize("language", ["en", "es"])
async def test_a_supervisors_approval_in_the_browser(
    system: RunningSystem, browser: Browser, console: str, language: str
):
    """A clerk's large credit waits; a supervisor approves it from the approvals screen,
    which axe-core passes at desk and phone width, and billing applies it."""
    today = date.today()
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id = await s.account(unique("Approval Co"), "USD")
        invoice_id = await s.invoice(account_id, 2_000_000, issued=today, due=today)
        asked = await s.send(
            "POST",
            "billing-adapter",
            f"/v1/invoices/{invoice_id}/adjustments",
            roles=("integration",),
            sub=unique("clerk"),
            expect=202,
            headers={"Idempotency-Key": unique("key")},
            json={
                "kind": "credit",
                "amount_minor": 700_000,
                "reason_code": "goodwill",
                "effective_date": today.isoformat(),
            },
        )
        approval_id = asked.json()["approval_id"]
        context = await browser.new_context(
            base_url=console, viewport={"width": 390, "height": 844}
        )
        page = await context.new_page()
        try:
            await sign_in(page, unique("boss"), language, "supervisor")
            await page.goto("/supervisor/approvals")
            wide = await page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 390, f"approvals is {wide} px wide at 390 px"
            await no_serious_violations(page)
            await page.set_viewport_size({"width": 1280, "height": 900})
            row = page.locator(f"#approval-{approval_id}")
            await row.get_by_role(
                "button", name={"en": "Approve", "es": "Aprobar"}[language], exact=True
            ).click()
            await expect(page.locator("p.notice")).to_have_text(
                {"en": "Approved", "es": "Aprobada"}[language]
            )
            await expect(page.locator(f"#approval-{approval_id}")).to_have_count(0)
            await no_serious_violations(page)
        except BaseException:
            await screenshot_on_failure(page, f"approval-{language}")
            raise
        finally:
            await context.close()
        decided = await s.get("billing-adapter", f"/v1/approvals/{approval_id}")
        assert decided["status"] == "approved"


@pytest.mark.parametrize("language", ["en", "es"])
async def test_a_team_member_answers_from_the_inbox_in_the_browser(
    system: RunningSystem, browser: Browser, console: str, language: str
):
    """An operations member signs in to their team's inbox (at phone width), claims the
    escalation a case asked of them and answers it; the answer is on the case."""
    question = unique("How many seats are live?")
    async with httpx.AsyncClient(timeout=15) as http:
        case_id, escalation = await escalated(Stories(system, http), "operations", question)
    words = {
        "en": ("Claim", "Claimed", "Send answer", "Answered"),
        "es": ("Reclamar", "Reclamada", "Enviar respuesta", "Respondida"),
    }[language]
    context = await browser.new_context(base_url=console, viewport={"width": 390, "height": 844})
    page = await context.new_page()
    try:
        await sign_in(page, unique("ops"), language, "team:operations", landing="/inbox")
        item = page.locator(f"#escalation-{escalation['escalation_id']}")
        await expect(item.locator(".question")).to_have_text(question)
        wide = await page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, f"the inbox is {wide} px wide at 390 px"
        await no_serious_violations(page)
        await item.get_by_role("button", name=words[0], exact=True).click()
        await expect(item.locator(".state")).to_have_text(words[1])
        await item.locator("textarea[name=answer]").fill("Two since onboarding")
        await item.get_by_role("button", name=words[2], exact=True).click()
        await expect(item.locator(".state")).to_have_text(words[3])
        await no_serious_violations(page)
    except BaseException:
        await screenshot_on_failure(page, f"inbox-{language}")
        raise
    finally:
        await context.close()
    async with httpx.AsyncClient(timeout=15) as http:
        answered = await Stories(system, http).get("case-service", f"/v1/cases/{case_id}")
    assert answered["escalations"][0]["answer"] == "Two since onboarding"
