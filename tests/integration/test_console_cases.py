"""The case desk over plain HTTP against the real services: a dispute from email to closed.

A customer's email opens a case on their account; an agent finds it in the
unassigned queue, takes it, links the invoice and makes it a dispute (the
invoice goes on hold in collections), escalates and records the answer, finds
the root cause from the taxonomy, has a credit applied, tells the customer,
records their confirmation, resolves and closes it, and the hold lifts. Every
step is a form on the case page, sent with the version the agent saw.
"""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from receivables_devkit.testing.console import ConsoleUser, field_value
from receivables_devkit.testing.stories import Stories, eventually, raw_email, unique
from receivables_devkit.testing.system import RunningSystem

BILLED, CREDIT = 50_000, 15_000


@pytest.fixture
async def agent(console: str):
    async with httpx.AsyncClient(base_url=console, timeout=20) as http:
        yield ConsoleUser(http)


async def step(
    user: ConsoleUser,
    case_id: str,
    page: str,
    name: str,
    data: dict[str, object],
    expect: int = 200,
) -> str:
    """One form of the case page, sent with the version that page showed; the page after."""
    answer = await user.post(
        f"/cases/{case_id}/{name}", {"version": field_value(page, "version"), **data}, expect=expect
    )
    user.csrf = field_value(answer.text, "csrf_token")
    return answer.text


async def link_when_known(
    agent: ConsoleUser, case_id: str, account_id: str, invoice_id: str
) -> str:
    """Links the invoice from the case page once case-service has read it from billing
    (the form offers it then); the page after."""

    async def linked() -> str | None:
        here = await agent.page(f"/cases/{case_id}")
        if f'value="{invoice_id}"' not in here:
            return None
        return await step(
            agent, case_id, here, "links", {"account_id": account_id, "invoice_id": invoice_id}
        )

    found: str = await eventually(linked, what="the invoice offered and linked")
    return found


