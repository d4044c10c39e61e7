"""The console over plain HTTP against the real services: sign-in, sessions, CSRF, refusals.

A collector signs in with the dev sign-in, works a task from My day (a call
that closes it, a promise refused and then taken), and the account page shows
what was done; the service's refusals come back next to the field they name,
and a note written over a colleague's change shows "someone changed this".
"""

from __future__ import annotations

import html
from datetime import date, timedelta

import httpx
import pytest

from receivables_devkit.testing.console import ConsoleUser, account_on_worklist, csrf_of
from receivables_devkit.testing.stories import Stories, unique
from receivables_devkit.testing.system import RunningSystem

OWED = 120_000


@pytest.fixture
async def user(console: str):
    async with httpx.AsyncClient(base_url=console, timeout=20) as http:
        yield ConsoleUser(http)


async def test_every_screen_needs_a_signed_in_person(user: ConsoleUser):
    for path in ("/my-day", "/accounts/0190a0b0-0000-7000-8000-000000000000", "/search?q=x",
                 "/cases", "/supervisor"):
        answer = await user.http.get(path)
        assert answer.status_code == 303, (path, answer.text)
        assert answer.headers["location"].startswith("/sign-in?next=%2F")
    htmx = await user.http.get("/my-day", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/sign-in")


async def test_session_cookie_is_signed_http_only_and_same_site(user: ConsoleUser):
    signed_in = await user.sign_in(unique("collector"), "collector")
    [header] = [h for h in signed_in.headers.get_list("set-cookie")
                if h.startswith("rx_console=")]
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= attributes, header
    assert "samesite=lax" in header.lower()
    # Plain-http loopback dev is the one place `Secure` is relaxed (see the unit tests).
    assert "secure" not in attributes
    # No script but the console's own files: a CDN or an injected inline script never runs.
    assert "script-src 'self';" in signed_in.headers["content-security-policy"]
    [cookie] = [c for c in user.http.cookies.jar if c.name == "rx_console"]
    forged = cookie.value[:-4] + ("AAAA" if not cookie.value.endswith("AAAA") else "BBBB")
    user.http.cookies.clear()
    user.http.cookies.set("rx_console", forged)
    assert (await user.http.get("/my-day")).status_code == 303


async def test_a_form_without_the_session_csrf_token_is_refused(user: ConsoleUser):
    await user.page("/sign-in")
    refused = await user.http.post("/sign-in/dev", data={"sub": "mallory",
                                                         "roles": ["admin"]})
    assert refused.status_code == 403
    assert (await user.http.get("/my-day")).status_code == 303, "not signed in"
    await user.sign_in(unique("collector"), "collector")
    wrong = await user.http.post("/sign-out", data={"csrf_token": "not-the-token"})
    assert wrong.status_code == 403
    await user.page("/my-day")  # still signed in
    by_header = await user.http.post("/sign-out", headers={"X-CSRF-Token": user.csrf})
    assert by_header.status_code == 303
    assert (await user.http.get("/my-day")).status_code == 303


async def test_dev_sign_in_names_the_field_it_refuses(user: ConsoleUser):
    await user.page("/sign-in")
    answer = await user.post("/sign-in/dev", {"sub": "a b<script>", "roles": []}, expect=422)
    assert 'id="sub-error"' in answer.text and 'id="roles-error"' in answer.text
    assert "<script>" not in answer.text
    offsite = await user.post("/sign-in/dev", {"sub": "ann", "roles": ["collector"],
                                               "next": "//evil.example/"}, expect=303)
    assert offsite.headers["location"] == "/"


async def test_a_collectors_day_over_http(system: RunningSystem, user: ConsoleUser):
    today = date.today()
    collector, name = unique("collector"), unique("Console Ltd")
    async with httpx.AsyncClient(timeout=15) as http:
        account_id, task = await account_on_worklist(Stories(system, http), collector, name,
                                                     OWED)

    await user.sign_in(collector, "collector", language="es")
    my_day = await user.page("/my-day")
    assert name in my_day and "Mi día" in my_day
    assert "1.200,00\xa0US$" in my_day  # Spanish money: dot thousands, comma decimals

    bad = await user.post(f"/accounts/{account_id}/promises",
                          {"amount": "12,34,5", "currency": "USD", "promised_date": ""},
                          expect=422)
    assert f'id="amount-{account_id}-error"' in bad.text
    past = await user.post(f"/accounts/{account_id}/promises",
                           {"amount": "1200", "currency": "USD",
                            "promised_date": (today - timedelta(days=3)).isoformat()},
                           expect=422)
    assert f'id="date-{account_id}-error"' in past.text, past.text

    called = await user.post(f"/tasks/{task['task_id']}/call",
                             {"account_id": account_id, "outcome": "reached_promised",
                              "notes": "will pay Friday"}, expect=200, **{"HX-Request": "true"})
    assert f'id="task-{task["task_id"]}"' in called.text and "Log call" not in called.text
    taken = await user.post(f"/accounts/{account_id}/promises",
                            {"amount": "1200.00", "currency": "USD",
                             "promised_date": (today + timedelta(days=3)).isoformat()},
                            expect=200)
    assert "Promesa registrada" in taken.text

    account = await user.page(f"/accounts/{account_id}")
    assert "will pay Friday" in account
    assert "1.200,00\xa0US$" in account


async def test_a_stale_write_shows_what_changed_and_can_be_redone(system: RunningSystem,
                                                                  user: ConsoleUser):
    agent = unique("agent")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        case = await s.create("case-service", "/v1/cases", {
            "type": "billing_inquiry", "origin": "inbound_phone", "subject": "Why twice?",
            "description": "Charged twice"}, roles=("case_agent",))
    await user.sign_in(agent, "case_agent")
    page = await user.page(f"/cases/{case['case_id']}")
    version = html.unescape(page.split('name="version" value="', 1)[1].split('"', 1)[0])
    async with httpx.AsyncClient(timeout=15) as http:
        await Stories(system, http).send(
            "POST", "case-service", f"/v1/cases/{case['case_id']}/notes", roles=("case_agent",),
            sub=agent, expect=200, json={"body": "colleague's note"})

    stale = await user.post(f"/cases/{case['case_id']}/notes",
                            {"body": "my note", "version": version}, expect=409)
    assert "Someone changed this" in stale.text
    assert "colleague&#39;s note" in stale.text and ">my note</textarea>" in stale.text
    user.csrf = csrf_of(stale.text)
    fresh = html.unescape(stale.text.split('name="version" value="', 1)[1].split('"', 1)[0])
    redone = await user.post(f"/cases/{case['case_id']}/notes",
                             {"body": "my note", "version": fresh}, expect=200)
    assert "Note added" in redone.text and "<li>my note</li>" in redone.text


async def test_hostile_addresses_get_a_page_never_a_500(user: ConsoleUser):
    await user.sign_in(unique("collector"), "collector")
    for path, status in (("/accounts/not-a-uuid", 422), ("/search?q=" + "x" * 300, 422),
                         ("/cases?queue=everyone", 422), ("/supervisor?currency=usd", 422),
                         ("/no-such-page", 404),
                         ("/accounts/0190a0b0-0000-7000-8000-000000000000", 404)):
        answer = await user.http.get(path)
        assert answer.status_code == status, (path, answer.status_code, answer.text[:500])
        assert answer.headers["content-type"].startswith("text/html"), path
