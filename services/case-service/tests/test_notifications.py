"""Notifications through the public API: a real SMTP server and a real webhook receiver on
loopback, the dispatcher running in the service as deployed."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import asyncpg
import httpx
import pytest

from case_service.settings import CaseDependencies
from case_service.testing import (
    AGENT,
    auth,
    count,
    create,
    feed,
    feed_collections,
    if_match,
    opened_case,
    register_agents,
)
from receivables_platform.contracts.billing import (
    AccountRegistered,
    ApprovalAction,
    ApprovalRequested,
    InvoiceIssued,
)
from receivables_platform.contracts.collections import CommitmentBroken
from receivables_platform.ids import new_id

SECRET = "hook-secret-0123456789"
ANN, BOB = "svc-ann", "svc-bob"


@pytest.fixture(autouse=True)
def fast_dispatch(monkeypatch) -> None:
    monkeypatch.setenv("NOTIFICATION_POLL_SECONDS", "0.1")
    monkeypatch.setenv("NOTIFICATION_WEBHOOK_SECRET", SECRET)


@pytest.fixture
def notifying(cases_url, inbox, case_server) -> Callable[[], AsyncExitStack]:
    """`async with notifying() as api`: one more case-service process on the same database,
    sending through the SMTP inbox."""
    _, port = inbox

    class Server:
        async def __aenter__(self) -> httpx.AsyncClient:
            self.stack = AsyncExitStack()
            base = await self.stack.enter_async_context(
                case_server(
                    cases_url, smtp_url=f"smtp://127.0.0.1:{port}?from=notify@receivables.test"
                )
            )
            client = await self.stack.enter_async_context(
                httpx.AsyncClient(base_url=base, timeout=10)
            )
            await register_agents(client)
            return client

        async def __aexit__(self, *exc: object) -> None:
            await self.stack.aclose()

    return Server  # type: ignore[return-value]


@pytest.fixture
async def api(notifying) -> AsyncIterator[httpx.AsyncClient]:
    async with notifying() as client:
        yield client


@asynccontextmanager
async def serving(
    case_server, url: str, dependencies: CaseDependencies
) -> AsyncIterator[httpx.AsyncClient]:
    """Another case-service on the same database, composed with `dependencies`."""
    async with (
        case_server(url, dependencies=dependencies) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as client,
    ):
        yield client


async def eventually(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def mails_to(inbox, address: str) -> list:
    handler, _ = inbox
    return [m for m in handler.messages if m["To"] == address]


async def prefer(api: httpx.AsyncClient, sub: str, *roles: str, **body) -> httpx.Response:
    saved = await api.put("/v1/notification-preferences/me", json=body, headers=auth(sub, *roles))
    assert saved.status_code == 200, saved.text
    return saved


async def customer_replies(api: httpx.AsyncClient, opened: httpx.Response, text: str) -> None:
    """The customer answers by email, the case's tag in the subject."""
    reply = EmailMessage()
    reply["From"], reply["To"] = "pat@customer.test", "billing@receivables.test"
    reply["Subject"] = f"Re: [{opened.json()['case_number']}] Charged twice"
    reply["Message-ID"] = make_msgid(domain="customer.test")
    reply.set_content(text)
    filed = await api.post(
        "/v1/inbound-email",
        content=reply.as_bytes(),
        headers={**auth("mail-gateway", "integration"), "Content-Type": "message/rfc822"},
    )
    assert filed.status_code == 200, filed.text


async def escalate(
    api: httpx.AsyncClient, case_url: str, due: date, team: str = "service"
) -> httpx.Response:
    esc = await api.post(
        f"{case_url}/escalations",
        headers=create(),
        json={"team": team, "question": "Was the meter read twice?", "due_date": due.isoformat()},
    )
    assert esc.status_code == 201, esc.text
    return esc


