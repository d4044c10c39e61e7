"""The case API through a real HTTP server over real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from case_service.testing import (
    AGENT,
    OTHER_AGENT,
    auth,
    billing_account,
    case_body,
    count,
    create,
    if_match,
    opened_case,
)

open_case = opened_case


async def test_a_case_opens_numbered_with_its_sla_and_replays_on_the_same_key(api, cases_url):
    account_id, invoices = await billing_account(cases_url)
    headers = create()
    body = case_body(account_id, invoices)
    first = await api.post("/v1/cases", json=body, headers=headers)
    assert first.status_code == 201 and first.headers["ETag"] == '"1"'
    case = first.json()
    assert case["case_number"].startswith("CASE-") and case["status"] == "new"
    assert case["sla"]["target_days"] == 14 and not case["completeness"]["complete"]
    replay = await api.post("/v1/cases", json=body, headers=headers)
    assert replay.content == first.content and replay.headers["Idempotent-Replayed"] == "true"
    assert await count(cases_url, "SELECT count(*) FROM cases") == 1
    got = await api.get(first.headers["Location"], headers=auth())
    assert got.json() == case and got.headers["ETag"] == '"1"'


async def test_unknown_account_or_invoice_is_refused_naming_the_field(api, cases_url):
    account_id, _ = await billing_account(cases_url)
    unknown = await api.post("/v1/cases", json=case_body(uuid4(), []), headers=create())
    assert unknown.status_code == 422
    assert unknown.headers["Content-Type"].startswith("application/problem+json")
    assert unknown.json()["errors"][0]["field"] == "body.account_id"
    other_invoice = (await billing_account(cases_url))[1][0]
    foreign = await api.post(
        "/v1/cases", json=case_body(account_id, [other_invoice]), headers=create()
    )
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["field"] == "body.invoice_ids.0"
    bad_type = await api.post(
        "/v1/cases", json=case_body(account_id, [], type="complaint"), headers=create()
    )
    assert bad_type.status_code == 422 and "body.type" in bad_type.text
    assert await count(cases_url, "SELECT count(*) FROM events") == 0


async def test_the_second_of_two_agents_editing_the_same_version_gets_412(api, cases_url):
    opened = await open_case(api, cases_url)
    url = opened.headers["Location"]
    first = await api.post(f"{url}/assignment", json={"owner_id": AGENT}, headers=if_match(opened))
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    second = await api.post(
        f"{url}/assignment", json={"owner_id": OTHER_AGENT}, headers=if_match(opened, OTHER_AGENT)
    )
    assert second.status_code == 412 and second.headers["ETag"] == '"2"'
    assert (await api.get(url, headers=auth())).json()["owner_id"] == AGENT
    blind = await api.post(f"{url}/status", json={"status": "investigating"}, headers=auth())
    assert blind.status_code == 428


async def test_two_agents_sending_if_match_star_are_both_refused_with_428(api, cases_url):
    opened = await open_case(api, cases_url)
    url = opened.headers["Location"]
    for agent, status in ((AGENT, "investigating"), (OTHER_AGENT, "waiting_on_internal")):
        star = await api.post(
            f"{url}/status", json={"status": status}, headers={**auth(agent), "If-Match": "*"}
        )
        assert star.status_code == 428, star.text
        assert star.headers["Content-Type"].startswith("application/problem+json")
        assert star.json()["errors"][0]["field"] == "header.If-Match"
    now = await api.get(url, headers=auth())
    assert now.json()["status"] == "new" and now.headers["ETag"] == '"1"'
    assert await count(cases_url, "SELECT count(*) FROM events") == 1


async def test_assigning_to_an_unknown_user_is_refused(api, cases_url):
    opened = await open_case(api, cases_url)
    refused = await api.post(
        f"{opened.headers['Location']}/assignment",
        json={"owner_id": "nobody"},
        headers=if_match(opened),
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "body.owner_id"


async def test_invalid_transitions_are_409_problems_and_change_nothing(api, cases_url):
    opened = await open_case(api, cases_url)
    url = opened.headers["Location"]
    close = await api.post(f"{url}/close", headers=if_match(opened))
    assert close.status_code == 409
    assert close.json()["errors"][0]["field"] == "body.status"
    assert close.headers["Content-Type"].startswith("application/problem+json")
    assert (await api.get(url, headers=auth())).headers["ETag"] == '"1"'


async def test_a_billing_case_from_first_contact_to_close_and_reopen(api, cases_url):
    opened = await open_case(api, cases_url)
    url = opened.headers["Location"]
    step = await api.post(
        f"{url}/status", json={"status": "investigating"}, headers=if_match(opened)
    )
    step = await api.post(f"{url}/notes", json={"body": "Billing run posted twice"}, headers=auth())
    assert step.status_code == 200
    category = await api.post(
        "/v1/root-causes",
        json={"code": "DUP_RUN", "name": "Duplicate run"},
        headers=create("root", "admin"),
    )
    assert category.status_code == 201, category.text
    step = await api.post(
        f"{url}/root-cause",
        json={"category_id": category.json()["category_id"], "detail": "Job retried"},
        headers=if_match(step),
    )
    assert step.json()["root_cause"]["category_code"] == "DUP_RUN"
    step = await api.post(
        f"{url}/customer-updates",
        json={"channel": "phone", "summary": "Told the customer a credit is coming"},
        headers=auth(),
    )
    step = await api.post(
        f"{url}/resolve", json={"resolution_summary": "Duplicate credited"}, headers=if_match(step)
    )
    refused = await api.post(f"{url}/close", headers=if_match(step))
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "body.confirmation"
    confirmed_at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    step = await api.post(
        f"{url}/confirmation",
        json={"confirmed_by_name": "Pat", "channel": "phone", "confirmed_at": confirmed_at},
        headers=auth(),
    )
    closed = await api.post(f"{url}/close", headers=if_match(step))
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["status"] == "closed" and body["completeness"]["complete"]
    types = await count(cases_url, "SELECT count(*) FROM events WHERE type = 'cases.case.closed'")
    assert types == 1
    reopened = await api.post(
        f"{url}/reopen", json={"reason": "Charged again"}, headers=if_match(closed)
    )
    assert reopened.status_code == 200 and reopened.json()["status"] == "investigating"
    retired = await api.post(
        f"/v1/root-causes/{category.json()['category_id']}/retire", headers=auth("root", "admin")
    )
    assert retired.json()["retired_at"] is not None
    kept = await api.get(url, headers=auth())
    assert kept.json()["root_cause"]["category_code"] == "DUP_RUN", "history kept"
    again = await api.post(
        f"{url}/root-cause",
        json={"category_id": category.json()["category_id"]},
        headers=if_match(kept),
    )
    assert again.status_code == 422 and again.json()["title"] == "Retired category"


async def test_search_filters_and_pages_with_a_cursor(api, cases_url):
    for _ in range(5):
        await open_case(api, cases_url)
    disputes = await open_case(api, cases_url, type="billing_inquiry", owner_id=OTHER_AGENT)
    seen, cursor = [], None
    while True:
        page = await api.get(
            "/v1/cases",
            params={"limit": 2, "open": "true", **({"cursor": cursor} if cursor else {})},
            headers=auth(),
        )
        assert page.status_code == 200, page.text
        seen += [x["case_id"] for x in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6
    owned = await api.get("/v1/cases", params={"owner_id": OTHER_AGENT}, headers=auth())
    assert [x["case_id"] for x in owned.json()["items"]] == [disputes.json()["case_id"]]
    old = await api.get("/v1/cases", params={"open": "true", "older_than_days": 14}, headers=auth())
    assert old.json()["items"] == []
    on_track = await api.get(
        "/v1/cases", params={"sla_state": "on_track", "type": "dispute"}, headers=auth()
    )
    assert len(on_track.json()["items"]) == 5
    bad = await api.get("/v1/cases", params={"cursor": "not-a-cursor"}, headers=auth())
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "query.cursor"


async def test_two_agents_writing_at_once_on_the_same_version_one_wins_one_gets_412(api, cases_url):
    opened = await open_case(api, cases_url)
    url = opened.headers["Location"]
    first, second = await asyncio.gather(
        api.post(f"{url}/status", json={"status": "investigating"}, headers=if_match(opened)),
        api.post(
            f"{url}/status",
            json={"status": "waiting_on_internal"},
            headers=if_match(opened, OTHER_AGENT),
        ),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 412]
    winner = first if first.status_code == 200 else second
    now = await api.get(url, headers=auth())
    assert now.json()["status"] == winner.json()["status"] and now.headers["ETag"] == '"2"'


async def test_a_case_lists_the_sops_for_its_root_cause(api, cases_url):
    admin = {**auth("root", "admin")}
    category = (
        await api.post(
            "/v1/root-causes",
            json={"code": "TAX", "name": "Tax rate"},
            headers={**admin, "Idempotency-Key": str(uuid4())},
        )
    ).json()
    await api.post(
        "/v1/sops",
        json={
            "title": "Check the tax table",
            "body": "1. Open...",
            "category_ids": [category["category_id"]],
        },
        headers={**admin, "Idempotency-Key": str(uuid4())},
    )
    opened = await open_case(api, cases_url)
    url = opened.headers["Location"]
    assert (await api.get(f"{url}/sops", headers=auth())).json() == []
    await api.post(
        f"{url}/root-cause", json={"category_id": category["category_id"]}, headers=if_match(opened)
    )
    [sop] = (await api.get(f"{url}/sops", headers=auth())).json()
    assert sop["title"] == "Check the tax table"


async def test_a_question_found_to_be_a_dispute_is_reclassified_with_its_reason(api, cases_url):
    opened = await open_case(api, cases_url, type="billing_inquiry")
    url = opened.headers["Location"]
    missing = await api.post(f"{url}/type", json={"type": "dispute"}, headers=if_match(opened))
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "body.reason"
    unknown = await api.post(
        f"{url}/type", json={"type": "complaint", "reason": "x"}, headers=if_match(opened)
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "body.type"
    assert await count(cases_url, "SELECT count(*) FROM events") == 1

    changed = await api.post(
        f"{url}/type",
        json={"type": "dispute", "reason": "Customer refuses to pay the October invoice"},
        headers=if_match(opened),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["type"] == "dispute" and changed.headers["ETag"] == '"2"'
    again = await api.post(
        f"{url}/type", json={"type": "dispute", "reason": "again"}, headers=if_match(changed)
    )
    assert again.status_code == 200 and again.headers["ETag"] == '"2"'
    stale = await api.post(
        f"{url}/type", json={"type": "other", "reason": "no"}, headers=if_match(opened)
    )
    assert stale.status_code == 412

    assert (
        await count(cases_url, "SELECT count(*) FROM events WHERE type = 'cases.case.reclassified'")
        == 1
    )
    found = await api.get("/v1/cases", params={"type": "dispute"}, headers=auth())
    assert [x["case_id"] for x in found.json()["items"]] == [changed.json()["case_id"]]


async def test_a_confirmation_instant_outside_the_business_dates_or_zoneless_is_refused(
    api, cases_url
):
    """Year 1 or 9999, a zoneless time or a number would be stored as a moment no read handles."""
    opened = await open_case(api, cases_url)
    url = opened.headers["Location"]
    for hostile in (
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59Z",
        "1989-12-31T23:59:59Z",
        "2026-01-05T00:00:00",
        "20260105T000000Z",
        "2026-W01-1T00:00:00Z",
        "2026-02-30T00:00:00Z",
        1767571200,
        "1767571200",
        None,
        ["2026-01-05T00:00:00Z"],
    ):
        refused = await api.post(
            f"{url}/confirmation",
            json={"confirmed_by_name": "Pat", "channel": "phone", "confirmed_at": hostile},
            headers=auth(),
        )
        assert refused.status_code == 422, (hostile, refused.text)
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        assert refused.json()["errors"][0]["field"] == "body.confirmed_at", hostile
    assert await count(cases_url, "SELECT count(*) FROM events") == 1
    kept = await api.post(
        f"{url}/confirmation",
        json={
            "confirmed_by_name": "Pat",
            "channel": "phone",
            "confirmed_at": "2026-01-05T09:30:00Z",
        },
        headers=auth(),
    )
    assert kept.status_code == 200, kept.text


async def test_hostile_if_match_values_are_4xx_and_change_nothing(api, cases_url):
    opened = await open_case(api, cases_url)
    url = opened.headers["Location"]
    for value, expected in (
        ('W/"1"', 412),
        ('"0", W/"1"', 412),
        ('"1" , "1"', 200),
        ('"' + "9" * 5000 + '"', 412),
        ("1", 400),
        ('"1', 400),
        (",", 400),
        ('"1",,', 400),
        ('* , "1"', 400),
    ):
        sent = await api.post(
            f"{url}/status", json={"status": "investigating"}, headers={**auth(), "If-Match": value}
        )
        assert sent.status_code == expected, (value[:20], sent.text[:300])
        if expected != 200:
            assert sent.json()["errors"][0]["field"] == "header.If-Match"
            continue
        back = await api.post(
            f"{url}/status",
            json={"status": "new"},
            headers={**auth(), "If-Match": sent.headers["ETag"]},
        )
        assert back.status_code in (200, 409), back.text


async def test_an_agent_taking_a_case_is_registered_on_first_use(api, cases_url):
    opened = await open_case(api, cases_url)
    url = opened.headers["Location"]
    newcomer = "agent-new"
    taken = await api.post(
        f"{url}/assignment",
        json={"owner_id": newcomer},
        headers={**auth(newcomer), "If-Match": opened.headers["ETag"]},
    )
    assert taken.status_code == 200, taken.text
    assert taken.json()["owner_id"] == newcomer
    assert (
        await count(
            cases_url, "SELECT count(*) FROM case_agents WHERE user_id = 'agent-new' AND active"
        )
        == 1
    )
    # naming someone else is still only for agents an admin (or they themselves) registered
    refused = await api.post(
        f"{url}/assignment",
        json={"owner_id": "agent-unseen"},
        headers={**auth(newcomer), "If-Match": taken.headers["ETag"]},
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "body.owner_id"


async def test_a_deactivated_agent_cannot_take_a_case_back_by_themselves(api, cases_url):
    put = await api.put(
        "/v1/agents/agent-gone",
        json={"name": "Gone", "active": False},
        headers=auth("admin-1", "admin"),
    )
    assert put.status_code == 200, put.text
    opened = await open_case(api, cases_url)
    refused = await api.post(
        f"{opened.headers['Location']}/assignment",
        json={"owner_id": "agent-gone"},
        headers={**auth("agent-gone"), "If-Match": opened.headers["ETag"]},
    )
    assert refused.status_code == 422, refused.text


async def test_an_escalation_carries_its_cause_and_a_confirmation_the_satisfaction(api, cases_url):
    """The cause feeds escalations-by-cause and the satisfaction the confirmation KPI; both
    are optional, so clients that send neither keep working, and bad values change nothing."""
    opened = await open_case(api, cases_url)
    url = opened.headers["Location"]
    due = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    for cause in ("late", "", 3, ["delay"]):
        refused = await api.post(
            f"{url}/escalations",
            json={
                "team": "service",
                "question": "When was it installed?",
                "due_date": due,
                "cause": cause,
            },
            headers=create(),
        )
        assert refused.status_code == 422, (cause, refused.text)
        assert refused.json()["errors"][0]["field"] == "body.cause"
    escalated = await api.post(
        f"{url}/escalations",
        json={
            "team": "service",
            "question": "When was it installed?",
            "due_date": due,
            "cause": "documentation_gap",
        },
        headers=create(),
    )
    assert escalated.status_code == 201, escalated.text
    assert [e["cause"] for e in escalated.json()["escalations"]] == ["documentation_gap"]
    confirmed_at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    for satisfaction in (0, 6, "five", 4.5):
        refused = await api.post(
            f"{url}/confirmation",
            json={
                "confirmed_by_name": "Pat",
                "channel": "phone",
                "confirmed_at": confirmed_at,
                "satisfaction": satisfaction,
            },
            headers=auth(),
        )
        assert refused.status_code == 422, (satisfaction, refused.text)
        assert refused.json()["errors"][0]["field"] == "body.satisfaction"
    assert (
        await count(
            cases_url, "SELECT count(*) FROM events WHERE type = 'cases.case.customer_confirmed'"
        )
        == 0
    )
    confirmed = await api.post(
        f"{url}/confirmation",
        json={
            "confirmed_by_name": "Pat",
            "channel": "phone",
            "confirmed_at": confirmed_at,
            "satisfaction": 4,
            "satisfaction_comment": "Quick, but the first letter confused me",
        },
        headers=auth(),
    )
    assert confirmed.status_code == 200, confirmed.text
    confirmation = confirmed.json()["confirmation"]
    assert (confirmation["satisfaction"], confirmation["satisfaction_comment"]) == (
        4,
        "Quick, but the first letter confused me",
    )
    assert (
        await count(
            cases_url,
            "SELECT count(*) FROM events WHERE type = "
            "'cases.case.customer_confirmed' AND data->>'satisfaction' = '4'",
        )
        == 1
    )
