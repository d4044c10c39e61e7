"""The collections service through its HTTP API over real PostgreSQL, fed billing events."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import jwt
import pytest
from pydantic import ValidationError

from collections_service.adapters.pay_links import BillingPayLinks, UrlTemplatePayLinks
from collections_service.domain.clock import FixedClock
from collections_service.runtime import CollectionsSettings, Runtime, pay_links_of
from collections_service.testing import (
    KIM,
    LEE,
    MONDAY,
    SUPERVISOR,
    BillingFeed,
    Inbox,
    account,
    applied,
    at,
    creating,
    free_port,
    in_instalments,
    invoice,
)
from receivables_platform.contracts.billing import (
    AdjustmentKind,
    InvoiceAdjusted,
    InvoiceIssued,
    InvoiceVoided,
)
from receivables_platform.ids import new_id

STEPS = [
    {"offset_days": -3, "channel": "email", "template": "reminder"},
    {"offset_days": 1, "channel": "email", "template": "overdue_statement"},
    {"offset_days": 10, "channel": "call", "template": "call_script"},
    {"offset_days": 30, "channel": "letter", "template": "final_notice", "escalates": True},
]


async def policy(
    api: httpx.AsyncClient, segment: str | None = None, **extra: Any
) -> httpx.Response:
    """A policy that sends only the most advanced step due (the consolidated statement these
    stories are about); catch-up one step at a time is proven on its own."""
    body = {"segment": segment, "name": "Standard", "steps": STEPS, "catch_up": "latest", **extra}
    return await api.post("/v1/policies", json=body, headers=creating(SUPERVISOR))


async def run(api: httpx.AsyncClient, day: date) -> dict[str, Any]:
    ran = await api.post(
        "/v1/cadence/runs", json={"business_date": day.isoformat()}, headers=SUPERVISOR
    )
    assert ran.status_code == 200, ran.text
    return dict(ran.json())


async def count(db: asyncpg.Connection, event_type: str) -> int:
    return int(await db.fetchval("SELECT count(*) FROM events WHERE type = $1", event_type))


def set_today(runtime: Runtime, day: date) -> None:
    runtime.clock = FixedClock(at(day))


async def overdue_account(
    billing: BillingFeed,
    api: httpx.AsyncClient,
    *totals: int,
    due: date = date(2026, 10, 30),
    collector: str = "kim",
) -> tuple[UUID, list[UUID]]:
    registered = account()
    invoices = [invoice(registered.account_id, due, total) for total in totals]
    await billing.send(registered, *invoices)
    read = await api.get(f"/v1/accounts/{registered.account_id}", headers=SUPERVISOR)
    assigned = await api.put(
        f"/v1/accounts/{registered.account_id}/collector",
        json={"collector_id": collector},
        headers={**SUPERVISOR, "If-Match": read.headers["ETag"]},
    )
    assert assigned.status_code == 200, assigned.text
    return registered.account_id, [i.invoice_id for i in invoices]


# -- 1. the service's own view of balances --------------------------------------------------------


async def test_balances_add_up_whatever_the_order_and_however_often_events_come(
    api: httpx.AsyncClient, billing: BillingFeed
) -> None:
    registered = account()
    first, second = (
        invoice(registered.account_id, date(2026, 10, 1), 10_000),
        invoice(registered.account_id, date(2026, 10, 15), 5_000),
    )
    paid = applied(first, 4_000, date(2026, 10, 20))
    credit = InvoiceAdjusted(
        invoice_id=first.invoice_id,
        account_id=registered.account_id,
        adjustment_id=new_id(),
        kind=AdjustmentKind.CREDIT,
        amount_minor=1_000,
        currency="USD",
        reason_code="goodwill",
        effective_date=date(2026, 10, 21),
    )
    voided = InvoiceVoided(
        invoice_id=second.invoice_id,
        account_id=registered.account_id,
        voided_amount_minor=5_000,
        currency="USD",
        voided_on=date(2026, 10, 22),
    )
    await billing.send(paid, credit, voided, second, first, registered)  # payment before invoice
    await billing.redeliver_all()  # and everything twice
    view = (await api.get(f"/v1/accounts/{registered.account_id}", headers=KIM)).json()
    assert view["open_balance_minor"] == 5_000
    assert view["past_due_minor"] == 5_000
    assert view["days_past_due"] == (MONDAY - date(2026, 10, 1)).days
    assert [i["invoice_id"] for i in view["invoices"]] == [str(first.invoice_id)]
    assert view["name"] == "Acme Corp" and view["segment"] == "smb"


async def test_an_account_billing_never_mentioned_is_not_found(api: httpx.AsyncClient) -> None:
    missing = await api.get(f"/v1/accounts/{new_id()}", headers=KIM)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


# -- 3. policies ----------------------------------------------------------------------------------


async def test_policies_are_versioned_and_only_managers_write_them(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    created = await policy(api, "smb")
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    pid = created.json()["policy_id"]
    assert [s["step_id"] for s in created.json()["steps"]][:2] == ["d-3-email", "d+1-email"]
    revised = await api.put(
        f"/v1/policies/{pid}", json={"steps": STEPS[1:]}, headers={**SUPERVISOR, "If-Match": '"1"'}
    )
    assert revised.status_code == 200 and revised.json()["version"] == 2
    stale = await api.put(
        f"/v1/policies/{pid}", json={"steps": STEPS}, headers={**SUPERVISOR, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    blind = await api.put(f"/v1/policies/{pid}", json={"steps": STEPS}, headers=SUPERVISOR)
    assert blind.status_code == 428
    old = await api.get(f"/v1/policies/{pid}?version=1", headers=KIM)
    assert len(old.json()["steps"]) == 4  # what happened under v1 stays
    assert (await api.get(f"/v1/policies/{pid}", headers=KIM)).json()["version"] == 2
    by_collector = await api.post(
        "/v1/policies", json={"name": "x", "steps": STEPS}, headers=creating(KIM)
    )
    assert by_collector.status_code == 403
    twice = await policy(api, "smb")
    assert twice.status_code == 409 and twice.json()["errors"][0]["field"] == "body.segment"
    assert await db.fetchval("SELECT count(*) FROM cadence_policies") == 2


async def test_overlapping_steps_are_refused_naming_the_step_and_nothing_is_written(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    overlapping = [*STEPS, {"offset_days": 10, "channel": "email", "template": "again"}]
    refused = await api.post(
        "/v1/policies", json={"name": "x", "steps": overlapping}, headers=creating(SUPERVISOR)
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.steps.4.offset_days"
    bad_channel = await api.post(
        "/v1/policies",
        json={"name": "x", "steps": [{"offset_days": 1, "channel": "fax", "template": "x"}]},
        headers=creating(SUPERVISOR),
    )
    assert bad_channel.status_code == 422
    assert "body.steps.0.channel" in [e["field"] for e in bad_channel.json()["errors"]]
    assert await db.fetchval("SELECT count(*) FROM cadence_policies") == 0


# -- 2. portfolios --------------------------------------------------------------------------------


async def test_rules_assign_accounts_by_segment_and_balance_and_collectors_see_their_own(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    big, small, other = account(segment="smb"), account(segment="smb"), account(segment="ent")
    await billing.send(
        big,
        small,
        other,
        invoice(big.account_id, MONDAY, 500_000),
        invoice(small.account_id, MONDAY, 1_000),
        invoice(other.account_id, MONDAY, 1_000),
    )
    for rule in (
        {"collector_id": "kim", "rank": 1, "segment": "smb", "min_balance_minor": 100_000},
        {"collector_id": "lee", "rank": 2, "segment": "smb"},
    ):
        made = await api.post("/v1/portfolio-rules", json=rule, headers=creating(SUPERVISOR))
        assert made.status_code == 201, made.text
    bad = await api.post(
        "/v1/portfolio-rules",
        json={"collector_id": "x", "rank": 3, "min_balance_minor": 10, "max_balance_minor": 5},
        headers=creating(SUPERVISOR),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.max_balance_minor"
    applied_rules = await api.post("/v1/portfolio-rules/apply", json={}, headers=SUPERVISOR)
    assert applied_rules.json() == {"accounts_assigned": 2}
    kims = await api.get("/v1/portfolio", headers=KIM)
    assert [a["account_id"] for a in kims.json()["items"]] == [str(big.account_id)]
    assert (await api.get("/v1/portfolio?collector_id=lee", headers=KIM)).status_code == 403
    lees = await api.get("/v1/portfolio?collector_id=lee", headers=SUPERVISOR)
    assert [a["account_id"] for a in lees.json()["items"]] == [str(small.account_id)]
    assert await count(db, "collections.account.assigned") == 2
    again = await api.post("/v1/portfolio-rules/apply", json={}, headers=SUPERVISOR)
    assert again.json() == {"accounts_assigned": 0}


async def test_a_rule_is_changed_or_retired_at_the_version_last_read(
    api: httpx.AsyncClient, billing: BillingFeed
) -> None:
    registered = account(segment="smb")
    await billing.send(registered, invoice(registered.account_id, MONDAY, 1_000))
    made = await api.post(
        "/v1/portfolio-rules",
        json={"collector_id": "kim", "rank": 1, "segment": "smb"},
        headers=creating(SUPERVISOR),
    )
    url = made.headers["Location"]
    read = await api.get(url, headers=KIM)
    assert read.json() == made.json() and read.headers["ETag"] == made.headers["ETag"] == '"1"'
    to_lee = {"collector_id": "lee", "rank": 1, "segment": "smb"}
    assert (await api.put(url, json=to_lee, headers=KIM)).status_code == 403
    assert (await api.put(url, json=to_lee, headers=SUPERVISOR)).status_code == 428
    bad = await api.put(
        url,
        json={**to_lee, "min_balance_minor": 10, "max_balance_minor": 5},
        headers={**SUPERVISOR, "If-Match": '"1"'},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.max_balance_minor"
    changed = await api.put(url, json=to_lee, headers={**SUPERVISOR, "If-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    stale = await api.put(
        url, json={**to_lee, "rank": 9}, headers={**SUPERVISOR, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    await api.post("/v1/portfolio-rules/apply", json={}, headers=SUPERVISOR)
    lees = await api.get("/v1/portfolio?collector_id=lee", headers=SUPERVISOR)
    assert [a["account_id"] for a in lees.json()["items"]] == [str(registered.account_id)]

    assert (await api.delete(url, headers={**SUPERVISOR, "If-Match": '"1"'})).status_code == 412
    gone = await api.delete(url, headers={**SUPERVISOR, "If-Match": '"2"'})
    assert gone.status_code == 204
    assert (await api.get(url, headers=KIM)).status_code == 404
    assert (await api.get("/v1/portfolio-rules", headers=KIM)).json() == []
    lees = await api.get("/v1/portfolio?collector_id=lee", headers=SUPERVISOR)
    assert len(lees.json()["items"]) == 1  # the account stays with lee


async def test_a_large_portfolio_comes_a_page_at_a_time_by_name(
    api: httpx.AsyncClient, billing: BillingFeed
) -> None:
    names = ["Delta GmbH", "alpha Ltd", "Beta Inc", "Delta GmbH", "Gamma SA"]
    accounts = [account(name=name, segment="smb") for name in names]
    await billing.send(*accounts, *(invoice(a.account_id, MONDAY, 1_000) for a in accounts))
    await api.post(
        "/v1/portfolio-rules",
        json={"collector_id": "kim", "rank": 1, "segment": "smb"},
        headers=creating(SUPERVISOR),
    )
    await api.post("/v1/portfolio-rules/apply", json={}, headers=SUPERVISOR)
    seen, cursor = [], None
    while True:
        page = await api.get(
            "/v1/portfolio",
            params={"limit": 2, **({"cursor": cursor} if cursor else {})},
            headers=KIM,
        )
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) <= 2
        seen += [(a["name"], a["account_id"]) for a in page.json()["items"]]
        if (cursor := page.json()["next_cursor"]) is None:
            break
    whole = await api.get("/v1/portfolio", params={"limit": 500}, headers=KIM)
    assert seen == [(a["name"], a["account_id"]) for a in whole.json()["items"]]
    assert sorted(seen) == sorted((a.name, str(a.account_id)) for a in accounts)  # each once
    bad = await api.get("/v1/portfolio", params={"cursor": "bm90IG91cnM="}, headers=KIM)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "query.cursor"


async def test_reassigning_by_hand_needs_the_current_version(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    account_id, _ = await overdue_account(billing, api, 1_000)
    stale = await api.put(
        f"/v1/accounts/{account_id}/collector",
        json={"collector_id": "lee"},
        headers={**SUPERVISOR, "If-Match": '"0"'},
    )
    assert stale.status_code == 412
    current = await api.get(f"/v1/accounts/{account_id}", headers=SUPERVISOR)
    moved = await api.put(
        f"/v1/accounts/{account_id}/collector",
        json={"collector_id": "lee"},
        headers={**SUPERVISOR, "If-Match": current.headers["ETag"]},
    )
    assert moved.status_code == 200 and moved.json()["collector_id"] == "lee"
    by_collector = await api.put(
        f"/v1/accounts/{account_id}/collector",
        json={"collector_id": "kim"},
        headers={**KIM, "If-Match": moved.headers["ETag"]},
    )
    assert by_collector.status_code == 403
    assert await count(db, "collections.account.assigned") == 2


# -- 4 and 5. the daily cadence and the worklist --------------------------------------------------


async def test_the_day_brings_one_consolidated_task_per_account_and_a_rerun_adds_none(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    assert (await policy(api)).status_code == 201
    account_id, invoice_ids = await overdue_account(billing, api, 3_000, 4_000)
    summary = await run(api, MONDAY)
    assert summary["tasks_scheduled"] == 1 and summary["business_day"]
    assert (await run(api, MONDAY))["tasks_scheduled"] == 0
    worklist = (await api.get("/v1/worklist", headers=KIM)).json()
    [task] = worklist["tasks"]
    assert task["account_id"] == str(account_id)
    assert sorted(task["invoice_ids"]) == sorted(str(i) for i in invoice_ids)
    assert task["amount_past_due_minor"] == 7_000 and task["channel"] == "email"
    assert task["template"] == "overdue_statement"
    assert await count(db, "collections.task.scheduled") == 1
    assert await db.fetchval("SELECT count(*) FROM outbox") >= 2
    partition_key = await db.fetchval(
        "SELECT partition_key FROM events WHERE type = 'collections.task.scheduled'"
    )
    assert partition_key == str(account_id)


async def test_no_run_on_weekends_and_holidays(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    await policy(api)
    await overdue_account(billing, api, 3_000)
    for closed in (date(2026, 11, 1), date(2026, 11, 26)):  # a Sunday, Thanksgiving
        summary = await run(api, closed)
        assert not summary["business_day"] and summary["tasks_scheduled"] == 0
    assert await count(db, "collections.task.scheduled") == 0


async def test_the_worklist_is_ordered_by_priority_and_private_to_its_collector(
    api: httpx.AsyncClient, billing: BillingFeed
) -> None:
    await policy(api)
    small, _ = await overdue_account(billing, api, 1_000)
    large, _ = await overdue_account(billing, api, 900_000)
    await run(api, MONDAY)
    tasks = (await api.get("/v1/worklist", headers=KIM)).json()["tasks"]
    assert [t["account_id"] for t in tasks] == [str(large), str(small)]
    assert tasks[0]["priority_score"] > tasks[1]["priority_score"]
    assert (await api.get("/v1/worklist?collector_id=kim", headers=LEE)).status_code == 403
    seen = await api.get("/v1/worklist?collector_id=kim", headers=SUPERVISOR)
    assert len(seen.json()["tasks"]) == 2
    assert (await api.get("/v1/worklist", headers=LEE)).json()["tasks"] == []
    for day in ("9999-12-31", "0001-01-01", "0", "2026-02-30"):
        far = await api.get(f"/v1/worklist?date={day}", headers=KIM)
        assert far.status_code == 422, far.text
        assert far.json()["errors"][0]["field"] == "query.date"
    for day in ("9999-12-31", 0):
        far = await api.post("/v1/cadence/runs", json={"business_date": day}, headers=SUPERVISOR)
        assert far.status_code == 422, far.text
        assert far.json()["errors"][0]["field"] == "body.business_date"
    assert (await api.get("/v1/worklist?unassigned=true", headers=KIM)).status_code == 403


async def test_the_worklist_comes_a_page_at_a_time_with_its_total(
    api: httpx.AsyncClient, billing: BillingFeed
) -> None:
    await policy(api)
    for owed in (1_000, 50_000, 900_000, 20_000):
        await overdue_account(billing, api, owed)
    await run(api, MONDAY)
    whole = (await api.get("/v1/worklist", headers=KIM)).json()
    order = [t["task_id"] for t in whole["tasks"]]
    assert len(order) == 4 and whole["total"] == 4
    pages = [
        (await api.get(f"/v1/worklist?limit=3&offset={start}", headers=KIM)).json()
        for start in (0, 3)
    ]
    assert [t["task_id"] for p in pages for t in p["tasks"]] == order
    assert [len(p["tasks"]) for p in pages] == [3, 1] and {p["total"] for p in pages} == {4}
    assert all(t["call_sheet"]["invoices"] for p in pages for t in p["tasks"])
    middle = await api.get("/v1/worklist?collector_id=kim&limit=2&offset=1", headers=SUPERVISOR)
    assert [t["task_id"] for t in middle.json()["tasks"]] == order[1:3]
    past_the_end = (await api.get("/v1/worklist?limit=25&offset=25", headers=KIM)).json()
    assert past_the_end["tasks"] == [] and past_the_end["total"] == 4
    assert (await api.get("/v1/worklist?limit=2", headers=LEE)).json()["total"] == 0
    for query, field in (
        ("limit=0", "query.limit"),
        ("limit=501", "query.limit"),
        ("limit=ten", "query.limit"),
        ("offset=-1", "query.offset"),
        ("limit=5&offset=10000001", "query.offset"),
    ):
        bad = await api.get(f"/v1/worklist?{query}", headers=KIM)
        assert bad.status_code == 422, query
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert bad.json()["errors"][0]["field"] == field, bad.text


async def test_supervisors_see_the_tasks_of_accounts_nobody_has(
    api: httpx.AsyncClient, billing: BillingFeed
) -> None:
    await policy(api)
    registered = account()
    await billing.send(registered, invoice(registered.account_id, date(2026, 10, 30)))
    await run(api, MONDAY)
    orphans = (await api.get("/v1/worklist?unassigned=true", headers=SUPERVISOR)).json()
    assert [t["account_id"] for t in orphans["tasks"]] == [str(registered.account_id)]
    assert orphans["collector_id"] is None


async def test_completing_a_task_is_for_its_collector_once(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    await policy(api)
    await overdue_account(billing, api, 5_000)
    await run(api, MONDAY)
    [task] = (await api.get("/v1/worklist", headers=KIM)).json()["tasks"]
    url = f"/v1/tasks/{task['task_id']}/complete"
    not_yours = await api.post(url, json={"outcome": "no_answer"}, headers=LEE)
    assert not_yours.status_code == 403
    stale = await api.post(url, json={"outcome": "no_answer"}, headers={**KIM, "If-Match": '"7"'})
    assert stale.status_code == 412
    bad = await api.post(url, json={"outcome": "gave_up"}, headers=KIM)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.outcome"
    done = await api.post(
        url,
        json={"outcome": "voicemail", "notes": "left a message"},
        headers={**KIM, "If-Match": f'"{task["version"]}"'},
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and done.headers["ETag"] == '"2"'
    again = await api.post(url, json={"outcome": "voicemail"}, headers=KIM)
    assert again.status_code == 409
    assert await count(db, "collections.task.completed") == 1
    assert (await api.get("/v1/worklist", headers=KIM)).json()["tasks"] == []


async def test_an_undone_task_is_missed_and_carried_over_to_the_next_business_day(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection, runtime: Runtime
) -> None:
    await policy(api)
    await overdue_account(billing, api, 5_000, due=date(2026, 11, 24))  # +1: Wed Nov 25
    await run(api, date(2026, 11, 25))
    summary = await run(api, date(2026, 11, 27))  # Thanksgiving skipped
    assert summary["tasks_missed"] == 1 and summary["tasks_scheduled"] == 0
    set_today(runtime, date(2026, 11, 27))
    [task] = (await api.get("/v1/worklist", headers=KIM)).json()["tasks"]
    assert task["due_on"] == "2026-11-27" and task["business_date"] == "2026-11-25"
    assert task["times_missed"] == 1
    assert (await run(api, date(2026, 11, 27)))["tasks_missed"] == 0
    missed = await db.fetchval("SELECT data FROM events WHERE type = 'collections.task.missed'")
    assert (missed["missed_on"], missed["carried_over_to"]) == ("2026-11-25", "2026-11-27")


async def test_a_paid_account_s_open_task_is_cancelled_not_missed(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    await policy(api)
    registered = account()
    issued = invoice(registered.account_id, date(2026, 10, 30), 5_000)
    await billing.send(registered, issued)
    await run(api, MONDAY)
    await billing.send(applied(issued, 5_000, MONDAY))
    summary = await run(api, MONDAY + timedelta(days=1))
    assert summary["tasks_cancelled"] == 1 and summary["tasks_missed"] == 0
    assert await count(db, "collections.task.cancelled") == 1


# -- 7. promises to pay ---------------------------------------------------------------------------


async def test_bad_promises_are_refused_naming_the_field_and_nothing_is_written(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    account_id, _ = await overdue_account(billing, api, 5_000)
    good = {"account_id": str(account_id), "amount_minor": 5_000, "promised_date": "2026-11-06"}
    for change, field, status in (
        ({"amount_minor": 0}, "body.amount_minor", 422),
        ({"promised_date": "2026-10-30"}, "body.promised_date", 422),
        ({"promised_date": "9999-12-31"}, "body.promised_date", 422),
        ({"promised_date": 0}, "body.promised_date", 422),
        ({"promised_date": "0"}, "body.promised_date", 422),
        ({"promised_date": "2026-11-06T00:00:00"}, "body.promised_date", 422),
        ({"currency": "EUR"}, "body.currency", 422),
        ({"invoice_ids": [str(new_id())]}, "body.invoice_ids.0", 422),
        ({"account_id": str(new_id())}, "body.account_id", 404),
    ):
        refused = await api.post("/v1/commitments", json={**good, **change}, headers=creating(KIM))
        assert refused.status_code == status, (change, refused.text)
        assert refused.json()["errors"][0]["field"] == field
    assert await db.fetchval("SELECT count(*) FROM commitments") == 0
    assert await count(db, "collections.commitment.made") == 0


async def test_a_promise_pauses_the_cadence_and_is_kept_when_the_money_is_applied(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection, runtime: Runtime
) -> None:
    await policy(api)
    registered = account()
    issued = invoice(registered.account_id, date(2026, 10, 30), 5_000)
    await billing.send(registered, issued)
    key = creating(KIM)
    body = {
        "account_id": str(registered.account_id),
        "amount_minor": 5_000,
        "promised_date": "2026-11-06",
        "invoice_ids": [str(issued.invoice_id)],
    }
    made = await api.post("/v1/commitments", json=body, headers=key)
    assert made.status_code == 201, made.text
    replay = await api.post("/v1/commitments", json=body, headers=key)
    assert replay.json() == made.json() and replay.headers["Idempotent-Replayed"] == "true"
    assert made.json()["deadline"] == "2026-11-10"  # + 2 business days
    assert (await run(api, MONDAY))["tasks_scheduled"] == 0  # paused
    await billing.send(applied(issued, 3_000, date(2026, 11, 4)))
    url = f"/v1/commitments/{made.json()['commitment_id']}"
    assert (await api.get(url, headers=KIM)).json()["status"] == "open"
    await billing.send(applied(issued, 2_000, date(2026, 11, 9)))
    kept = (await api.get(url, headers=KIM)).json()
    assert (kept["status"], kept["paid_minor"], kept["judged_on"]) == ("kept", 5_000, "2026-11-09")
    assert await count(db, "collections.commitment.kept") == 1
    await billing.redeliver_all()
    assert await count(db, "collections.commitment.kept") == 1


async def test_a_broken_promise_brings_a_follow_up_call_and_marks_the_account_at_risk(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection, runtime: Runtime
) -> None:
    account_id, _ = await overdue_account(billing, api, 5_000)
    made = await api.post(
        "/v1/commitments",
        json={
            "account_id": str(account_id),
            "amount_minor": 5_000,
            "promised_date": "2026-11-04",
            "grace_days": 1,
        },
        headers=creating(KIM),
    )
    assert made.status_code == 201
    assert (await run(api, date(2026, 11, 5)))["commitments_judged"] == 0  # deadline day
    summary = await run(api, date(2026, 11, 6))
    assert summary["commitments_judged"] == 1
    commitment = (
        await api.get(f"/v1/commitments/{made.json()['commitment_id']}", headers=KIM)
    ).json()
    assert commitment["status"] == "broken"
    set_today(runtime, date(2026, 11, 6))
    [task] = (await api.get("/v1/worklist", headers=KIM)).json()["tasks"]
    assert task["kind"] == "commitment_follow_up" and task["business_date"] == "2026-11-06"
    assert task["commitment_id"] == made.json()["commitment_id"]
    view = (await api.get(f"/v1/accounts/{account_id}", headers=KIM)).json()
    assert view["at_risk_since"] == "2026-11-06"
    assert await count(db, "collections.account.marked_at_risk") == 1
    assert (await run(api, date(2026, 11, 6)))["commitments_judged"] == 0


async def at_risk_account(
    api: httpx.AsyncClient, billing: BillingFeed, *totals: int
) -> tuple[UUID, list[InvoiceIssued]]:
    """An account of kim's whose promise broke on 5 November: at risk since then."""
    registered = account()
    issued = [invoice(registered.account_id, date(2026, 10, 30), total) for total in totals]
    await billing.send(registered, *issued)
    read = await api.get(f"/v1/accounts/{registered.account_id}", headers=SUPERVISOR)
    await api.put(
        f"/v1/accounts/{registered.account_id}/collector",
        json={"collector_id": "kim"},
        headers={**SUPERVISOR, "If-Match": read.headers["ETag"]},
    )
    await api.post(
        "/v1/commitments",
        json={
            "account_id": str(registered.account_id),
            "amount_minor": totals[0],
            "promised_date": "2026-11-04",
            "grace_days": 0,
        },
        headers=creating(KIM),
    )
    await run(api, date(2026, 11, 5))
    view = (await api.get(f"/v1/accounts/{registered.account_id}", headers=KIM)).json()
    assert view["at_risk_since"] == "2026-11-05"
    return registered.account_id, issued