async def test_an_escalation_reaches_its_team_by_email_and_by_signed_webhook(
    api, cases_url, inbox, webhook_receiver
):
    await prefer(api, ANN, "team:service", email="ann@service.test")
    await prefer(
        api,
        BOB,
        "team:service",
        webhook_url=webhook_receiver.url,
        channels={"escalation_assigned": "webhook"},
    )
    await prefer(api, "ida", "team:installation", email="ida@install.test")
    opened = await opened_case(api, cases_url)
    await escalate(api, opened.headers["Location"], date.today() + timedelta(days=5))
    await eventually(lambda: mails_to(inbox, "ann@service.test") and webhook_receiver.received)
    [mail] = mails_to(inbox, "ann@service.test")
    assert opened.json()["case_number"] in mail["Subject"] and "service" in mail["Subject"]
    assert "meter read twice" in mail.get_payload()
    [(headers, body)] = webhook_receiver.received
    stamp, signed = dict(
        p.split("=", 1) for p in headers["receivables-signature"].split(",")
    ).values()
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(signed, expected.hexdigest())
    assert abs(time.time() - int(stamp)) < 60
    payload = json.loads(body)
    assert payload["kind"] == "escalation_assigned" and "meter" in payload["text"]
    assert headers["receivables-notification-id"] == payload["id"]
    assert mails_to(inbox, "ida@install.test") == []
    await asyncio.sleep(0.5)  # several more rounds: nothing is sent twice
    assert len(mails_to(inbox, "ann@service.test")) == 1 and len(webhook_receiver.received) == 1
    mine = (await api.get("/v1/notifications/me", headers=auth(BOB, "team:service"))).json()
    assert [(x["kind"], x["channel"], x["status"]) for x in mine] == [
        ("escalation_assigned", "webhook", "sent")
    ]


async def test_two_dispatchers_and_a_restart_send_each_notification_once(
    notifying, cases_url, inbox
):
    async with notifying() as first, notifying() as second:
        await prefer(first, ANN, "team:service", email="ann@service.test")
        cases = [await opened_case(first, cases_url) for _ in range(8)]
        await asyncio.gather(
            *(
                escalate(
                    first if i % 2 else second,
                    c.headers["Location"],
                    date.today() + timedelta(days=5),
                )
                for i, c in enumerate(cases)
            )
        )
        await eventually(lambda: len(mails_to(inbox, "ann@service.test")) >= 8)
        await asyncio.sleep(0.5)
    async with notifying():
        await asyncio.sleep(0.8)
    sent = mails_to(inbox, "ann@service.test")
    assert len(sent) == 8 and len({m["Message-ID"] for m in sent}) == 8
    assert (
        await count(
            cases_url, "SELECT count(*) FROM notifications WHERE status = 'sent' AND attempts = 1"
        )
        == 8
    )


async def test_a_kind_turned_off_is_not_sent_and_a_digest_waits_for_its_hour(
    notifying, cases_url, inbox, monkeypatch
):
    if (datetime.now(UTC) + timedelta(seconds=5)).date() != datetime.now(UTC).date():
        await asyncio.sleep(6)  # the digest hour must fall on today's date (team time, UTC)
    soon = datetime.now(UTC) + timedelta(seconds=3)
    monkeypatch.setenv("NOTIFICATION_DIGEST_AT", soon.strftime("%H:%M:%S"))
    async with notifying() as api:
        await prefer(
            api,
            ANN,
            "team:service",
            email="ann@service.test",
            channels={"escalation_assigned": "digest"},
        )
        await prefer(
            api,
            BOB,
            "team:service",
            email="bob@service.test",
            channels={"escalation_assigned": "off"},
        )
        for _ in range(2):
            opened = await opened_case(api, cases_url)
            await escalate(api, opened.headers["Location"], date.today() + timedelta(days=5))
        await asyncio.sleep(0.5)
        assert mails_to(inbox, "ann@service.test") == []
        await eventually(lambda: mails_to(inbox, "ann@service.test"))
        await asyncio.sleep(0.5)
    [digest] = mails_to(inbox, "ann@service.test")
    assert "notifications for" in digest["Subject"]
    assert digest.get_payload().count("a question for service") == 2
    assert mails_to(inbox, "bob@service.test") == []


