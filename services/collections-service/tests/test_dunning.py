"""Automatic dunning through the API, a real PostgreSQL and a real SMTP server on loopback.

Templates supervisors write (checked when saved, sandboxed, formatted for their
locale), email steps sent by the system inside the send window, exactly once
per account, step and day even with two senders at once, withheld for
do-not-contact and opt-out, throttled, bounced by a DSN, previewed for tomorrow.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from collections_service.domain.clock import FixedClock
from collections_service.runtime import Runtime
from collections_service.service_layer.dunning import send_due
from collections_service.testing import (
    KIM,
    MONDAY,
    SUPERVISOR,
    BillingFeed,
    Inbox,
    account,
    as_,
    creating,
    invoice,
)
from receivables_platform.contracts.billing import Contact
from receivables_platform.db.pool import create_pool

GATEWAY = as_("mail-gateway", "integration")
EMAIL_STEP = [
    {"step_id": "statement", "offset_days": 1, "channel": "email", "template": "overdue_statement"},
    {"step_id": "call", "offset_days": 20, "channel": "call", "template": "call_script"},
]
ES_BODY = (
    "Estimado/a {{ contact_name }}:\nDebe {{ total | money(currency) }} desde el "
    "{{ invoices[0].due_date | day }}.\nPague aquí: {{ pay_link }}\n"
    "Transferencia: {{ remittance }}\nAtentamente,\n{{ sender_name }}\n"
)


def at_hour(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


async def customer(
    billing: BillingFeed,
    api: httpx.AsyncClient,
    *,
    total: int = 120_000,
    currency: str = "EUR",
    language: str = "en",
    contacts: list[Contact] | None = None,
    **profile: Any,
) -> UUID:
    """An account owned by kim with one invoice due a week before MONDAY, in its language."""
    registered = account(
        currency=currency,
        contacts=contacts
        or [
            Contact(name="Ana García", email="ana@acme.test", role="billing"),
            Contact(name="Luis Pérez", email="luis@acme.test", role="billing_cc"),
            Contact(name="Eve Sales", email="eve@acme.test", role="sales"),
        ],
    )
    await billing.send(
        registered,
        invoice(
            registered.account_id,
            date(2026, 10, 26),
            total,
            currency=currency,
            external_id="F-2026-001",
        ),
    )
    url = f"/v1/accounts/{registered.account_id}"
    read = await api.get(url, headers=SUPERVISOR)
    assigned = await api.put(
        f"{url}/collector",
        json={"collector_id": "kim"},
        headers={**SUPERVISOR, "If-Match": read.headers["ETag"]},
    )
    assert assigned.status_code == 200, assigned.text
    current = await api.get(f"{url}/profile", headers=KIM)
    written = await api.put(
        f"{url}/profile",
        json={"language": language, **profile},
        headers={**KIM, "If-Match": current.headers["ETag"]},
    )
    assert written.status_code == 200, written.text
    return registered.account_id


async def email_policy(api: httpx.AsyncClient, **extra: Any) -> None:
    made = await api.post(
        "/v1/policies",
        json={"name": "Email first", "steps": EMAIL_STEP, **extra},
        headers=creating(SUPERVISOR),
    )
    assert made.status_code == 201, made.text


async def cadence(api: httpx.AsyncClient, day: date = MONDAY) -> None:
    ran = await api.post(
        "/v1/cadence/runs", json={"business_date": day.isoformat()}, headers=SUPERVISOR
    )
    assert ran.status_code == 200, ran.text


async def spanish_template(api: httpx.AsyncClient) -> dict[str, Any]:
    """The shipped Spanish statement (version 0) revised by a supervisor."""
    made = await api.put(
        "/v1/templates/overdue_statement/es",
        json={
            "subject": "{{ account.name }}: vencido {{ total | money(currency) }}",
            "body": ES_BODY,
            "requires": ["pay_link", "remittance"],
        },
        headers={**SUPERVISOR, "If-Match": '"0"'},
    )
    assert made.status_code == 200, made.text
    return dict(made.json())


@pytest.fixture
async def pool(database_url: str) -> Any:
    made = await create_pool(database_url)
    yield made
    await made.close()


def sending(runtime: Runtime, inbox: Inbox, **settings: Any) -> None:
    runtime.clock = FixedClock(at_hour(MONDAY, 10))
    runtime.settings = runtime.settings.model_copy(
        update={
            "pay_link_url_template": "https://pay.example/a/{account_id}",
            "remittance": "IBAN ES91 2100 0418 4502 0005 1332",
            **settings,
        }
    )


# -- templates ------------------------------------------------------------------------------------


async def test_supervisors_write_versioned_templates_checked_when_saved(
    api: httpx.AsyncClient,
) -> None:
    made = await api.post(
        "/v1/templates",
        json={
            "name": "aviso",
            "language": "es",
            "subject": "Aviso {{ total | money(currency) }}",
            "body": ES_BODY,
            "requires": ["pay_link", "remittance"],
        },
        headers=creating(SUPERVISOR),
    )
    assert made.status_code == 201, made.text
    assert made.json()["version"] == 1 and made.headers["ETag"] == '"1"'
    url = "/v1/templates/aviso/es"
    read = await api.get(url, headers=KIM)
    assert read.headers["ETag"] == '"1"'
    revised = await api.put(
        url,
        json={"subject": "Aviso", "body": ES_BODY + "Gracias.\n", "requires": ["pay_link"]},
        headers={**SUPERVISOR, "If-Match": '"1"'},
    )
    assert revised.status_code == 200, revised.text
    assert revised.json()["version"] == 2 and revised.headers["ETag"] == '"2"'
    stale = await api.put(
        url, json={"subject": "Otro", "body": ES_BODY}, headers={**SUPERVISOR, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    first = await api.get(url, params={"version": 1}, headers=KIM)
    assert (first.json()["version"], first.json()["subject"]) == (1, made.json()["subject"])
    by_collector = await api.post(
        "/v1/templates",
        json={"name": "x", "language": "en", "subject": "s", "body": "b"},
        headers=creating(KIM),
    )
    assert by_collector.status_code == 403
    shown = await api.get(f"{url}/preview", headers=KIM)
    assert shown.status_code == 200 and "Gracias." in shown.json()["body"]
    assert "1.200,00\xa0€" in shown.json()["body"]


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "body.body", "unsafe"),
        ("{{ cycler.__init__.__globals__.os.system('id') }}", "body.body", "unsafe"),
        ("{{ invoices.append(1) }}", "body.body", "unsafe"),
        ("{{ 'x' * 100000000 }}", "body.body", "too large"),
        ("{{ no_such_placeholder }}", "body.body", "undefined"),
        ("{% for %}", "body.body", "render"),
        ("Total {{ total | money(currency) }}", "body.body", "pay_link"),
    ],
)
async def test_hostile_and_broken_templates_are_refused_and_nothing_is_saved(
    api: httpx.AsyncClient, body: str, field: str, says: str
) -> None:
    refused = await api.post(
        "/v1/templates",
        json={
            "name": "hostile",
            "language": "en",
            "subject": "s",
            "body": body,
            "requires": ["pay_link"],
        },
        headers=creating(SUPERVISOR),
    )
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert error["field"] == field and says in refused.json()["detail"]
    assert (await api.get("/v1/templates/hostile/en", headers=KIM)).status_code == 404
    preview = await api.post(
        "/v1/templates/preview",
        json={"language": "en", "subject": "s", "body": body, "requires": ["pay_link"]},
        headers=SUPERVISOR,
    )
    assert preview.status_code == 422


async def test_a_template_in_an_unknown_language_or_a_second_first_version_is_refused(
    api: httpx.AsyncClient,
) -> None:
    french = await api.post(
        "/v1/templates",
        json={"name": "reminder", "language": "fr", "subject": "s", "body": "b"},
        headers=creating(SUPERVISOR),
    )
    assert french.status_code == 422
    assert french.json()["errors"][0]["field"] == "body.language"
    again = await api.post(
        "/v1/templates",
        json={"name": "overdue_statement", "language": "en", "subject": "s", "body": "b"},
        headers=creating(SUPERVISOR),
    )
    assert again.status_code == 409  # shipped in English: revise it instead


async def test_a_policy_naming_a_template_that_does_not_exist_is_refused_when_saved(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    steps = [
        {"offset_days": 1, "channel": "email", "template": "overdue_statement"},
        {"offset_days": 9, "channel": "email", "template": "no_such_letter"},
    ]
    refused = await api.post(
        "/v1/policies", json={"name": "Bad", "steps": steps}, headers=creating(SUPERVISOR)
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "body.steps.1.template"
    assert await db.fetchval("SELECT count(*) FROM cadence_policies") == 0


# -- automatic sends ------------------------------------------------------------------------------


async def test_an_email_step_goes_out_by_itself_in_spanish_with_locale_formatting(
    api: httpx.AsyncClient,
    billing: BillingFeed,
    db: asyncpg.Connection,
    inbox: Inbox,
    runtime: Runtime,
    pool: asyncpg.Pool,
) -> None:
    await spanish_template(api)
    named = await api.put("/v1/collectors/kim", json={"name": "Kim Navarro"}, headers=SUPERVISOR)
    assert named.status_code == 200, named.text
    account_id = await customer(billing, api, language="es")
    await email_policy(api)
    await cadence(api)
    sending(runtime, inbox, dunning=True)
    for _ in range(100):  # the service's own background sender, polling every 0.2 s
        if inbox.messages:
            break
        await asyncio.sleep(0.1)
    [message] = inbox.messages
    assert message["To"] == "ana@acme.test" and message["Cc"] == "luis@acme.test"
    assert sorted(inbox.envelopes[0]) == ["ana@acme.test", "luis@acme.test"]
    assert message["Content-Language"] == "es"
    assert message["Subject"] == "Acme Corp: vencido 1.200,00 €"
    body = message.get_content()
    assert "Estimado/a Ana García" in body and "1.200,00\xa0€" in body
    assert "26 oct 2026" in body and "Kim Navarro" in body
    assert f"https://pay.example/a/{account_id}" in body and "IBAN ES91" in body
    runtime.settings = runtime.settings.model_copy(update={"dunning": False})
    for _ in range(50):  # the mail server has it; the sender records it a moment later
        [sent] = (await api.get(f"/v1/accounts/{account_id}/dunning", headers=KIM)).json()
        if sent["status"] != "claimed":
            break
        await asyncio.sleep(0.1)
    assert (sent["status"], sent["step_id"], sent["language"]) == ("sent", "statement", "es")
    assert sent["message_id"] == message["Message-ID"]
    [contact] = (await api.get(f"/v1/accounts/{account_id}/contacts", headers=KIM)).json()
    assert (contact["outcome"], contact["collector_id"]) == ("email_sent", "kim")
    assert contact["email_message_id"] == message["Message-ID"]
    event = await db.fetchval("SELECT data FROM events WHERE type = 'collections.email.sent'")
    assert event["automatic"] is True and event["cc"] == ["luis@acme.test"]
    assert event["language"] == "es" and event["language_requested"] is None
    status = await db.fetchval("SELECT status FROM tasks WHERE account_id = $1", account_id)
    assert status == "completed"
    assert (await send_due(pool, runtime)).sent == 0  # a restart or another pass: nothing


async def test_two_senders_at_once_send_each_email_exactly_once(
    api: httpx.AsyncClient, billing: BillingFeed, inbox: Inbox, runtime: Runtime, database_url: str
) -> None:
    accounts = [await customer(billing, api) for _ in range(4)]
    await email_policy(api)
    await cadence(api)
    sending(runtime, inbox)
    pools = [await create_pool(database_url) for _ in range(2)]
    try:
        first, second = await asyncio.gather(*(send_due(p, runtime) for p in pools))
        again = await send_due(pools[0], runtime)
    finally:
        for p in pools:
            await p.close()
    assert first.sent + second.sent == 4 and again.sent == 0
    assert len(inbox.messages) == 4
    assert len({m["Message-ID"] for m in inbox.messages}) == 4
    for account_id in accounts:
        sends = (await api.get(f"/v1/accounts/{account_id}/dunning", headers=KIM)).json()
        assert [s["status"] for s in sends] == ["sent"]


async def test_nothing_goes_out_before_the_window_opens_or_after_it_closes(
    api: httpx.AsyncClient, billing: BillingFeed, inbox: Inbox, runtime: Runtime, pool: asyncpg.Pool
) -> None:
    await customer(billing, api)
    await email_policy(api)
    await cadence(api)
    sending(runtime, inbox)
    for hour, minute in ((7, 59), (17, 0), (22, 30)):
        runtime.clock = FixedClock(at_hour(MONDAY, hour, minute))
        outside = await send_due(pool, runtime)
        assert not outside.in_window and outside.sent == 0
    assert inbox.messages == []
    runtime.settings = runtime.settings.model_copy(update={"dunning_window_end": time(23, 0)})
    assert (await send_due(pool, runtime)).sent == 1  # 22:30, inside a window set to 23:00


async def test_a_missing_language_falls_back_to_english_visibly(
    api: httpx.AsyncClient,
    billing: BillingFeed,
    inbox: Inbox,
    runtime: Runtime,
    pool: asyncpg.Pool,
    db: asyncpg.Connection,
) -> None:
    account_id = await customer(billing, api, language="fr")
    await email_policy(api)
    await cadence(api)
    sending(runtime, inbox)
    assert (await send_due(pool, runtime)).sent == 1
    assert inbox.messages[0]["Content-Language"] == "en"
    assert "€1,200.00" in inbox.messages[0].get_content()
    [sent] = (await api.get(f"/v1/accounts/{account_id}/dunning", headers=KIM)).json()
    assert (sent["language"], sent["language_requested"]) == ("en", "fr")
    [contact] = (await api.get(f"/v1/accounts/{account_id}/contacts", headers=KIM)).json()
    assert (contact["language"], contact["language_requested"]) == ("en", "fr")
    event = await db.fetchval("SELECT data FROM events WHERE type = 'collections.email.sent'")
    assert event["language_requested"] == "fr"


async def test_do_not_contact_and_opt_out_withhold_the_email_and_leave_the_task(
    api: httpx.AsyncClient, billing: BillingFeed, inbox: Inbox, runtime: Runtime, pool: asyncpg.Pool
) -> None:
    blocked = await customer(billing, api, do_not_contact=True)
    opted = await customer(billing, api, email_opt_out=True)
    await email_policy(api)
    await cadence(api)
    sending(runtime, inbox)
    summary = await send_due(pool, runtime)
    assert (summary.sent, summary.withheld) == (0, 2) and inbox.messages == []
    for account_id, why in ((blocked, "do not contact"), (opted, "opted out of email")):
        [send] = (await api.get(f"/v1/accounts/{account_id}/dunning", headers=KIM)).json()
        assert (send["status"], send["error"]) == ("withheld", why)
    worklist = (await api.get("/v1/worklist", headers=KIM)).json()["tasks"]
    assert {t["account_id"] for t in worklist} == {str(blocked), str(opted)}


async def test_sends_are_throttled_per_minute_across_passes(
    api: httpx.AsyncClient, billing: BillingFeed, inbox: Inbox, runtime: Runtime, pool: asyncpg.Pool
) -> None:
    for _ in range(3):
        await customer(billing, api)
    await email_policy(api)
    await cadence(api)
    sending(runtime, inbox, dunning_per_minute=2)
    first = await send_due(pool, runtime)
    assert (first.sent, first.throttled) == (2, True)
    assert (await send_due(pool, runtime)).sent == 0  # the same minute
    runtime.clock = FixedClock(at_hour(MONDAY, 10, 1))
    assert (await send_due(pool, runtime)).sent == 1
    assert len(inbox.messages) == 3


async def test_a_refused_mailbox_is_recorded_as_failed_with_the_server_s_reply(
    api: httpx.AsyncClient, billing: BillingFeed, inbox: Inbox, runtime: Runtime, pool: asyncpg.Pool
) -> None:
    account_id = await customer(
        billing, api, contacts=[Contact(name="Gone", email="gone@acme.test", role="billing")]
    )
    await email_policy(api)
    await cadence(api)
    sending(runtime, inbox)
    assert (await send_due(pool, runtime)).failed == 1
    [send] = (await api.get(f"/v1/accounts/{account_id}/dunning", headers=KIM)).json()
    assert send["status"] == "failed" and send["error"].startswith("550")
    assert (await send_due(pool, runtime)).failed == 0  # not retried into a 550 again


def dsn(message_id: str, status: str = "5.1.1") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.acme.test\r\nTo: collections@receivables.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.acme.test\r\n\r\n"
        f"Final-Recipient: rfc822; ana@acme.test\r\nAction: failed\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {message_id}\r\nSubject: Acme Corp\r\n\r\n--b--\r\n"
    ).encode()


async def test_a_bounce_arriving_at_the_mail_gateway_is_recorded_once(
    api: httpx.AsyncClient,
    billing: BillingFeed,
    inbox: Inbox,
    runtime: Runtime,
    pool: asyncpg.Pool,
    db: asyncpg.Connection,
) -> None:
    account_id = await customer(billing, api)
    await email_policy(api)
    await cadence(api)
    sending(runtime, inbox)
    await send_due(pool, runtime)
    message_id = inbox.messages[0]["Message-ID"]
    headers = {**GATEWAY, "Content-Type": "multipart/report"}
    bounced = await api.post("/v1/mail/bounces", content=dsn(message_id), headers=headers)
    assert bounced.status_code == 200, bounced.text
    assert bounced.json()["bounced_at"] is not None
    again = await api.post("/v1/mail/bounces", content=dsn(message_id), headers=headers)
    assert again.status_code == 200
    [event] = [
        r["data"]
        for r in await db.fetch("SELECT data FROM events WHERE type = 'collections.email.bounced'")
    ]
    assert (event["status"], event["permanent"], event["recipient"]) == (
        "5.1.1",
        True,
        "ana@acme.test",
    )
    [send] = (await api.get(f"/v1/accounts/{account_id}/dunning", headers=KIM)).json()
    assert send["status"] == "bounced"
    unknown = await api.post("/v1/mail/bounces", content=dsn("<nobody@x>"), headers=headers)
    assert unknown.status_code == 404
    junk = await api.post("/v1/mail/bounces", content=b"hello", headers=headers)
    assert junk.status_code == 422 and junk.json()["errors"][0]["field"] == "body"
    by_collector = await api.post(
        "/v1/mail/bounces",
        content=dsn(message_id),
        headers={**KIM, "Content-Type": "multipart/report"},
    )
    assert by_collector.status_code == 403


async def test_a_supervisor_previews_tomorrow_s_sends_and_nothing_is_written(
    api: httpx.AsyncClient, billing: BillingFeed, runtime: Runtime, db: asyncpg.Connection
) -> None:
    await spanish_template(api)
    spanish = await customer(billing, api, language="es")
    blocked = await customer(billing, api, do_not_contact=True)
    await email_policy(api)
    preview = await api.get("/v1/dunning/preview", headers=SUPERVISOR)
    assert preview.status_code == 200, preview.text
    plan = preview.json()
    assert plan["business_date"] == "2026-11-03"
    sends = {s["account_id"]: s for s in plan["sends"]}
    assert sends[str(spanish)]["language"] == "es"
    assert sends[str(spanish)]["subject"] == "Acme Corp: vencido 1.200,00 €"
    assert sends[str(spanish)]["to"] == ["ana@acme.test"]
    assert sends[str(blocked)]["withheld"] == "do not contact"
    assert await db.fetchval("SELECT count(*) FROM tasks") == 0
    assert (await api.get("/v1/dunning/preview", headers=KIM)).status_code == 403
    bad = await api.get("/v1/dunning/preview", params={"date": "0"}, headers=SUPERVISOR)
    assert bad.status_code == 422


async def test_go_live_catch_up_starts_with_the_first_step_not_done(
    api: httpx.AsyncClient, billing: BillingFeed, inbox: Inbox, runtime: Runtime, pool: asyncpg.Pool
) -> None:
    steps = [
        {"step_id": "reminder", "offset_days": 1, "channel": "email", "template": "reminder"},
        {"step_id": "final", "offset_days": 5, "channel": "email", "template": "final_notice"},
    ]
    made = await api.post(
        "/v1/policies", json={"name": "Go-live", "steps": steps}, headers=creating(SUPERVISOR)
    )
    assert made.json()["catch_up"] == "first_not_done"
    account_id = await customer(billing, api)  # due Oct 26: both steps' days have passed
    await cadence(api)
    sending(runtime, inbox)
    await send_due(pool, runtime)
    [sent] = (await api.get(f"/v1/accounts/{account_id}/dunning", headers=KIM)).json()
    assert (sent["step_id"], sent["template"]) == ("reminder", "reminder")