async def test_at_risk_clears_when_a_later_promise_is_kept_in_full(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection, runtime: Runtime
) -> None:
    account_id, (first, _) = await at_risk_account(api, billing, 5_000, 3_000)
    kept = await api.post(
        "/v1/commitments",
        json={
            "account_id": str(account_id),
            "amount_minor": 5_000,
            "promised_date": "2026-11-12",
            "invoice_ids": [str(first.invoice_id)],
        },
        headers=creating(KIM),
    )
    set_today(runtime, date(2026, 11, 10))
    await billing.send(applied(first, 5_000, date(2026, 11, 10)))
    view = (await api.get(f"/v1/accounts/{account_id}", headers=KIM)).json()
    assert view["at_risk_since"] is None  # 3,000 is still past due: the promise did it
    [cleared] = await db.fetch(
        "SELECT data FROM events WHERE type = 'collections.account.risk_cleared'"
    )
    assert (
        cleared["data"]["reason"],
        cleared["data"]["commitment_id"],
        cleared["data"]["at_risk_since"],
    ) == ("commitment_kept", kept.json()["commitment_id"], "2026-11-05")
    await billing.redeliver_all()
    assert await count(db, "collections.account.risk_cleared") == 1


async def test_at_risk_clears_when_nothing_is_past_due_any_more(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection, runtime: Runtime
) -> None:
    account_id, (first, second) = await at_risk_account(api, billing, 5_000, 3_000)
    set_today(runtime, date(2026, 11, 10))
    await billing.send(applied(first, 5_000, date(2026, 11, 10)))
    assert (await api.get(f"/v1/accounts/{account_id}", headers=KIM)).json()[
        "at_risk_since"
    ] == "2026-11-05"  # 3,000 still past due
    await billing.send(applied(second, 3_000, date(2026, 11, 10)))
    assert (await api.get(f"/v1/accounts/{account_id}", headers=KIM)).json()[
        "at_risk_since"
    ] is None
    assert (
        await db.fetchval(
            "SELECT data->>'reason' FROM events WHERE type = 'collections.account.risk_cleared'"
        )
        == "paid_up"
    )