async def test_preferences_that_cannot_be_delivered_are_422_and_change_nothing(
    api, cases_url, case_server
):
    headers = auth(ANN, "team:service")
    no_mail = await api.put(
        "/v1/notification-preferences/me",
        headers=headers,
        json={"channels": {"sla_at_risk": "email"}},
    )
    assert no_mail.status_code == 422 and "email" in no_mail.text
    unknown = await api.put(
        "/v1/notification-preferences/me",
        headers=headers,
        json={"email": "a@b.test", "channels": {"gossip": "email"}},
    )
    assert unknown.status_code == 422 and "channels" in unknown.text
    bad_url = await api.put(
        "/v1/notification-preferences/me",
        headers=headers,
        json={"webhook_url": "file:///etc/passwd"},
    )
    assert bad_url.status_code == 422 and "webhook_url" in bad_url.text
    assert await count(cases_url, "SELECT count(*) FROM notification_recipients") == 0
    composed = CaseDependencies.from_environment()
    hosts = frozenset({"hooks.chat.test"})
    async with serving(
        case_server,
        cases_url,
        replace(composed, notifications=replace(composed.notifications, webhook_hosts=hosts)),
    ) as listed:
        internal = await listed.put(
            "/v1/notification-preferences/me",
            headers=headers,
            json={"webhook_url": "http://127.0.0.1:5432/"},
        )
        assert internal.status_code == 422 and "hooks.chat.test" in internal.text
        assert internal.json()["errors"][0]["field"] == "body.webhook_url"
        allowed = await listed.put(
            "/v1/notification-preferences/me",
            headers=headers,
            json={"webhook_url": "https://hooks.chat.test/T1/B2"},
        )
        assert allowed.status_code == 200
    async with serving(
        case_server,
        cases_url,
        replace(composed, notifications=replace(composed.notifications, webhook_secret=None)),
    ) as unsigned:
        no_secret = await unsigned.put(
            "/v1/notification-preferences/me",
            headers=headers,
            json={"webhook_url": "https://hooks.chat.test/T1/B2"},
        )
        assert no_secret.status_code == 422, no_secret.text
        assert no_secret.json()["errors"][0]["field"] == "body.webhook_url"
    mine = await api.get("/v1/notification-preferences/me", headers=auth("new", "case_agent"))
    assert mine.json()["roles"] == ["case_agent"] and mine.json()["updated_at"] is None
    integration = await api.get(
        "/v1/notification-preferences/me", headers=auth("bot", "integration")
    )
    assert integration.status_code == 403


