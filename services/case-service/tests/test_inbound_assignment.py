"""Inbound-email cases are assigned by rule: the account's collector, else agents in turn."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date
from email.message import EmailMessage
from email.utils import make_msgid

import httpx

from case_service.domain.assignment import choose_owner
from case_service.testing import (
    AGENT,
    OTHER_AGENT,
    auth,
    billing_account,
    feed_collections,
)
from receivables_platform.contracts.collections import AccountAssigned, AssignmentBasis

GATEWAY = {**auth("mail-gateway", "integration"), "Content-Type": "message/rfc822"}


def email_from(sender: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"] = sender, "billing@receivables.test"
    message["Subject"], message["Message-ID"] = "My bill", make_msgid(domain="customer.test")
    message.set_content("Why is it so high?")
    return message.as_bytes()


async def file(api: httpx.AsyncClient, sender: str = "stranger@elsewhere.test") -> dict:
    filed = await api.post("/v1/inbound-email", content=email_from(sender), headers=GATEWAY)
    assert filed.status_code == 201, filed.text
    return filed.json()["case"]


def test_the_rule_prefers_the_collector_who_is_an_agent_then_takes_turns():
    assert choose_owner("bob", ["ann", "bob"], None) == ("bob", False)
    assert choose_owner("cy", ["bob", "ann"], None) == ("ann", True)
    assert choose_owner(None, ["ann", "bob"], "ann") == ("bob", True)
    assert choose_owner(None, ["ann", "bob"], "bob") == ("ann", True)
    assert choose_owner(None, ["ann", "bob"], "gone") == ("ann", True)
    assert choose_owner("bob", [], "ann") == (None, False)


async def test_an_email_goes_to_the_accounts_collector_when_they_are_an_agent(api, cases_url):
    account_id, _ = await billing_account(cases_url, email="pat@customer.test")
    await feed_collections(
        cases_url,
        AccountAssigned(
            account_id=account_id,
            collector_id=OTHER_AGENT,
            basis=AssignmentBasis.EXPLICIT,
            assigned_by="lead",
            effective_on=date(2026, 11, 1),
        ),
    )
    assert (await file(api, "pat@customer.test"))["owner_id"] == OTHER_AGENT
    assert (await file(api, "pat@customer.test"))["owner_id"] == OTHER_AGENT
    other_account, _ = await billing_account(cases_url, email="kim@customer.test")
    await feed_collections(
        cases_url,
        AccountAssigned(
            account_id=other_account,
            collector_id="col-not-an-agent",
            basis=AssignmentBasis.RULE,
            assigned_by="lead",
            effective_on=date(2026, 11, 1),
        ),
    )
    assert (await file(api, "kim@customer.test"))["owner_id"] == AGENT  # first in turn


async def test_agents_take_turns_and_emails_arriving_together_are_shared(api):
    assert [(await file(api))["owner_id"] for _ in range(3)] == [AGENT, OTHER_AGENT, AGENT]
    together = await asyncio.gather(*(file(api) for _ in range(6)))
    assert Counter(case["owner_id"] for case in together) == {AGENT: 3, OTHER_AGENT: 3}


async def test_with_no_active_agent_the_case_waits_in_the_unassigned_queue(api):
    for user in (AGENT, OTHER_AGENT):
        off = await api.put(
            f"/v1/agents/{user}",
            json={"name": user, "active": False},
            headers=auth("root", "admin"),
        )
        assert off.status_code == 200
    case = await file(api)
    assert case["owner_id"] is None
    queue = await api.get(
        "/v1/cases",
        params={"unassigned": "true", "origin": "inbound_email", "open": "true"},
        headers=auth(),
    )
    assert [c["case_id"] for c in queue.json()["items"]] == [case["case_id"]]
    assigned = await api.get("/v1/cases", params={"unassigned": "false"}, headers=auth())
    assert assigned.json()["items"] == []
    for user in (AGENT, OTHER_AGENT):
        back = await api.put(
            f"/v1/agents/{user}", json={"name": user}, headers=auth("root", "admin")
        )
        assert back.status_code == 200
    agent_tries = await api.post("/v1/inbound-queue/assign", headers=auth())
    assert agent_tries.status_code == 403
    drained = await api.post("/v1/inbound-queue/assign", headers=auth("lead", "supervisor"))
    assert drained.status_code == 200, drained.text
    assert drained.json() == [
        {"case_id": case["case_id"], "case_number": case["case_number"], "owner_id": AGENT}
    ]
    assert (await api.get(f"/v1/cases/{case['case_id']}", headers=auth())).json()[
        "owner_id"
    ] == AGENT
    again = await api.post("/v1/inbound-queue/assign", headers=auth("lead", "supervisor"))
    assert again.json() == []
