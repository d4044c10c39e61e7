"""Team inboxes through the HTTP API: list, claim and answer escalations by team membership."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg
import httpx

from case_service.testing import auth, billing_account, case_body, count, create

SERVICE_ANN, SERVICE_BOB, INSTALLER = "svc-ann", "svc-bob", "inst-ida"


def member(sub: str, team: str = "service") -> dict[str, str]:
    return auth(sub, f"team:{team}")


async def escalated(
    api: httpx.AsyncClient, url: str, team: str = "service", due: date | None = None
) -> tuple[str, str]:
    """A new case with one escalation: (case url, escalation id)."""
    account_id, invoices = await billing_account(url)
    opened = await api.post("/v1/cases", json=case_body(account_id, invoices), headers=create())
    case_url = opened.headers["Location"]
    esc = await api.post(
        f"{case_url}/escalations",
        headers=create(),
        json={
            "team": team,
            "question": "Was the meter read twice?",
            "due_date": (due or date.today() + timedelta(days=3)).isoformat(),
        },
    )
    assert esc.status_code == 201, esc.text
    return case_url, esc.json()["escalations"][0]["escalation_id"]


async def test_a_team_sees_only_its_own_escalations(api, cases_url):
    _, for_service = await escalated(api, cases_url, "service")
    _, for_installation = await escalated(api, cases_url, "installation")
    page = await api.get("/v1/escalations", headers=member(SERVICE_ANN))
    assert page.status_code == 200, page.text
    [item] = page.json()["items"]
    assert item["escalation_id"] == for_service and item["state"] == "open"
    assert item["case_version"] == 2 and item["claimed_by"] is None
    other = await api.get(
        "/v1/escalations", params={"team": "installation"}, headers=member(SERVICE_ANN)
    )
    assert other.status_code == 403 and other.json()["errors"][0]["field"] == "query.team"
    alien = await api.get(f"/v1/escalations/{for_installation}", headers=member(SERVICE_ANN))
    assert alien.status_code == 403
    everyone = await api.get("/v1/escalations", headers=auth())
    assert {i["escalation_id"] for i in everyone.json()["items"]} == {for_service, for_installation}
    collector = await api.get("/v1/escalations", headers=auth("col", "collector"))
    assert collector.status_code == 403


async def test_one_member_claims_and_answers_and_the_other_is_refused(api, cases_url):
    case_url, escalation_id = await escalated(api, cases_url)
    url = f"/v1/escalations/{escalation_id}"
    read = await api.get(url, headers=member(SERVICE_ANN))
    etag = read.headers["ETag"]
    assert (await api.post(f"{url}/claim", headers=member(SERVICE_ANN))).status_code == 428
    installer = await api.post(
        f"{url}/claim", headers={**member(INSTALLER, "installation"), "If-Match": etag}
    )
    assert installer.status_code == 403
    claimed = await api.post(f"{url}/claim", headers={**member(SERVICE_ANN), "If-Match": etag})
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["state"] == "claimed" and claimed.json()["claimed_by"] == SERVICE_ANN
    stale = await api.post(f"{url}/claim", headers={**member(SERVICE_BOB), "If-Match": etag})
    assert stale.status_code == 412
    taken = await api.post(
        f"{url}/claim", headers={**member(SERVICE_BOB), "If-Match": claimed.headers["ETag"]}
    )
    assert taken.status_code == 409 and SERVICE_ANN in taken.json()["detail"]
    again = await api.post(
        f"{url}/claim", headers={**member(SERVICE_ANN), "If-Match": claimed.headers["ETag"]}
    )
    assert again.status_code == 200 and again.headers["ETag"] == claimed.headers["ETag"]
    bob = await api.post(f"{url}/answer", json={"answer": "No"}, headers=member(SERVICE_BOB))
    assert bob.status_code == 409
    agent = await api.post(
        f"{case_url}/escalations/{escalation_id}/answer", json={"answer": "No"}, headers=auth()
    )
    assert agent.status_code == 409
    answered = await api.post(
        f"{url}/answer", json={"answer": "Read once, billed twice"}, headers=member(SERVICE_ANN)
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["state"] == "answered"
    assert answered.json()["answered_by"] == SERVICE_ANN
    case = (await api.get(case_url, headers=auth())).json()
    assert case["escalations"][0]["answer"] == "Read once, billed twice"
    assert case["escalations"][0]["claimed_by"] == SERVICE_ANN
    done = await api.get(
        "/v1/escalations", params={"state": "answered"}, headers=member(SERVICE_BOB)
    )
    assert [i["escalation_id"] for i in done.json()["items"]] == [escalation_id]
    assert (
        await api.get("/v1/escalations", params={"state": "open"}, headers=member(SERVICE_BOB))
    ).json()["items"] == []


async def test_two_members_claiming_at_once_leave_one_claim(api, cases_url):
    _, escalation_id = await escalated(api, cases_url)
    url = f"/v1/escalations/{escalation_id}"
    etag = (await api.get(url, headers=member(SERVICE_ANN))).headers["ETag"]
    import asyncio

    results = await asyncio.gather(
        *(
            api.post(f"{url}/claim", headers={**member(who), "If-Match": etag})
            for who in (SERVICE_ANN, SERVICE_BOB)
        )
    )
    assert sorted(r.status_code for r in results) == [200, 412]
    assert (
        await count(
            cases_url, "SELECT count(*) FROM events WHERE type = 'cases.case.escalation_claimed'"
        )
        == 1
    )


async def test_the_inbox_pages_soonest_due_first_and_filters_overdue(api, cases_url):
    ids = [
        (await escalated(api, cases_url, due=date.today() + timedelta(days=d)))[1]
        for d in (3, 1, 2)
    ]
    first = await api.get("/v1/escalations", params={"limit": 2}, headers=member(SERVICE_ANN))
    body = first.json()
    assert [i["escalation_id"] for i in body["items"]] == [ids[1], ids[2]]
    rest = await api.get(
        "/v1/escalations",
        params={"limit": 2, "cursor": body["next_cursor"]},
        headers=member(SERVICE_ANN),
    )
    assert [i["escalation_id"] for i in rest.json()["items"]] == [ids[0]]
    assert rest.json()["next_cursor"] is None
    bad = await api.get("/v1/escalations", params={"cursor": "nope"}, headers=member(SERVICE_ANN))
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "query.cursor"
    bad_state = await api.get(
        "/v1/escalations", params={"state": "lost"}, headers=member(SERVICE_ANN)
    )
    assert bad_state.status_code == 422
    conn = await asyncpg.connect(cases_url)
    try:  # time passes: the first escalation's due date is behind us
        await conn.execute(
            "UPDATE case_escalations SET due_date = $1 WHERE escalation_id = $2",
            date.today() - timedelta(days=1),
            ids[0],
        )
    finally:
        await conn.close()
    overdue = await api.get(
        "/v1/escalations", params={"overdue": "true"}, headers=member(SERVICE_ANN)
    )
    assert [(i["escalation_id"], i["overdue"]) for i in overdue.json()["items"]] == [(ids[0], True)]