async def test_answers_due_tomorrow_or_overdue_sla_at_risk_and_next_action_reminders(
    notifying, cases_url, inbox, monkeypatch
):
    monkeypatch.setenv("NOTIFICATION_SLA_WARNING_HOURS", str(15 * 24))
    async with notifying() as api:
        await prefer(api, ANN, "team:service", email="ann@service.test")
        await prefer(api, AGENT, "case_agent", email="owner@cases.test")
        opened = await opened_case(api, cases_url, owner_id=AGENT)
        case_url = opened.headers["Location"]
        await escalate(api, case_url, date.today() + timedelta(days=1))
        await eventually(
            lambda: any("is due" in m["Subject"] for m in mails_to(inbox, "ann@service.test"))
        )
        await eventually(
            lambda: any("SLA ends" in m["Subject"] for m in mails_to(inbox, "owner@cases.test"))
        )
        current = await api.get(case_url, headers=auth())
        stranger = await api.post(
            f"{case_url}/next-action",
            headers=if_match(current, "x"),
            json={"next_action_on": date.today().isoformat()},
        )
        assert stranger.status_code == 403
        past = await api.post(
            f"{case_url}/next-action",
            headers=if_match(current),
            json={"next_action_on": (date.today() - timedelta(days=1)).isoformat()},
        )
        assert past.status_code == 422 and "next_action_on" in past.text
        later = await api.post(
            f"{case_url}/next-action",
            headers=if_match(current),
            json={
                "next_action_on": (date.today() + timedelta(days=2)).isoformat(),
                "next_action": "Call Pat back",
            },
        )
        assert later.status_code == 200 and later.json()["next_action"] == "Call Pat back"
        await asyncio.sleep(0.4)
        assert not any("next action" in m["Subject"] for m in mails_to(inbox, "owner@cases.test"))
        today = await api.post(
            f"{case_url}/next-action",
            headers=if_match(later),
            json={"next_action_on": date.today().isoformat(), "next_action": "Call Pat back"},
        )
        assert today.status_code == 200
        await eventually(
            lambda: any(
                "next action due" in m["Subject"] for m in mails_to(inbox, "owner@cases.test")
            )
        )
        listed = await api.get("/v1/cases", params={"owner_id": AGENT}, headers=auth())
        assert listed.json()["items"][0]["next_action_on"] == date.today().isoformat()
        await asyncio.sleep(0.4)
    subjects = [m["Subject"] for m in mails_to(inbox, "owner@cases.test")]
    assert sum("next action due" in s for s in subjects) == 1
    assert sum("SLA ends" in s for s in subjects) == 1


async def test_a_customer_reply_goes_to_the_owner_and_a_broken_promise_to_its_collector(
    api, cases_url, inbox
):
    await prefer(api, AGENT, "case_agent", email="owner@cases.test")
    await prefer(api, "col-cy", "collector", email="cy@collect.test")
    opened = await opened_case(api, cases_url, owner_id=AGENT)
    await customer_replies(api, opened, "Any news on my credit?")
    await eventually(lambda: mails_to(inbox, "owner@cases.test"))
    [told] = mails_to(inbox, "owner@cases.test")
    assert "customer wrote" in told["Subject"] and "Any news" in told.get_payload()
    broken = CommitmentBroken(
        commitment_id=new_id(),
        account_id=new_id(),
        collector_id="col-cy",
        amount_minor=5_000,
        paid_minor=0,
        currency="USD",
        promised_date=date.today() - timedelta(days=3),
        broken_on=date.today(),
    )
    await feed_collections(cases_url, broken, broken)  # a redelivery changes nothing
    await eventually(lambda: mails_to(inbox, "cy@collect.test"))
    await asyncio.sleep(0.4)
    [promise] = mails_to(inbox, "cy@collect.test")
    assert "promise to pay 5000 USD" in promise["Subject"]


async def test_a_webhook_refused_for_good_is_marked_failed_and_not_retried(
    api, cases_url, webhook_receiver
):
    webhook_receiver.status = 410
    await prefer(api, BOB, "team:service", webhook_url=webhook_receiver.url)
    opened = await opened_case(api, cases_url)
    await escalate(api, opened.headers["Location"], date.today() + timedelta(days=5))
    await eventually(lambda: webhook_receiver.received)
    await asyncio.sleep(0.5)
    assert len(webhook_receiver.received) == 1
    [mine] = (await api.get("/v1/notifications/me", headers=auth(BOB, "team:service"))).json()
    assert mine["status"] == "failed" and "410" in mine["last_error"]


async def test_an_address_no_message_can_carry_fails_its_row_and_the_rest_still_go(
    api, cases_url, inbox
):
    put = await api.put(
        f"/v1/agents/{AGENT}",
        headers=auth("root", "admin"),
        json={"name": "Ann", "email": "ann@cases.test\r\nBcc: eve@evil.test"},
    )
    assert put.status_code == 200
    await prefer(api, ANN, "team:service", email="ann@service.test")
    opened = await opened_case(api, cases_url, owner_id=AGENT)
    await customer_replies(api, opened, "Any news?")
    await escalate(api, opened.headers["Location"], date.today() + timedelta(days=5))
    await eventually(lambda: mails_to(inbox, "ann@service.test"))
    handler, _ = inbox
    assert not any("eve@evil.test" in str(m) for m in handler.messages)
    [failed] = (await api.get("/v1/notifications/me", headers=auth())).json()
    assert failed["kind"] == "customer_reply" and failed["status"] == "failed"


