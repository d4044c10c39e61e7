"""The team inbox over plain HTTP against the real services.

An operations member signs in and lands on their inbox, sees the escalation a
case agent sent their team (and not another team's), claims it with the
version the inbox showed (a stale claim shows "someone changed this"), and
answers it; the answer is on the case.
"""

from __future__ import annotations

import httpx
import pytest

from receivables_devkit.testing.console import ConsoleUser, escalated, field_value
from receivables_devkit.testing.stories import Stories, unique
from receivables_devkit.testing.system import RunningSystem


@pytest.fixture
async def member(console: str):
    async with httpx.AsyncClient(base_url=console, timeout=20) as http:
        yield ConsoleUser(http)


def item(page: str, escalation_id: str) -> str:
    return page.split(f'id="escalation-{escalation_id}"', 1)[1].split("</li>", 1)[0]


async def test_a_team_member_claims_and_answers_from_the_inbox(
    system: RunningSystem, member: ConsoleUser
):
    question = unique("How many seats were provisioned?")
    async with httpx.AsyncClient(timeout=15) as http:
        case_id, escalation = await escalated(Stories(system, http), "operations", question)
    escalation_id = escalation["escalation_id"]

    await member.sign_in(unique("ops"), "team:operations", language="es")
    landed = await member.http.get("/my-day")
    assert landed.status_code == 303 and landed.headers["location"] == "/inbox"
    page = await member.page("/inbox?state=open")
    assert "Bandeja del equipo" in page and question in item(page, escalation_id)
    assert f'href="/cases/{case_id}"' not in page, "a team member cannot open cases"
    other = await member.http.get("/inbox", params={"team": "service"})
    assert other.status_code == 403 and "text/html" in other.headers["content-type"]
    desk = await member.http.get("/cases")  # case-service's 403, said on a page: never a 500
    assert desk.status_code == 403 and "text/html" in desk.headers["content-type"]
    hostile = await member.http.get("/inbox", params={"team": "<script>"})
    assert hostile.status_code == 422 and "<script>" not in hostile.text

    seen = field_value(item(page, escalation_id), "version")
    async with httpx.AsyncClient(timeout=15) as http:  # the agent adds a note meanwhile
        await Stories(system, http).send(
            "POST",
            "case-service",
            f"/v1/cases/{case_id}/notes",
            roles=("case_agent",),
            expect=200,
            json={"body": "customer called again"},
        )
    stale = await member.post(
        f"/inbox/{escalation_id}/claim", {"version": seen, "state": "open"}, expect=409
    )
    assert "Alguien cambió esto" in item(stale.text, escalation_id)
    member.csrf = field_value(stale.text, "csrf_token")
    claimed = await member.post(
        f"/inbox/{escalation_id}/claim",
        {"version": field_value(item(stale.text, escalation_id), "version")},
        expect=200,
    )
    assert 'class="state">Reclamada<' in item(claimed.text, escalation_id)

    fresh = field_value(item(claimed.text, escalation_id), "version")
    empty = await member.post(
        f"/inbox/{escalation_id}/answer", {"version": fresh, "answer": "  "}, expect=422
    )
    assert f'id="answer-{escalation_id}-error"' in empty.text
    answered = await member.post(
        f"/inbox/{escalation_id}/answer",
        {"version": fresh, "answer": "Two since onboarding"},
        expect=200,
    )
    assert 'class="state">Respondida<' in item(answered.text, escalation_id)

    async with httpx.AsyncClient(timeout=15) as http:
        now = await Stories(system, http).get("case-service", f"/v1/cases/{case_id}")
    [done] = now["escalations"]
    assert done["answer"] == "Two since onboarding" and done["answered_by"].startswith("ops")

    async with httpx.AsyncClient(base_url=member.http.base_url, timeout=20) as http:
        service = ConsoleUser(http)
        await service.sign_in(unique("svc"), "team:service")
        assert question not in await service.page("/inbox")
