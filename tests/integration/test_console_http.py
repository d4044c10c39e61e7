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

from receivables_devkit.testing.console import (
    ConsoleUser,
    account_on_worklist,
    book_on_worklist,
    csrf_of,
)
from receivables_devkit.testing.stories import Stories, unique
from receivables_devkit.testing.system import RunningSystem

OWED = 120_000


@pytest.fixture
async def user(console: str):
    async with httpx.AsyncClient(base_url=console, timeout=20) as http:
        yield ConsoleUser(http)


async def test_every_screen_needs_a_signed_in_person(user: ConsoleUser):
    for path in (
        "/my-day",
        "/accounts/0190a0b0-0000-7000-8000-000000000000",
        "/search?q=x",
        "/cases",
        "/supervisor",
    ):
        answer = await user.http.get(path)
        assert answer.status_code == 303, (path, answer.text)
        assert answer.headers["location"].startswith("/sign-in?next=%2F")
    htmx = await user.http.get("/my-day", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/sign-in")


async def test_session_cookie_is_signed_http_only_and_same_site(user: ConsoleUser):
    signed_in = await user.sign_in(unique("collector"), "collector")
    [header] = [h for h in signed_in.headers.get_list("set-cookie") if h.startswith("rx_console=")]
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
    refused = await user.http.post("/sign-in/dev", data={"sub": "mallory", "roles": ["admin"]})
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
    offsite = await user.post(
        "/sign-in/dev",
        {"sub": "ann", "roles": ["collector"], "next": "//evil.example/"},
        expect=303,
    )
    assert offsite.headers["location"] == "/"


async def test_a_collectors_day_over_http(system: RunningSystem, user: ConsoleUser):
    today = date.today()
    collector, name = unique("collector"), unique("Console Ltd")
    async with httpx.AsyncClient(timeout=15) as http:
        account_id, task = await account_on_worklist(Stories(system, http), collector, name, OWED)

    await user.sign_in(collector, "collector", language="es")
    my_day = await user.page("/my-day")
    assert name in my_day and "Mi día" in my_day
    assert "1.200,00\xa0US$" in my_day  # Spanish money: dot thousands, comma decimals

    bad = await user.post(
        f"/accounts/{account_id}/promises",
        {"amount": "12,34,5", "currency": "USD", "promised_date": ""},
        expect=422,
    )
    assert f'id="amount-{account_id}-error"' in bad.text
    past = await user.post(
        f"/accounts/{account_id}/promises",
        {
            "amount": "1200",
            "currency": "USD",
            "promised_date": (today - timedelta(days=3)).isoformat(),
        },
        expect=422,
    )
    assert f'id="date-{account_id}-error"' in past.text, past.text

    called = await user.post(
        f"/tasks/{task['task_id']}/call",
        {"account_id": account_id, "outcome": "reached_promised", "notes": "will pay Friday"},
        expect=200,
        **{"HX-Request": "true"},
    )
    assert f'id="moves-{task["task_id"]}"' in called.text and "Log call" not in called.text
    taken = await user.post(
        f"/accounts/{account_id}/promises",
        {
            "amount": "1200.00",
            "currency": "USD",
            "promised_date": (today + timedelta(days=3)).isoformat(),
        },
        expect=200,
    )
    assert "Promesa registrada" in taken.text

    account = await user.page(f"/accounts/{account_id}")
    assert "will pay Friday" in account
    assert "1.200,00\xa0US$" in account

    async with httpx.AsyncClient(timeout=15) as http:
        _, voicemail = await account_on_worklist(
            Stories(system, http), collector, unique("Voicemail Ltd"), 50_000
        )
    my_day = await user.page("/my-day")
    version = (
        my_day.split(f'id="moves-{voicemail["task_id"]}"', 1)[1]
        .split('name="version" value="', 1)[1]
        .split('"', 1)[0]
    )
    done = await user.post(
        f"/tasks/{voicemail['task_id']}/complete",
        {"outcome": "voicemail", "version": version},
        expect=200,
        **{"HX-Request": "true"},
    )
    assert "Tarea completada" in done.text
    assert '<span class="status">completada</span>' in done.text


async def test_a_stale_write_shows_what_changed_and_can_be_redone(
    system: RunningSystem, user: ConsoleUser
):
    agent = unique("agent")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        case = await s.create(
            "case-service",
            "/v1/cases",
            {
                "type": "billing_inquiry",
                "origin": "inbound_phone",
                "subject": "Why twice?",
                "description": "Charged twice",
            },
            roles=("case_agent",),
        )
    await user.sign_in(agent, "case_agent")
    page = await user.page(f"/cases/{case['case_id']}")
    version = html.unescape(page.split('name="version" value="', 1)[1].split('"', 1)[0])
    async with httpx.AsyncClient(timeout=15) as http:
        await Stories(system, http).send(
            "POST",
            "case-service",
            f"/v1/cases/{case['case_id']}/notes",
            roles=("case_agent",),
            sub=agent,
            expect=200,
            json={"body": "colleague's note"},
        )

    stale = await user.post(
        f"/cases/{case['case_id']}/notes", {"body": "my note", "version": version}, expect=409
    )
    assert "Someone changed this" in stale.text
    assert "colleague&#39;s note" in stale.text and ">my note</textarea>" in stale.text
    user.csrf = csrf_of(stale.text)
    fresh = html.unescape(stale.text.split('name="version" value="', 1)[1].split('"', 1)[0])
    redone = await user.post(
        f"/cases/{case['case_id']}/notes", {"body": "my note", "version": fresh}, expect=200
    )
    assert "Note added" in redone.text and "<li>my note</li>" in redone.text


async def test_hostile_addresses_get_a_page_never_a_500(user: ConsoleUser):
    await user.sign_in(unique("collector"), "collector")
    for path, status in (
        ("/accounts/not-a-uuid", 422),
        ("/search?q=" + "x" * 300, 422),
        ("/cases?queue=everyone", 422),
        ("/supervisor?currency=usd", 422),
        ("/no-such-page", 404),
        ("/accounts/0190a0b0-0000-7000-8000-000000000000", 404),
    ):
        answer = await user.http.get(path)
        assert answer.status_code == status, (path, answer.status_code, answer.text[:500])
        assert answer.headers["content-type"].startswith("text/html"), path


async def test_every_move_of_my_day_stays_on_the_list(system: RunningSystem, user: ConsoleUser):
    """Follow-up, reschedule, email and a case opened, each answered with the task's part of
    the row (htmx swaps it in place); refusals name their field; a stale reschedule says
    someone changed the task."""
    today = date.today()
    collector, name = unique("collector"), unique("Moves Ltd")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id, task = await account_on_worklist(
            s,
            collector,
            name,
            OWED,
            contacts=[{"name": "Pat Doe", "email": "ap@moves.test", "phone": "+15550100"}],
        )
    task_id = task["task_id"]
    await user.sign_in(collector, "collector")
    my_day = await user.page("/my-day")
    # Everything needed to call is on the row: who, their number, what is owed.
    assert f'id="moves-{task_id}"' in my_day and 'href="tel:+15550100"' in my_day
    assert "Pat Doe" in my_day
    version = html.unescape(my_day.split('name="version" value="', 1)[1].split('"', 1)[0])
    hx = {"HX-Request": "true"}

    no_date = await user.post(
        f"/tasks/{task_id}/follow-up",
        {"account_id": account_id, "due_on": "", "due_time": "25:00"},
        expect=422,
        **hx,
    )
    assert f'id="follow-time-{task_id}-error"' in no_date.text
    past = await user.post(
        f"/tasks/{task_id}/follow-up",
        {"account_id": account_id, "due_on": (today - timedelta(days=7)).isoformat()},
        expect=422,
        **hx,
    )
    assert f'id="follow-{task_id}-error"' in past.text, past.text
    callback_day = today + timedelta(days=7)
    while callback_day.weekday() >= 5:  # a business day: the API refuses weekends
        callback_day += timedelta(days=1)
    callback = callback_day.isoformat()
    set_up = await user.post(
        f"/tasks/{task_id}/follow-up",
        {
            "account_id": account_id,
            "due_on": callback,
            "due_time": "10:00",
            "note": "call back about the cheque",
        },
        expect=200,
        **hx,
    )
    assert "Follow-up set" in set_up.text and set_up.text.lstrip().startswith(
        f'<div class="task-moves" id="moves-{task_id}"'
    )
    async with httpx.AsyncClient(timeout=15) as http:
        follow_ups = [
            t
            for t in await Stories(system, http).tasks_for(account_id, collector, callback_day)
            if t["task_id"] != task_id
        ]
    assert [(t["due_on"], t["note"]) for t in follow_ups] == [
        (callback, "call back about the cheque")
    ], follow_ups

    # Someone else moved the task meanwhile: the version the list was loaded with is stale.
    async with httpx.AsyncClient(timeout=15) as http:
        await Stories(system, http).send(
            "PATCH",
            "collections-service",
            f"/v1/tasks/{task_id}",
            roles=("collector",),
            sub=collector,
            expect=200,
            json={"snooze_days": 1},
            headers={"If-Match": f'"{version}"'},
        )
    stale = await user.post(
        f"/tasks/{task_id}/reschedule", {"due_on": callback, "version": version}, expect=409, **hx
    )
    assert "Someone changed this" in stale.text
    fresh = html.unescape(stale.text.split('name="version" value="', 1)[1].split('"', 1)[0])
    assert fresh != version
    moved = await user.post(
        f"/tasks/{task_id}/reschedule", {"due_on": callback, "version": fresh}, expect=200, **hx
    )
    assert "Task rescheduled" in moved.text

    sent = await user.post(f"/tasks/{task_id}/email", {"account_id": account_id}, expect=200, **hx)
    assert "Email sent" in sent.text
    assert '<span class="status">completed</span>' in sent.text, "the email was the task's move"

    empty = await user.post(
        f"/tasks/{task_id}/case",
        {
            "account_id": account_id,
            "type": "dispute",
            "subject": "",
            "description": "says invoice was never delivered",
        },
        expect=422,
        **hx,
    )
    assert f'id="case-subject-{task_id}-error"' in empty.text
    assert "says invoice was never delivered</textarea>" in empty.text
    opened = await user.post(
        f"/tasks/{task_id}/case",
        {
            "account_id": account_id,
            "type": "dispute",
            "subject": "Never delivered",
            "description": "says invoice was never delivered",
        },
        expect=200,
        **hx,
    )
    assert "Case opened" in opened.text and 'href="/cases/' in opened.text
    hostile = await user.post(
        f"/tasks/{task_id}/case",
        {"account_id": "../../v1/admin", "type": "dispute", "subject": "x", "description": "y"},
        expect=422,
        **hx,
    )
    assert "Not an account" in hostile.text


async def test_my_day_shows_the_worklist_a_page_at_a_time(system: RunningSystem, user: ConsoleUser):
    """Highest priority first, 25 to a page: a long worklist is not one slow page."""
    collector = unique("collector")
    async with httpx.AsyncClient(timeout=30) as http:
        await book_on_worklist(Stories(system, http), collector, 27)
    await user.sign_in(collector, "collector")
    first = await user.page("/my-day")
    assert first.count('class="task"') == 25 and "Tasks 1-25 of 27" in first
    assert 'href="/my-day?page=2" rel="next"' in first and 'rel="prev"' not in first
    second = await user.page("/my-day?page=2")
    assert second.count('class="task"') == 2 and "Tasks 26-27 of 27" in second
    assert 'href="/my-day?page=1" rel="prev"' in second and 'rel="next"' not in second
    assert (await user.http.get("/my-day?page=0")).status_code == 422


async def test_an_email_from_a_template_previewed_first_and_a_pay_link(
    system: RunningSystem, user: ConsoleUser
):
    """The collector picks a dunning template, reads it in the account's language before
    sending, sends it from the row, and makes a pay link billing gets from the provider."""
    collector = unique("collector")
    async with httpx.AsyncClient(timeout=15) as http:
        account_id, task = await account_on_worklist(
            Stories(system, http),
            collector,
            unique("Mailed SA"),
            OWED,
            contacts=[{"name": "Ana", "email": "ana@mailed.test"}],
        )
    task_id = task["task_id"]
    await user.sign_in(collector, "collector")
    my_day = await user.page("/my-day")
    row = my_day.split(f'id="moves-{task_id}"', 1)[1]
    # The email form is not sent with every row: its fold fetches it when first opened.
    assert f'id="template-{task_id}"' not in row
    assert f'hx-get="/tasks/{task_id}/folds/email?language=en"' in row
    fold = await user.page(f"/tasks/{task_id}/folds/email?language=es")
    assert f'id="template-{task_id}"' in fold and 'value="overdue_statement"' in fold
    assert '<option value="es" selected>' in fold, "the account's language is offered first"
    assert (await user.http.get(f"/tasks/{task_id}/folds/nothing")).status_code == 422

    shown = await user.http.get(
        f"/tasks/{task_id}/email-preview",
        params={"template": "overdue_statement", "language": "es"},
    )
    assert shown.status_code == 200 and 'class="preview-subject"' in shown.text, shown.text
    assert 'lang="es"' in shown.text
    for template in ("../../v1/policies", "no_such_template"):
        refused = await user.http.get(
            f"/tasks/{task_id}/email-preview", params={"template": template, "language": "en"}
        )
        assert refused.status_code == 422 and 'class="refusal"' in refused.text, template

    hostile = await user.post(
        f"/tasks/{task_id}/email", {"account_id": account_id, "template": "../x"}, expect=422
    )
    assert f'id="template-{task_id}-error"' in hostile.text
    unknown = await user.post(
        f"/tasks/{task_id}/email",
        {"account_id": account_id, "template": "no_such_template"},
        expect=422,
    )
    assert 'class="refusal"' in unknown.text

    key = unique("link")
    made = await user.post(
        f"/tasks/{task_id}/pay-link", {"account_id": account_id, "idempotency_key": key}, expect=200
    )
    assert "Pay link made" in made.text, made.text
    url = html.unescape(
        made.text.split(f'id="pay-link-{task_id}" readonly value="', 1)[1].split('"', 1)[0]
    )
    assert url.startswith("http"), url
    again = await user.post(
        f"/tasks/{task_id}/pay-link", {"account_id": account_id, "idempotency_key": key}, expect=200
    )
    assert html.escape(url) in again.text, "the same key makes one link, not two"
    bad = await user.post(
        f"/tasks/{task_id}/pay-link", {"account_id": "not-an-account"}, expect=422
    )
    assert "Not an account" in bad.text

    sent = await user.post(
        f"/tasks/{task_id}/email",
        {"account_id": account_id, "template": "overdue_statement"},
        expect=200,
        **{"HX-Request": "true"},
    )
    assert "Email sent" in sent.text and '<span class="status">completed</span>' in sent.text