async def test_an_overdue_answer_is_chased_with_whoever_claimed_it(api, cases_url, inbox):
    await prefer(api, ANN, "team:service", email="ann@service.test")
    await prefer(api, BOB, "team:service", email="bob@service.test")
    opened = await opened_case(api, cases_url)
    escalation_id = (
        await escalate(api, opened.headers["Location"], date.today() + timedelta(days=5))
    ).json()["escalations"][0]["escalation_id"]
    read = await api.get(f"/v1/escalations/{escalation_id}", headers=auth(BOB, "team:service"))
    claimed = await api.post(
        f"/v1/escalations/{escalation_id}/claim",
        headers={**auth(BOB, "team:service"), "If-Match": read.headers["ETag"]},
    )
    assert claimed.status_code == 200
    conn = await asyncpg.connect(cases_url)
    try:  # time passes: the answer was due yesterday
        await conn.execute(
            "UPDATE case_escalations SET due_date = $1 WHERE escalation_id = $2",
            date.today() - timedelta(days=1),
            escalation_id,
        )
    finally:
        await conn.close()
    await eventually(
        lambda: any("was due" in m["Subject"] for m in mails_to(inbox, "bob@service.test"))
    )
    await asyncio.sleep(0.4)
    assert [m for m in mails_to(inbox, "ann@service.test") if "was due" in m["Subject"]] == []
    assert sum("was due" in m["Subject"] for m in mails_to(inbox, "bob@service.test")) == 1


async def test_a_credit_waiting_for_approval_is_mailed_to_supervisors_case_or_not(
    api, cases_url, inbox
):
    await prefer(api, "sup-sue", "supervisor", email="sue@cases.test")
    opened = await opened_case(api, cases_url)
    asked = ApprovalRequested(
        approval_id=new_id(),
        account_id=new_id(),
        invoice_id=new_id(),
        action=ApprovalAction.CREDIT,
        amount_minor=750_000,
        currency="USD",
        threshold_minor=500_000,
        reason_code="billing_error",
        effective_date=date.today(),
        case_id=opened.json()["case_id"],
        requested_by=AGENT,
        requested_at=datetime.now(UTC),
    )
    account, invoice = new_id(), new_id()
    # a collector's write-off asked of billing directly, on an invoice case-service has seen
    direct = asked.model_copy(
        update={
            "approval_id": new_id(),
            "case_id": None,
            "account_id": account,
            "invoice_id": invoice,
            "action": ApprovalAction.WRITE_OFF,
            "amount_minor": 900_000,
            "requested_by": "col-7",
        }
    )
    await feed(
        cases_url,
        AccountRegistered(
            account_id=account,
            external_id="CUS-77",
            name="Globex",
            contacts=[],
            payment_terms_days=30,
            currency="USD",
        ),
        InvoiceIssued(
            invoice_id=invoice,
            account_id=account,
            external_id="INV-77",
            currency="USD",
            total_minor=900_000,
            issue_date=date.today(),
            due_date=date.today(),
        ),
    )
    await feed(cases_url, asked, asked, direct, direct)  # a redelivery changes nothing
    await eventually(lambda: len(mails_to(inbox, "sue@cases.test")) >= 2)
    await asyncio.sleep(0.4)
    told = sorted(mails_to(inbox, "sue@cases.test"), key=lambda m: m["Subject"])
    assert len(told) == 2
    assert all("waits for your approval" in m["Subject"] for m in told)
    assert told[0]["Subject"] == "Invoice INV-77 (Globex): a write-off waits for your approval"
    assert "col-7 asks to write off 900000 USD" in told[0].get_payload()
    assert "750000 USD" in told[1].get_payload()