async def test_an_emailed_dispute_worked_to_closed_on_the_case_desk(
    system: RunningSystem, agent: ConsoleUser
):
    today = date.today()
    sender, agent_id = f"{unique('ap')}@customer.test", unique("agent")
    cause = unique("SEATS").upper().replace("-", "_")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id = await s.account("Desk GmbH", "USD", contacts=[{"email": sender}])
        invoice_id = await s.invoice(
            account_id, BILLED, issued=today - timedelta(days=40), due=today - timedelta(days=10)
        )
        category = await s.create(
            "case-service",
            "/v1/root-causes",
            {"code": cause, "name": "Seats keyed wrongly"},
            roles=("admin",),
        )

        async def filed() -> dict | None:
            answer = await s.send(
                "POST",
                "case-service",
                "/v1/inbound-email",
                roles=("integration",),
                headers={"Content-Type": "message/rfc822"},
                expect=201,
                content=raw_email(sender, "Billed for a seat we never had", "3 seats, not 2"),
            )
            body = answer.json()
            return body["case"] if body["threaded_by"] == "sender_contact" else None

        emailed = await eventually(filed, what="email filed on the account")
    case_id = emailed["case_id"]

    await agent.sign_in(agent_id, "case_agent")
    if emailed["owner_id"] is None:  # no active agent to assign it to: it waits in the queue
        assert emailed["case_number"] in await agent.page("/cases?queue=unassigned")
    page = await agent.page(f"/cases/{case_id}")
    page = await step(agent, case_id, page, "assignment", {})
    assert "The case is yours" in page
    assert emailed["case_number"] in await agent.page("/cases?queue=mine")

    page = await link_when_known(agent, case_id, account_id, invoice_id)
    assert "Invoice linked" in page
    page = await step(agent, case_id, page, "type", {"type": "dispute", "reason": ""}, expect=422)
    assert 'id="type-reason-error"' in page, "the refusal names the reason field"
    page = await step(
        agent, case_id, page, "type", {"type": "dispute", "reason": "3 seats billed, 2 contracted"}
    )
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)

        async def held() -> list | None:
            holds = await s.get("collections-service", f"/v1/accounts/{account_id}/holds")
            return holds if holds and not holds[0]["released_on"] else None

        await eventually(held, what="invoice on hold in collections")

    page = await step(
        agent,
        case_id,
        page,
        "status",
        {"status": "waiting_on_internal", "reason": "asked provisioning"},
    )
    assert emailed["case_number"] in await agent.page("/cases?queue=waiting_on_internal")
    page = await step(
        agent,
        case_id,
        page,
        "escalations",
        {
            "team": "operations",
            "question": "How many seats were provisioned?",
            "due_date": "not a date",
        },
        expect=422,
    )
    assert 'id="escalations-due_date-error"' in page
    page = await step(
        agent,
        case_id,
        page,
        "escalations",
        {
            "team": "operations",
            "question": "How many seats were provisioned?",
            "due_date": (today + timedelta(days=14)).isoformat(),
        },
    )
    escalation_id = field_value(page, "escalation_id")
    page = await step(
        agent,
        case_id,
        page,
        "answer",
        {"escalation_id": escalation_id, "answer": "Two since onboarding"},
    )
    assert "<strong>Two since onboarding</strong>" in page
    page = await step(agent, case_id, page, "status", {"status": "investigating"})
    page = await step(
        agent,
        case_id,
        page,
        "root-cause",
        {"category_id": category["category_id"], "detail": "keyed at setup"},
    )
    assert "Seats keyed wrongly" in page
    page = await step(agent, case_id, page, "notes", {"body": "Provisioning shows 2 seats"})
    page = await step(
        agent,
        case_id,
        page,
        "corrections",
        {
            "invoice_id": invoice_id,
            "amount": "1.50.0",
            "direction": "credit",
            "reason_code": "SEAT",
            "reason": "one seat never provisioned",
        },
        expect=422,
    )
    assert 'id="corrections-amount-error"' in page
    page = await step(
        agent,
        case_id,
        page,
        "corrections",
        {
            "invoice_id": invoice_id,
            "amount": "150.00",
            "direction": "credit",
            "reason_code": "SEAT",
            "reason": "one seat never provisioned",
        },
    )

    async def applied() -> str | None:
        here = await agent.page(f"/cases/{case_id}")
        return here if "applied" in here.split('class="corrections"', 1)[1] else None

    page = await eventually(applied, what="billing's answer on the case")
    page = await step(
        agent,
        case_id,
        page,
        "customer-updates",
        {"channel": "phone", "summary": "Credited one seat", "recipient": "", "message": ""},
    )
    page = await step(
        agent,
        case_id,
        page,
        "confirmation",
        {
            "confirmed_by_name": "AP",
            "channel": "phone",
            "confirmed_at": "2026-13-01T10:00",
            "note": "",
        },
        expect=422,
    )
    assert 'id="confirmation-confirmed_at-error"' in page
    page = await step(
        agent,
        case_id,
        page,
        "confirmation",
        {
            "confirmed_by_name": "AP",
            "channel": "phone",
            "confirmed_at": f"{today.isoformat()}T00:01",
            "note": "satisfied",
        },
    )
    page = await step(
        agent,
        case_id,
        page,
        "resolve",
        {"resolution_summary": "Seat count fixed; one seat credited"},
    )
    page = await step(agent, case_id, page, "close", {})
    assert "Case closed" in page and '<span class="case-status">closed</span>' in page
    checklist = page.split('class="checklist"', 1)[1].split("</ul>")[0]
    assert 'class="done"' in checklist and 'class="todo"' not in checklist, checklist
    assert "Customer confirmed" in page and "Escalation answered" in page  # the timeline

    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)

        async def lifted() -> list | None:
            holds = await s.get("collections-service", f"/v1/accounts/{account_id}/holds")
            return holds if holds and holds[0]["released_on"] else None

        [hold] = await eventually(lifted, what="hold lifted")
    assert hold["case_id"] == case_id

    # The supervisor's weekly review counts the closed case under its root cause.
    async with httpx.AsyncClient(base_url=agent.http.base_url, timeout=20) as http:
        boss = ConsoleUser(http)
        await boss.sign_in(unique("boss"), "supervisor", language="es")
        year, week, _ = today.isocalendar()

        async def counted() -> str | None:
            review = await boss.page(f"/supervisor/weekly-review?week={year}-W{week:02d}")
            pareto = review.split('class="pareto"', 1)[1].split("</table>", 1)[0]
            return pareto if "Seats keyed wrongly" in pareto else None

        pareto = await eventually(counted, what="the root cause in the weekly review")
    assert "<td>1</td>" in pareto.split("Seats keyed wrongly", 1)[1].split("</tr>", 1)[0]


