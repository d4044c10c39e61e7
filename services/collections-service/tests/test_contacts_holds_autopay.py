"""Calls and emails (through a real SMTP server on loopback), holds and auto-pay offers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from collections_service.runtime import Runtime
from collections_service.testing import (
    KIM,
    LEE,
    MONDAY,
    SUPERVISOR,
    BillingFeed,
    Inbox,
    account,
    applied,
    creating,
    free_port,
    in_instalments,
    invoice,
)
from receivables_platform.contracts.billing import AutoPayEnrolled, Contact
from receivables_platform.contracts.cases import (
    CaseClosed,
    CaseLinked,
    CaseOpened,
    CaseOrigin,
    CasePriority,
    CaseReclassified,
    CaseType,
)
from receivables_platform.ids import new_id

STEPS = [
    {"offset_days": 1, "channel": "email", "template": "overdue_statement"},
    {"offset_days": 10, "channel": "call", "template": "call_script"},
]


async def overdue(
    billing: BillingFeed,
    api: httpx.AsyncClient,
    *totals: int,
    email_address: str = "ann@acme.test",
    **extra: Any,
) -> tuple[UUID, list[UUID]]:
    from receivables_platform.contracts.billing import Contact

    registered = account(contacts=[Contact(name="Ann Smith", email=email_address)], **extra)
    invoices = [
        invoice(registered.account_id, date(2026, 10, 20), t, external_id=f"INV-{i + 1:04d}")
        for i, t in enumerate(totals)
    ]
    await billing.send(registered, *invoices)
    read = await api.get(f"/v1/accounts/{registered.account_id}", headers=SUPERVISOR)
    await api.put(
        f"/v1/accounts/{registered.account_id}/collector",
        json={"collector_id": "kim"},
        headers={**SUPERVISOR, "If-Match": read.headers["ETag"]},
    )
    return registered.account_id, [i.invoice_id for i in invoices]


async def events(db: asyncpg.Connection, event_type: str) -> list[dict[str, Any]]:
    rows = await db.fetch("SELECT data FROM events WHERE type = $1 ORDER BY position", event_type)
    return [r["data"] for r in rows]


async def today_task(api: httpx.AsyncClient) -> dict[str, Any]:
    await api.post(
        "/v1/policies", json={"name": "Std", "steps": STEPS}, headers=creating(SUPERVISOR)
    )
    ran = await api.post("/v1/cadence/runs", json={}, headers=SUPERVISOR)
    assert ran.json()["tasks_scheduled"] == 1, ran.text
    [task] = (await api.get("/v1/worklist", headers=KIM)).json()["tasks"]
    return dict(task)


# -- 6. contacts ----------------------------------------------------------------------------------


async def test_the_overdue_statement_reaches_a_real_smtp_server_and_completes_the_task(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection, inbox: Inbox
) -> None:
    account_id, _ = await overdue(billing, api, 12_345, 100_000)
    task = await today_task(api)
    sent = await api.post(
        "/v1/contacts/emails",
        json={
            "account_id": str(account_id),
            "template": "overdue_statement",
            "task_id": task["task_id"],
        },
        headers=creating(KIM),
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["outcome"] == "email_sent"
    [message] = inbox.messages
    assert message["To"] == "ann@acme.test"
    assert message["Subject"] == "Acme Corp: 2 overdue invoices, $1,123.45"
    body = message.get_content()
    assert "Dear Ann Smith" in body and "INV-0001" in body and "INV-0002" in body
    assert "$123.45" in body and "$1,000.00" in body and "13 days" in body
    assert sent.json()["email_message_id"] == message["Message-ID"]
    [attempt] = await events(db, "collections.contact.attempted")
    assert (attempt["channel"], attempt["outcome"]) == ("email", "email_sent")
    assert attempt["amount_past_due_minor"] == 112_345
    [delivered] = await events(db, "collections.email.sent")
    assert delivered["message_id"] == message["Message-ID"]
    [done] = await events(db, "collections.task.completed")
    assert (done["outcome"], done["contact_id"]) == ("email_sent", sent.json()["contact_id"])


async def test_a_statement_asks_for_the_instalments_past_due_not_the_ones_to_come(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection, inbox: Inbox
) -> None:
    registered = account(contacts=[Contact(name="Ann Smith", email="ann@acme.test")])
    issued = in_instalments(
        registered.account_id,
        (date(2026, 10, 20), 40_000),
        (date(2026, 12, 20), 60_000),
        external_id="INV-0100",
    )
    await billing.send(registered, issued)
    sent = await api.post(
        "/v1/contacts/emails",
        json={"account_id": str(registered.account_id), "template": "overdue_statement"},
        headers=creating(KIM),
    )
    assert sent.status_code == 201, sent.text
    [message] = inbox.messages
    assert message["Subject"] == "Acme Corp: 1 overdue invoice, $400.00"
    body = message.get_content()
    assert "INV-0100" in body and "13 days" in body and "$600.00" not in body
    [attempt] = await events(db, "collections.contact.attempted")
    assert attempt["amount_past_due_minor"] == 40_000


async def test_a_statement_in_the_account_s_language_and_english_when_there_is_none(
    api: httpx.AsyncClient, billing: BillingFeed, inbox: Inbox
) -> None:
    account_id, _ = await overdue(billing, api, 5_000)
    for language, expected in (("de", "überfällige Rechnung,"), ("fr", "overdue invoice,")):
        sent = await api.post(
            "/v1/contacts/emails",
            json={"account_id": str(account_id), "language": language},
            headers=creating(KIM),
        )
        assert sent.status_code == 201, sent.text
        assert expected in str(inbox.messages[-1]["Subject"])


async def test_a_refused_email_is_recorded_as_a_failed_attempt(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection, inbox: Inbox
) -> None:
    account_id, _ = await overdue(billing, api, 5_000, email_address="gone@acme.test")
    failed = await api.post(
        "/v1/contacts/emails", json={"account_id": str(account_id)}, headers=creating(KIM)
    )
    assert failed.status_code == 201
    assert failed.json()["outcome"] == "email_failed"
    assert failed.json()["email_error"].startswith("550")
    assert inbox.messages == []
    [failure] = await events(db, "collections.email.failed")
    assert failure["permanent"] is True


async def test_an_unreachable_smtp_server_is_a_temporary_failure(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection, runtime: Runtime
) -> None:
    runtime.settings = runtime.settings.model_copy(
        update={"smtp_url": f"smtp://127.0.0.1:{free_port()}"}
    )
    account_id, _ = await overdue(billing, api, 5_000)
    failed = await api.post(
        "/v1/contacts/emails", json={"account_id": str(account_id)}, headers=creating(KIM)
    )
    assert failed.json()["outcome"] == "email_failed"
    [failure] = await events(db, "collections.email.failed")
    assert failure["permanent"] is False


async def test_without_a_mail_server_nothing_is_sent_or_recorded(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    account_id, _ = await overdue(billing, api, 5_000)
    refused = await api.post(
        "/v1/contacts/emails", json={"account_id": str(account_id)}, headers=creating(KIM)
    )
    assert refused.status_code == 503
    assert await events(db, "collections.contact.attempted") == []


async def test_unknown_templates_and_accounts_are_refused_and_nothing_is_sent(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection, inbox: Inbox
) -> None:
    account_id, _ = await overdue(billing, api, 5_000)
    unknown = await api.post(
        "/v1/contacts/emails",
        json={"account_id": str(account_id), "template": "no_such_letter"},
        headers=creating(KIM),
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "body.template"
    nobody = await api.post(
        "/v1/contacts/emails", json={"account_id": str(new_id())}, headers=creating(KIM)
    )
    assert nobody.status_code == 404
    assert inbox.messages == [] and await events(db, "collections.contact.attempted") == []


async def test_a_call_is_logged_with_its_outcome_and_completes_the_task(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    account_id, _ = await overdue(billing, api, 5_000)
    task = await today_task(api)
    body = {
        "account_id": str(account_id),
        "outcome": "reached_promised",
        "notes": "will pay Friday",
        "task_id": task["task_id"],
    }
    not_yours = await api.post("/v1/contacts/calls", json=body, headers=creating(LEE))
    assert not_yours.status_code == 403
    assert await events(db, "collections.contact.attempted") == []
    logged = await api.post("/v1/contacts/calls", json=body, headers=creating(KIM))
    assert logged.status_code == 201, logged.text
    [attempt] = await events(db, "collections.contact.attempted")
    assert (attempt["channel"], attempt["outcome"], attempt["notes"]) == (
        "call",
        "reached_promised",
        "will pay Friday",
    )
    history = (await api.get(f"/v1/accounts/{account_id}/contacts", headers=KIM)).json()
    assert [c["contact_id"] for c in history] == [logged.json()["contact_id"]]
    assert (await api.get(f"/v1/tasks/{task['task_id']}", headers=KIM)).json()[
        "status"
    ] == "completed"
    bad = await api.post(
        "/v1/contacts/calls",
        json={**body, "outcome": "email_sent", "task_id": None},
        headers=creating(KIM),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.outcome"


# -- 8. holds -------------------------------------------------------------------------------------


def dispute(account_id: UUID, invoice_ids: list[UUID], case_id: UUID) -> CaseOpened:
    now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    return CaseOpened(
        case_id=case_id,
        case_number="CASE-000123",
        account_id=account_id,
        type=CaseType.DISPUTE,
        origin=CaseOrigin.INBOUND_PHONE,
        priority=CasePriority.NORMAL,
        subject="Wrong quantity",
        description="",
        invoice_ids=invoice_ids,
        opened_by="agent",
        opened_at=now,
        sla_target_days=14,
        sla_due_at=now,
    )


async def test_a_dispute_case_holds_its_invoices_until_it_closes(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    account_id, (disputed, other) = await overdue(billing, api, 5_000, 7_000)
    case_id = new_id()
    opened = dispute(account_id, [disputed], case_id)
    await billing.send(opened, source="case-service")
    await billing.send(opened, source="case-service")  # seen twice: one hold
    [hold] = (await api.get(f"/v1/accounts/{account_id}/holds", headers=KIM)).json()
    assert hold["source"] == "case" and hold["invoice_ids"] == [str(disputed)]
    task = await today_task(api)
    assert task["invoice_ids"] == [str(other)] and task["amount_past_due_minor"] == 7_000
    view = (await api.get(f"/v1/accounts/{account_id}", headers=KIM)).json()
    assert view["open_balance_minor"] == 12_000  # still in aging
    closed = CaseClosed.model_validate(
        {
            "case_id": case_id,
            "case_number": "CASE-000123",
            "account_id": account_id,
            "type": "dispute",
            "priority": opened.priority,
            "invoice_ids": [disputed],
            "root_cause": None,
            "resolution_summary": "credited",
            "completeness": {
                "entries": [],
                "complete": True,
                "satisfied_count": 0,
                "required_count": 0,
            },
            "opened_at": opened.opened_at,
            "closed_by": "agent",
            "closed_at": datetime(2026, 11, 3, 9, tzinfo=UTC),
            "sla_breached": False,
        }
    )
    await billing.send(closed, source="case-service")
    [released] = (await api.get(f"/v1/accounts/{account_id}/holds", headers=KIM)).json()
    assert (released["release"], released["released_on"]) == ("case_closed", "2026-11-03")
    assert len(await events(db, "collections.account.hold_released")) == 1


async def test_a_question_that_becomes_a_dispute_holds_its_invoices_until_it_stops_being_one(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    account_id, (disputed, other) = await overdue(billing, api, 5_000, 7_000)
    case_id, at = new_id(), datetime(2026, 11, 2, 9, tzinfo=UTC)
    question = dispute(account_id, [], case_id).model_copy(
        update={"type": CaseType.BILLING_INQUIRY, "origin": CaseOrigin.INBOUND_EMAIL}
    )
    await billing.send(question, source="case-service")
    await billing.send(
        CaseLinked(
            case_id=case_id,
            account_id=account_id,
            type=CaseType.BILLING_INQUIRY,
            invoice_ids=[disputed],
            added_invoice_ids=[disputed],
            linked_by="agent",
            linked_at=at,
        ),
        source="case-service",
    )
    assert (await api.get(f"/v1/accounts/{account_id}/holds", headers=KIM)).json() == []

    await billing.send(
        CaseReclassified(
            case_id=case_id,
            account_id=account_id,
            type=CaseType.DISPUTE,
            previous_type=CaseType.BILLING_INQUIRY,
            invoice_ids=[disputed],
            reason="refuses to pay",
            reclassified_by="agent",
            reclassified_at=at,
        ),
        source="case-service",
    )
    [hold] = (await api.get(f"/v1/accounts/{account_id}/holds", headers=KIM)).json()
    assert hold["invoice_ids"] == [str(disputed)] and hold["case_id"] == str(case_id)
    linked = CaseLinked(
        case_id=case_id,
        account_id=account_id,
        type=CaseType.DISPUTE,
        invoice_ids=[disputed, other],
        added_invoice_ids=[other],
        linked_by="agent",
        linked_at=at,
    )
    await billing.send(linked, source="case-service")
    await billing.send(linked, source="case-service")  # seen twice: held once
    holds = (await api.get(f"/v1/accounts/{account_id}/holds", headers=KIM)).json()
    assert sorted(h["invoice_ids"][0] for h in holds) == sorted([str(disputed), str(other)])
    view = (await api.get(f"/v1/accounts/{account_id}", headers=KIM)).json()
    assert [i["held"] for i in view["invoices"]] == [True, True]

    await billing.send(
        CaseReclassified(
            case_id=case_id,
            account_id=account_id,
            type=CaseType.BILLING_INQUIRY,
            previous_type=CaseType.DISPUTE,
            invoice_ids=[disputed, other],
            reason="only a question",
            reclassified_by="agent",
            reclassified_at=datetime(2026, 11, 4, 9, tzinfo=UTC),
        ),
        source="case-service",
    )
    released = (await api.get(f"/v1/accounts/{account_id}/holds", headers=KIM)).json()
    assert {(h["release"], h["released_on"]) for h in released} == {
        ("case_reclassified", "2026-11-04")
    }
    assert len(await events(db, "collections.account.hold_released")) == 2
    task = await today_task(api)
    assert (task["amount_past_due_minor"], len(task["invoice_ids"])) == (12_000, 2)


async def test_a_hold_by_hand_ends_itself_and_bad_holds_are_refused(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    account_id, (first, _) = await overdue(billing, api, 5_000, 7_000)
    refused = await api.post(
        "/v1/holds",
        json={
            "account_id": str(account_id),
            "invoice_ids": [str(first), str(new_id())],
            "reason": "PO number missing",
        },
        headers=creating(KIM),
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.invoice_ids.1"
    past = await api.post(
        "/v1/holds",
        json={
            "account_id": str(account_id),
            "invoice_ids": [str(first)],
            "reason": "x",
            "ends_on": "2026-11-01",
        },
        headers=creating(KIM),
    )
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "body.ends_on"
    for far in ("9999-12-31", 0, "2026-11-04T00:00:00"):
        forever = await api.post(
            "/v1/holds",
            json={
                "account_id": str(account_id),
                "invoice_ids": [str(first)],
                "reason": "x",
                "ends_on": far,
            },
            headers=creating(KIM),
        )
        assert forever.status_code == 422, forever.text
        assert forever.json()["errors"][0]["field"] == "body.ends_on"
    placed = await api.post(
        "/v1/holds",
        json={
            "account_id": str(account_id),
            "invoice_ids": [str(first)],
            "reason": "PO number missing",
            "ends_on": "2026-11-04",
        },
        headers=creating(KIM),
    )
    assert placed.status_code == 201, placed.text
    ran = await api.post(
        "/v1/cadence/runs", json={"business_date": "2026-11-04"}, headers=SUPERVISOR
    )
    assert ran.json()["holds_released"] == 1
    hold = (await api.get(f"/v1/holds/{placed.json()['hold_id']}", headers=KIM)).json()
    assert (hold["release"], hold["released_on"]) == ("expired", "2026-11-04")
    again = await api.post(f"/v1/holds/{placed.json()['hold_id']}/release", headers=KIM)
    assert again.status_code == 409


# -- 9. auto-pay conversion -----------------------------------------------------------------------


async def test_late_payers_are_candidates_and_an_enrolment_within_30_days_converts_the_offer(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    registered = account()
    late = [invoice(registered.account_id, date(2026, 9, d), 1_000) for d in (1, 15)]
    on_time = invoice(registered.account_id, date(2026, 10, 1), 1_000)
    await billing.send(
        registered,
        *late,
        on_time,
        applied(late[0], 1_000, date(2026, 9, 10)),
        applied(late[1], 1_000, date(2026, 9, 30)),
        applied(on_time, 1_000, date(2026, 9, 28)),
    )
    read = await api.get(f"/v1/accounts/{registered.account_id}", headers=SUPERVISOR)
    await api.put(
        f"/v1/accounts/{registered.account_id}/collector",
        json={"collector_id": "kim"},
        headers={**SUPERVISOR, "If-Match": read.headers["ETag"]},
    )
    [candidate] = (await api.get("/v1/autopay/candidates", headers=KIM)).json()["items"]
    assert (candidate["account_id"], candidate["late_payments"]) == (str(registered.account_id), 2)
    assert (await api.get("/v1/autopay/candidates", headers=LEE)).json() == {
        "items": [],
        "next_cursor": None,
    }
    offered = await api.post(
        "/v1/autopay/offers", json={"account_id": str(registered.account_id)}, headers=creating(KIM)
    )
    assert offered.status_code == 201, offered.text
    answered = await api.post(
        f"/v1/autopay/offers/{offered.json()['offer_id']}/answer",
        json={"outcome": "accepted"},
        headers={**KIM, "If-Match": offered.headers["ETag"]},
    )
    assert answered.status_code == 200 and answered.json()["outcome"] == "accepted"
    await billing.send(
        AutoPayEnrolled(
            account_id=registered.account_id,
            payment_method_reference="pm_123",
            payment_method_type="card",
            enrolled_on=date(2026, 11, 20),
        )
    )
    [converted] = await events(db, "collections.autopay.converted")
    assert (converted["collector_id"], converted["days_after_offer"]) == ("kim", 18)
    assert (await api.get("/v1/autopay/candidates", headers=KIM)).json()["items"] == []
    on_autopay = await api.post(
        "/v1/autopay/offers", json={"account_id": str(registered.account_id)}, headers=creating(KIM)
    )
    assert on_autopay.status_code == 409


async def test_an_enrolment_long_after_the_offer_is_no_conversion(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    registered = account()
    await billing.send(registered)
    offered = await api.post(
        "/v1/autopay/offers", json={"account_id": str(registered.account_id)}, headers=creating(KIM)
    )
    assert offered.status_code == 201
    await billing.send(
        AutoPayEnrolled(
            account_id=registered.account_id,
            payment_method_reference="pm_1",
            payment_method_type="card",
            enrolled_on=MONDAY.replace(month=12, day=15),
        )
    )
    assert await events(db, "collections.autopay.converted") == []


# -- 10. customer behaviour -----------------------------------------------------------------------


async def test_collectors_keep_notes_and_a_profile_that_never_loses_an_edit(
    api: httpx.AsyncClient, billing: BillingFeed, inbox: Inbox
) -> None:
    account_id, _ = await overdue(billing, api, 5_000)
    url = f"/v1/accounts/{account_id}"
    note = await api.post(f"{url}/notes", json={"body": "pays on day 45"}, headers=creating(KIM))
    assert note.status_code == 201 and note.json()["author"] == "kim"
    assert [n["body"] for n in (await api.get(f"{url}/notes", headers=LEE)).json()] == [
        "pays on day 45"
    ]
    read = await api.get(f"{url}/profile", headers=KIM)
    assert read.headers["ETag"] == '"0"' and read.json()["language"] == "en"
    profile = {
        "tags": ["needs PO number"],
        "preferred_channel": "email",
        "contact_hours": "Mon-Thu 09:00-12:00",
        "language": "de",
    }
    saved = await api.put(f"{url}/profile", json=profile, headers={**KIM, "If-Match": '"0"'})
    assert saved.status_code == 200 and saved.headers["ETag"] == '"1"'
    lost = await api.put(
        f"{url}/profile", json={**profile, "tags": []}, headers={**LEE, "If-Match": '"0"'}
    )
    assert lost.status_code == 412
    assert (await api.get(f"{url}/profile", headers=KIM)).json()["tags"] == ["needs PO number"]
    bad = await api.put(
        f"{url}/profile",
        json={**profile, "preferred_channel": "pigeon"},
        headers={**KIM, "If-Match": '"1"'},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.preferred_channel"
    sent = await api.post(
        "/v1/contacts/emails", json={"account_id": str(account_id)}, headers=creating(KIM)
    )
    assert sent.status_code == 201
    assert "überfällige" in str(inbox.messages[-1]["Subject"])  # the account's language