async def test_a_partly_paid_promise_is_partially_kept_with_the_shortfall(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    registered = account()
    issued = invoice(registered.account_id, date(2026, 10, 30), 5_000)
    await billing.send(registered, issued)
    made = await api.post(
        "/v1/commitments",
        json={
            "account_id": str(registered.account_id),
            "amount_minor": 5_000,
            "promised_date": "2026-11-04",
            "grace_days": 0,
        },
        headers=creating(KIM),
    )
    await billing.send(applied(issued, 2_000, date(2026, 11, 4)))
    await run(api, date(2026, 11, 5))
    judged = (await api.get(f"/v1/commitments/{made.json()['commitment_id']}", headers=KIM)).json()
    assert (judged["status"], judged["paid_minor"]) == ("partially_kept", 2_000)
    data = await db.fetchval(
        "SELECT data FROM events WHERE type = 'collections.commitment.partially_kept'"
    )
    assert (data["paid_minor"], data["shortfall_minor"]) == (2_000, 3_000)


async def test_a_cancelled_promise_needs_the_current_version_and_ends_the_pause(
    api: httpx.AsyncClient, billing: BillingFeed
) -> None:
    await policy(api)
    account_id, _ = await overdue_account(billing, api, 5_000)
    made = await api.post(
        "/v1/commitments",
        json={"account_id": str(account_id), "amount_minor": 5_000, "promised_date": "2026-11-20"},
        headers=creating(KIM),
    )
    url = f"/v1/commitments/{made.json()['commitment_id']}/cancel"
    assert (await api.post(url, json={"reason": "typo"}, headers=KIM)).status_code == 428
    cancelled = await api.post(
        url, json={"reason": "taken in error"}, headers={**KIM, "If-Match": made.headers["ETag"]}
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await run(api, MONDAY))["tasks_scheduled"] == 1


# -- follow-ups set by hand and escalations --------------------------------------------------------

THURSDAY = date(2026, 11, 5)


async def test_a_follow_up_is_set_rescheduled_handed_over_and_completed(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    account_id, _ = await overdue_account(billing, api, 12_000)
    made = await api.post(
        "/v1/tasks",
        json={
            "account_id": str(account_id),
            "kind": "call",
            "due_on": "2026-11-04",
            "due_time": "10:00",
            "note": "call back about the October invoice",
        },
        headers=creating(KIM),
    )
    assert made.status_code == 201, made.text
    task = made.json()
    assert task["kind"] == "follow_up" and task["channel"] == "call"
    assert task["collector_id"] == "kim" and task["created_by"] == "kim"
    assert task["due_on"] == "2026-11-04" and task["due_at"].startswith("2026-11-04T10:00")
    assert task["amount_past_due_minor"] == 12_000
    url = f"/v1/tasks/{task['task_id']}"
    assert made.headers["Location"] == url and made.headers["ETag"] == '"1"'

    not_yours = await api.patch(
        url, json={"due_on": "2026-11-05"}, headers={**LEE, "If-Match": '"1"'}
    )
    assert not_yours.status_code == 403
    stale = await api.patch(url, json={"due_on": "2026-11-05"}, headers={**KIM, "If-Match": '"7"'})
    assert stale.status_code == 412
    moved = await api.patch(
        url,
        json={"due_on": THURSDAY.isoformat(), "due_time": "10:00"},
        headers={**KIM, "If-Match": '"1"'},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["due_on"] == "2026-11-05" and moved.headers["ETag"] == '"2"'
    snoozed = await api.patch(url, json={"snooze_days": 1}, headers={**KIM, "If-Match": '"2"'})
    assert snoozed.json()["due_on"] == "2026-11-06" and snoozed.json()["due_at"] is None
    handed = await api.patch(url, json={"assignee": "lee"}, headers={**KIM, "If-Match": '"3"'})
    assert handed.status_code == 200 and handed.json()["collector_id"] == "lee"
    assert await count(db, "collections.task.rescheduled") == 2
    assert await count(db, "collections.task.handed_over") == 1

    on_friday = (await api.get("/v1/worklist?date=2026-11-06", headers=LEE)).json()["tasks"]
    assert [t["task_id"] for t in on_friday] == [task["task_id"]]
    done = await api.post(f"{url}/complete", json={"outcome": "reached_promised"}, headers=LEE)
    assert done.status_code == 200 and done.json()["status"] == "completed"


async def test_bad_follow_ups_are_refused_naming_the_field_and_nothing_is_written(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    account_id, _ = await overdue_account(billing, api, 12_000)
    good = {"account_id": str(account_id), "due_on": "2026-11-04"}
    for change, field in [
        ({"due_on": "2026-10-30"}, "body.due_on"),
        ({"due_on": "2026-11-07"}, "body.due_on"),
        ({"due_time": "25:00"}, "body.due_time"),
        ({"kind": "fax"}, "body.kind"),
        ({"assignee": "bad\u0001id"}, "body.assignee"),
        ({"account_id": "not-a-uuid"}, "body.account_id"),
    ]:
        refused = await api.post("/v1/tasks", json={**good, **change}, headers=creating(KIM))
        assert refused.status_code == 422, (change, refused.text)
        problem = refused.json()
        fields = [problem.get("field")] + [e["field"] for e in problem.get("errors", [])]
        assert field in fields, (change, problem)
    made = await api.post("/v1/tasks", json=good, headers=creating(KIM))
    url = f"/v1/tasks/{made.json()['task_id']}"
    for patch, field in [
        ({}, "body"),
        ({"due_on": "2026-11-05", "snooze_days": 1}, "body.snooze_days"),
        ({"due_time": "10:00"}, "body.due_time"),
        ({"snooze_days": 0}, "body.snooze_days"),
        ({"due_on": "2026-10-01"}, "body.due_on"),
    ]:
        refused = await api.patch(url, json=patch, headers={**KIM, "If-Match": '"1"'})
        assert refused.status_code == 422, (patch, refused.text)
        problem = refused.json()
        fields = [problem.get("field")] + [e["field"] for e in problem.get("errors", [])]
        assert field in fields, (patch, problem)
    assert await count(db, "collections.task.scheduled") == 1
    assert await count(db, "collections.task.rescheduled") == 0


async def test_a_hand_escalation_lands_on_the_supervisor_s_worklist_once(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    account_id, _ = await overdue_account(billing, api, 12_000)
    url = f"/v1/accounts/{account_id}/escalations"
    made = await api.post(
        url, json={"reason": "promised three times", "supervisor_id": "sue"}, headers=creating(KIM)
    )
    assert made.status_code == 201, made.text
    assert made.json()["kind"] == "escalation" and made.json()["collector_id"] == "sue"
    again = await api.post(url, json={"reason": "again"}, headers=creating(KIM))
    assert again.status_code == 409
    unknown = await api.post(
        f"/v1/accounts/{new_id()}/escalations", json={"reason": "x"}, headers=creating(KIM)
    )
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["field"] == "path.account_id"
    sue = (await api.get("/v1/worklist", headers=SUPERVISOR)).json()["tasks"]
    assert [t["task_id"] for t in sue] == [made.json()["task_id"]]
    assert (await api.get("/v1/worklist", headers=KIM)).json()["tasks"] == []
    by = await db.fetchval(
        "SELECT data->>'escalated_by' FROM events WHERE type = 'collections.account.escalated'"
    )
    assert by == "kim"


async def test_an_escalated_account_can_still_be_given_to_another_collector(
    api: httpx.AsyncClient, billing: BillingFeed
) -> None:
    """The escalation is on the account's stream: its ETag must move with it, or every later
    write to the account would meet a version it was never shown."""
    account_id, _ = await overdue_account(billing, api, 12_000)
    made = await api.post(
        f"/v1/accounts/{account_id}/escalations", json={"reason": "stalling"}, headers=creating(KIM)
    )
    assert made.status_code == 201, made.text
    read = await api.get(f"/v1/accounts/{account_id}", headers=SUPERVISOR)
    moved = await api.put(
        f"/v1/accounts/{account_id}/collector",
        json={"collector_id": "lee"},
        headers={**SUPERVISOR, "If-Match": read.headers["ETag"]},
    )
    assert moved.status_code == 200, moved.text
    assert moved.headers["ETag"] != read.headers["ETag"]


async def test_an_escalating_step_puts_a_task_on_the_supervisor_s_worklist(
    api: httpx.AsyncClient, billing: BillingFeed, runtime: Runtime
) -> None:
    runtime.settings = runtime.settings.model_copy(update={"escalation_supervisor": "sue"})
    await policy(api)
    await overdue_account(billing, api, 9_000, due=date(2026, 9, 1))
    set_today(runtime, MONDAY)
    await run(api, MONDAY)
    [kims] = (await api.get("/v1/worklist", headers=KIM)).json()["tasks"]
    assert kims["kind"] == "cadence" and kims["escalates"]
    [sues] = (await api.get("/v1/worklist", headers=SUPERVISOR)).json()["tasks"]
    assert sues["kind"] == "escalation" and sues["collector_id"] == "sue"
    await run(api, MONDAY)
    assert len((await api.get("/v1/worklist", headers=SUPERVISOR)).json()["tasks"]) == 1


# -- promises pause only the invoices they name -------------------------------------------------


async def test_a_promise_on_one_invoice_leaves_the_other_in_the_cadence(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    await policy(api)
    account_id, [promised, other] = await overdue_account(billing, api, 5_000, 7_000)
    made = await api.post(
        "/v1/commitments",
        json={
            "account_id": str(account_id),
            "amount_minor": 5_000,
            "promised_date": "2026-11-06",
            "invoice_ids": [str(promised)],
        },
        headers=creating(KIM),
    )
    assert made.status_code == 201, made.text
    assert (await run(api, MONDAY))["tasks_scheduled"] == 1
    [task] = (await api.get("/v1/worklist", headers=KIM)).json()["tasks"]
    assert task["invoice_ids"] == [str(other)] and task["amount_past_due_minor"] == 7_000
    view = (await api.get(f"/v1/accounts/{account_id}", headers=KIM)).json()
    paused = {i["invoice_id"]: i["paused_until"] for i in view["invoices"]}
    assert paused == {str(promised): "2026-11-10", str(other): None}
    assert view["paused_until"] is None
    assert all(i["external_id"] and i["external_id"].startswith("INV-") for i in view["invoices"])


async def test_an_overdue_instalment_is_past_due_before_the_invoice_s_last_due_date(
    api: httpx.AsyncClient, billing: BillingFeed, runtime: Runtime
) -> None:
    await policy(api)
    registered = account()
    issued = in_instalments(
        registered.account_id,
        (date(2026, 10, 30), 3_000),
        (date(2026, 11, 30), 3_000),
        (date(2026, 12, 30), 4_000),
    )
    await billing.send(registered, issued, applied(issued, 1_000, date(2026, 10, 29)))
    assert (await run(api, MONDAY))["tasks_scheduled"] == 1
    [task] = (await api.get("/v1/worklist?unassigned=true", headers=SUPERVISOR)).json()["tasks"]
    assert task["invoice_ids"] == [str(issued.invoice_id)]
    assert task["template"] == "overdue_statement"
    assert (task["amount_past_due_minor"], task["days_past_due"]) == (2_000, 3)
    view = (await api.get(f"/v1/accounts/{registered.account_id}", headers=SUPERVISOR)).json()
    [row] = view["invoices"]
    assert (row["due_date"], row["days_past_due"], row["balance_minor"]) == ("2026-10-30", 3, 9_000)
    assert row["past_due_minor"] == view["past_due_minor"] == 2_000
    await billing.send(applied(issued, 2_000, MONDAY))
    view = (await api.get(f"/v1/accounts/{registered.account_id}", headers=SUPERVISOR)).json()
    [row] = view["invoices"]
    assert (row["due_date"], row["days_past_due"]) == ("2026-11-30", 0)
    # the second instalment falls overdue in its turn: its cadence starts from its due date
    later = date(2026, 12, 2)
    set_today(runtime, later)
    assert (await run(api, later))["tasks_scheduled"] == 1
    [task] = [
        t
        for t in (
            await api.get(
                "/v1/worklist",
                params={"unassigned": "true", "date": later.isoformat()},
                headers=SUPERVISOR,
            )
        ).json()["tasks"]
        if t["business_date"] == later.isoformat()
    ]
    assert task["template"] == "overdue_statement"
    assert (task["amount_past_due_minor"], task["days_past_due"]) == (3_000, 2)


async def test_a_task_s_pay_link_comes_from_the_configured_source_or_is_refused(
    api: httpx.AsyncClient, billing: BillingFeed, runtime: Runtime
) -> None:
    await policy(api)
    account_id, _ = await overdue_account(billing, api, 5_000)
    await run(api, MONDAY)
    [task] = (await api.get("/v1/worklist", headers=KIM)).json()["tasks"]
    path = f"/v1/tasks/{task['task_id']}/pay-link"
    unconfigured = await api.post(path, headers=KIM)
    assert unconfigured.status_code == 503, unconfigured.text
    assert "BILLING_ADAPTER_URL" in unconfigured.json()["detail"]
    runtime.settings = runtime.settings.model_copy(
        update={"pay_link_url_template": "https://pay.example/a/{account_id}"}
    )
    made = await api.post(path, headers=KIM)
    assert made.status_code == 200, made.text
    assert made.json() == {
        "account_id": str(account_id),
        "purpose": "payment",
        "url": f"https://pay.example/a/{account_id}",
        "expires_at": None,
        "provider": None,
        "pay_link_id": None,
    }
    assert (await api.post(path, headers=LEE)).status_code == 403
    missing = await api.post(f"/v1/tasks/{new_id()}/pay-link", headers=KIM)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["field"] == "path.task_id"
    offer = await api.post(
        "/v1/autopay/offers",
        json={"account_id": str(account_id), "channel": "call"},
        headers=creating(KIM),
    )
    assert offer.status_code == 201, offer.text
    enrol = await api.post(
        f"/v1/autopay/offers/{offer.json()['offer_id']}/enrolment-link", headers=KIM
    )
    assert enrol.status_code == 503 and "BILLING_ADAPTER_URL" in enrol.json()["detail"]


async def test_billing_out_of_reach_is_a_502_naming_it_and_the_email_goes_without_a_link(
    api: httpx.AsyncClient, billing: BillingFeed, runtime: Runtime, inbox: Inbox
) -> None:
    await policy(api)
    account_id, _ = await overdue_account(billing, api, 5_000)
    await run(api, MONDAY)
    [task] = (await api.get("/v1/worklist", headers=KIM)).json()["tasks"]
    runtime.pay_links = BillingPayLinks(
        f"http://127.0.0.1:{free_port()}", lambda: "token", timeout_seconds=2
    )
    failed = await api.post(f"/v1/tasks/{task['task_id']}/pay-link", headers=KIM)
    assert failed.status_code == 502, failed.text
    assert "billing-adapter did not answer" in failed.json()["detail"]
    # the statement still goes, with its figures and without a link
    sent = await api.post(
        "/v1/contacts/emails",
        json={"account_id": str(account_id), "template": "overdue_statement"},
        headers=creating(KIM),
    )
    assert sent.status_code == 201 and sent.json()["outcome"] == "email_sent", sent.text
    assert "$50.00" in inbox.messages[-1].get_content()


def test_asking_billing_for_links_needs_credentials_for_it() -> None:
    with pytest.raises(ValidationError, match="BILLING_ADAPTER_TOKEN"):
        CollectionsSettings(billing_adapter_url="http://billing:8101")
    minted = CollectionsSettings(
        billing_adapter_url="http://billing:8101",
        jwt_secret="s" * 32,
        jwt_issuer="https://id.example",
    )
    links = pay_links_of(minted)
    assert isinstance(links, BillingPayLinks)
    claims = jwt.decode(
        links.token(),
        "s" * 32,
        algorithms=["HS256"],
        audience="receivables",
        issuer="https://id.example",
    )
    assert (claims["sub"], claims["roles"]) == ("collections-service", ["integration"])
    assert isinstance(pay_links_of(CollectionsSettings()), UrlTemplatePayLinks)


async def test_a_collector_lists_their_open_promises_a_page_at_a_time(
    api: httpx.AsyncClient, billing: BillingFeed
) -> None:
    ids = []
    for day in ("2026-11-10", "2026-11-04", "2026-11-06"):
        account_id, _ = await overdue_account(billing, api, 5_000)
        made = await api.post(
            "/v1/commitments",
            json={"account_id": str(account_id), "amount_minor": 1_000, "promised_date": day},
            headers=creating(KIM),
        )
        ids.append((day, made.json()["commitment_id"]))
    first = await api.get("/v1/commitments?due_before=2026-11-09&limit=1", headers=KIM)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [c["promised_date"] for c in page["items"]] == ["2026-11-04"]
    rest = (
        await api.get(
            f"/v1/commitments?due_before=2026-11-09&limit=1&cursor={page['next_cursor']}",
            headers=KIM,
        )
    ).json()
    assert [c["promised_date"] for c in rest["items"]] == ["2026-11-06"]
    assert rest["next_cursor"] is None
    assert (await api.get("/v1/commitments", headers=LEE)).json()["items"] == []
    assert (await api.get("/v1/commitments?collector_id=kim", headers=LEE)).status_code == 403
    everything = (await api.get("/v1/commitments?collector_id=kim", headers=SUPERVISOR)).json()
    assert len(everything["items"]) == 3
    for query, field in [
        ("due_before=tomorrow", "query.due_before"),
        ("limit=0", "query.limit"),
        ("cursor=garbage", "query.cursor"),
    ]:
        bad = await api.get(f"/v1/commitments?{query}", headers=KIM)
        assert bad.status_code in (400, 422), (query, bad.text)
        problem = bad.json()
        fields = [problem.get("field")] + [e["field"] for e in problem.get("errors", [])]
        assert field in fields, (query, problem)


# -- the worklist says who to call ----------------------------------------------------------------


async def test_each_worklist_task_carries_a_call_sheet(
    api: httpx.AsyncClient, billing: BillingFeed
) -> None:
    await policy(api)
    account_id, [first, second] = await overdue_account(billing, api, 5_000, 7_000)
    profile = await api.get(f"/v1/accounts/{account_id}/profile", headers=KIM)
    await api.put(
        f"/v1/accounts/{account_id}/profile",
        json={
            "tags": ["vip"],
            "preferred_channel": "call",
            "contact_hours": "Mon-Thu 09:00-12:00",
            "language": "es",
        },
        headers={**KIM, "If-Match": profile.headers["ETag"]},
    )
    called = await api.post(
        "/v1/contacts/calls",
        json={"account_id": str(account_id), "outcome": "no_answer"},
        headers=creating(KIM),
    )
    assert called.status_code == 201, called.text
    promised = await api.post(
        "/v1/commitments",
        json={
            "account_id": str(account_id),
            "amount_minor": 5_000,
            "promised_date": "2026-11-06",
            "invoice_ids": [str(first)],
        },
        headers=creating(KIM),
    )
    assert promised.status_code == 201, promised.text
    await run(api, MONDAY)
    [task] = (await api.get("/v1/worklist", headers=KIM)).json()["tasks"]
    sheet = task["call_sheet"]
    assert sheet["contact"] == {"name": "Ann", "email": "ann@acme.test", "phone": "+1 555 0100"}
    assert (
        sheet["preferred_channel"],
        sheet["contact_hours"],
        sheet["language"],
        sheet["tags"],
    ) == ("call", "Mon-Thu 09:00-12:00", "es", ["vip"])
    assert sheet["last_contact"]["outcome"] == "no_answer"
    assert [p["commitment_id"] for p in sheet["open_promises"]] == [
        promised.json()["commitment_id"]
    ]
    [owed] = sheet["invoices"]
    assert owed["invoice_id"] == str(second) and owed["external_id"].startswith("INV-")
    assert (owed["balance_minor"], owed["days_past_due"]) == (7_000, 3)


# -- promises as plans of instalments -------------------------------------------------------------


async def test_a_plan_s_instalments_are_each_kept_or_broken(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    registered = account()
    issued = invoice(registered.account_id, date(2026, 10, 30), 5_000)
    await billing.send(registered, issued)
    plan = {
        "account_id": str(registered.account_id),
        "amount_minor": 5_000,
        "promised_date": "2026-11-06",
        "grace_days": 0,
        "instalments": [
            {"due_date": "2026-11-04", "amount_minor": 2_000},
            {"due_date": "2026-11-06", "amount_minor": 3_000},
        ],
    }
    made = await api.post("/v1/commitments", json=plan, headers=creating(KIM))
    assert made.status_code == 201, made.text
    assert [i["amount_minor"] for i in made.json()["instalments"]] == [2_000, 3_000]
    url = f"/v1/commitments/{made.json()['commitment_id']}"
    await billing.send(applied(issued, 2_000, date(2026, 11, 4)))
    seen = (await api.get(url, headers=KIM)).json()
    assert (seen["status"], seen["instalments_judged"]) == ("open", 1)
    await run(api, date(2026, 11, 9))
    seen = (await api.get(url, headers=KIM)).json()
    assert (seen["status"], seen["paid_minor"], seen["instalments_judged"]) == (
        "partially_kept",
        2_000,
        2,
    )
    judged = await db.fetch(
        "SELECT data FROM events WHERE type = "
        "'collections.commitment.instalment_judged' ORDER BY position"
    )
    assert [(e["data"]["number"], e["data"]["kept"]) for e in judged] == [(1, True), (2, False)]


async def test_a_broken_first_instalment_breaks_the_plan_before_its_last_date(
    api: httpx.AsyncClient, billing: BillingFeed
) -> None:
    account_id, _ = await overdue_account(billing, api, 5_000)
    made = await api.post(
        "/v1/commitments",
        json={
            "account_id": str(account_id),
            "amount_minor": 5_000,
            "promised_date": "2026-11-20",
            "grace_days": 0,
            "instalments": [
                {"due_date": "2026-11-04", "amount_minor": 1_000},
                {"due_date": "2026-11-20", "amount_minor": 4_000},
            ],
        },
        headers=creating(KIM),
    )
    assert made.status_code == 201, made.text
    await run(api, date(2026, 11, 5))
    seen = (await api.get(f"/v1/commitments/{made.json()['commitment_id']}", headers=KIM)).json()
    assert (seen["status"], seen["instalments_judged"]) == ("broken", 1)


async def test_a_plan_that_does_not_add_up_is_refused_naming_the_instalment(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    account_id, _ = await overdue_account(billing, api, 5_000)
    base = {"account_id": str(account_id), "amount_minor": 5_000, "promised_date": "2026-11-06"}
    for instalments, field in [
        (
            [
                {"due_date": "2026-11-04", "amount_minor": 1_000},
                {"due_date": "2026-11-06", "amount_minor": 1_000},
            ],
            "body.instalments",
        ),
        (
            [
                {"due_date": "2026-11-04", "amount_minor": 2_000},
                {"due_date": "2026-11-05", "amount_minor": 3_000},
            ],
            "body.instalments.1.due_date",
        ),
        (
            [
                {"due_date": "2026-11-06", "amount_minor": 2_000},
                {"due_date": "2026-11-06", "amount_minor": 3_000},
            ],
            "body.instalments.1.due_date",
        ),
        (
            [
                {"due_date": "2026-10-01", "amount_minor": 2_000},
                {"due_date": "2026-11-06", "amount_minor": 3_000},
            ],
            "body.instalments.0.due_date",
        ),
        (
            [
                {"due_date": "2026-11-04", "amount_minor": 0},
                {"due_date": "2026-11-06", "amount_minor": 5_000},
            ],
            "body.instalments.0.amount_minor",
        ),
    ]:
        refused = await api.post(
            "/v1/commitments", json={**base, "instalments": instalments}, headers=creating(KIM)
        )
        assert refused.status_code == 422, (instalments, refused.text)
        problem = refused.json()
        fields = [problem.get("field")] + [e["field"] for e in problem.get("errors", [])]
        assert field in fields, (instalments, problem)
    assert await count(db, "collections.commitment.made") == 0