async def test_case_desk_queues_and_steps_refuse_what_is_not_theirs(agent: ConsoleUser):
    await agent.sign_in(unique("agent"), "case_agent")
    for queue in ("waiting_on_customer", "sla_at_risk"):
        assert "<table" in await agent.page(f"/cases?queue={queue}")
    case = "/cases/0190a0b0-0000-7000-8000-000000000000"
    for path in (f"{case}/delete", f"{case}/..%2F..%2Fv1%2Froot-causes"):
        answer = await agent.http.post(path, data={"csrf_token": agent.csrf})
        assert answer.status_code in (404, 422), (path, answer.status_code)
        assert answer.headers["content-type"].startswith("text/html")
    missing = await agent.http.post(f"{case}/notes", data={"csrf_token": agent.csrf, "body": "x"})
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]


async def test_a_case_page_keeps_files_next_action_satisfaction_and_credits_waiting(
    system: RunningSystem, agent: ConsoleUser
):
    """What case-service records beyond the dispute story, worked from the case page: a
    file uploaded and downloaded as the same bytes, the owner's next action, the customer's
    satisfaction, and a credit over billing's threshold shown as waiting for approval."""
    today = date.today()
    agent_id = unique("agent")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id = await s.account(unique("Files Ltd"), "USD")
        invoice_id = await s.invoice(
            account_id, 2_000_000, issued=today - timedelta(days=40), due=today - timedelta(days=10)
        )

        async def known() -> dict | None:  # once case-service has read the account
            answer = await s.send(
                "POST",
                "case-service",
                "/v1/cases",
                roles=("case_agent",),
                sub=agent_id,
                headers={"Idempotency-Key": unique("open")},
                json={
                    "account_id": account_id,
                    "type": "billing_inquiry",
                    "origin": "inbound_phone",
                    "owner_id": agent_id,
                    "subject": "Statement does not match",
                    "description": "Asked for a credit",
                },
            )
            return answer.json() if answer.status_code == 201 else None

        opened = await eventually(known, what="a case opened on the account")
        next_day = await s.business_day_after(today)
    case_id = opened["case_id"]
    await agent.sign_in(agent_id, "case_agent")
    page = await agent.page(f"/cases/{case_id}")

    page = await step(
        agent,
        case_id,
        page,
        "next-action",
        {"next_action_on": (today - timedelta(days=30)).isoformat(), "next_action": "call"},
        expect=422,
    )
    assert 'id="next-action-next_action_on-error"' in page
    page = await step(
        agent,
        case_id,
        page,
        "next-action",
        {"next_action_on": next_day.isoformat(), "next_action": "Call AP about the credit"},
    )
    assert "Next action set" in page
    assert "Call AP about the credit" in page.split('class="next-action"', 1)[1]

    statement = b"%PDF-1.4\n" + bytes(range(256)) * 40
    version = field_value(page, "version")
    bad = await agent.http.post(
        f"/cases/{case_id}/attachments",
        data={"csrf_token": agent.csrf, "version": version, "note": "x"},
        files={"file": ("page.html", b"<script>alert(1)</script>", "text/html")},
    )
    assert bad.status_code == 422 and 'id="attachments-file-error"' in bad.text, bad.text
    assert "not an accepted attachment type" in bad.text
    no_file = await agent.http.post(
        f"/cases/{case_id}/attachments",
        data={"csrf_token": agent.csrf, "version": version},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert no_file.status_code == 422 and 'id="attachments-file-error"' in no_file.text
    forged = await agent.http.post(
        f"/cases/{case_id}/attachments",
        data={"csrf_token": "forged", "version": version},
        files={"file": ("s.pdf", statement, "application/pdf")},
    )
    assert forged.status_code == 403
    sent = await agent.http.post(
        f"/cases/{case_id}/attachments",
        data={
            "csrf_token": agent.csrf,
            "version": version,
            "note": "March statement",
            "idempotency_key": unique("upload"),
        },
        files={"file": ("März statement.pdf", statement, "application/pdf")},
    )
    assert sent.status_code == 200 and "File attached" in sent.text, sent.text
    page = sent.text
    files = page.split('class="files"', 1)[1].split("</ul>", 1)[0]
    link = files.split('href="', 1)[1].split('"', 1)[0]
    assert "März statement.pdf" in files and link.startswith(f"/cases/{case_id}/attachments/")
    got = await agent.http.get(link)
    assert got.status_code == 200 and got.content == statement
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert (await agent.http.get(f"/cases/{case_id}/attachments/{'0' * 64}")).status_code == 404

    page = await link_when_known(agent, case_id, account_id, invoice_id)
    page = await step(
        agent,
        case_id,
        page,
        "corrections",
        {
            "invoice_id": invoice_id,
            "amount": "6000.00",
            "direction": "credit",
            "reason_code": "GOODWILL",
            "reason": "long-standing customer",
        },
    )
    corrections = page.split('class="corrections"', 1)[1].split("</ul>", 1)[0]
    assert "correction-state requested" in corrections, corrections

    async with httpx.AsyncClient(base_url=agent.http.base_url, timeout=20) as http:
        boss = ConsoleUser(http)
        await boss.sign_in(unique("boss"), "supervisor")

        async def waiting() -> str | None:
            here = await boss.page(f"/cases/{case_id}")
            listed = here.split('class="corrections"', 1)[1].split("</ul>", 1)[0]
            return listed if "awaiting-approval" in listed else None

        listed = await eventually(waiting, what="the credit waiting for approval")
        assert 'href="/supervisor/approvals"' in listed

    page = await agent.page(f"/cases/{case_id}")
    page = await step(
        agent,
        case_id,
        page,
        "confirmation",
        {
            "confirmed_by_name": "AP",
            "channel": "phone",
            "confirmed_at": f"{today.isoformat()}T00:01",
            "satisfaction": "7",
            "satisfaction_comment": "",
            "note": "",
        },
        expect=422,
    )
    assert 'id="confirmation-satisfaction-error"' in page
    for hostile in ("²", "٣", "4.5"):  # never a 500, never read as another number
        page = await step(
            agent,
            case_id,
            page,
            "confirmation",
            {
                "confirmed_by_name": "AP",
                "channel": "phone",
                "confirmed_at": f"{today.isoformat()}T00:01",
                "satisfaction": hostile,
            },
            expect=422,
        )
        assert 'id="confirmation-satisfaction-error"' in page, hostile
    page = await step(
        agent,
        case_id,
        page,
        "confirmation",
        {
            "confirmed_by_name": "AP",
            "channel": "phone",
            "confirmed_at": f"{today.isoformat()}T00:01",
            "satisfaction": "4",
            "satisfaction_comment": "Quick, but took two calls",
            "note": "",
        },
    )
    confirmation = page.split('class="confirmation"', 1)[1].split("</p>", 1)[0]
    assert "Satisfaction 4 of 5" in confirmation and "took two calls" in confirmation
