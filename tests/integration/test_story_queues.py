"""Story: a representative hears of their customer's broken promise and gets its emails.

A representative (collector and case agent in one login) is assigned a past-due
account. The customer promises to pay and does not: collections judges the
promise broken, and case-service, reading `collections.events.v1`, notifies
the representative. When the customer then writes in, the new case goes to
the representative, the account's collector, not round robin to another agent.
"""

from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import httpx

from receivables_devkit.testing.stories import Stories, eventually, unique
from receivables_devkit.testing.system import RunningSystem

OWED = 12_000


def email(sender: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"] = sender, "billing@receivables.test"
    message["Subject"], message["Message-ID"] = "About my bill", make_msgid(domain="queues.test")
    message.set_content("Sorry for the delay, the bill looks wrong to us.")
    return message.as_bytes()


async def test_a_representative_is_told_of_the_broken_promise_and_owns_the_emailed_case(
    system: RunningSystem,
):
    today = date.today()
    rep, sender = unique("rep"), f"{unique('ap')}@queues.test"
    as_rep = {"roles": ("receivables_rep",), "sub": rep}
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        await s.send(
            "PUT",
            "case-service",
            f"/v1/agents/{rep}",
            roles=("admin",),
            expect=200,
            json={"name": "Rep"},
        )
        await s.send(
            "PUT",
            "case-service",
            "/v1/notification-preferences/me",
            expect=200,
            json={"email": f"{rep}@team.test"},
            **as_rep,
        )
        segment = await s.segment_with_calls(1)
        account_id = await s.account(
            "Queue Ltd", "USD", segment=segment, contacts=[{"name": "AP", "email": sender}]
        )
        invoice_id = await s.invoice(
            account_id, OWED, issued=today - timedelta(days=45), due=today - timedelta(days=15)
        )
        await s.assign(account_id, rep, invoices=1)
        await s.business_day_on_or_before(today)
        promise = await s.create(
            "collections-service",
            "/v1/commitments",
            {
                "account_id": account_id,
                "amount_minor": OWED,
                "currency": "USD",
                "promised_date": today.isoformat(),
                "grace_days": 0,
                "invoice_ids": [invoice_id],
            },
            **as_rep,
        )
        await s.business_day_after(date.fromisoformat(promise["deadline"]))

        async def told() -> list | None:
            mine = await s.get("case-service", "/v1/notifications/me", **as_rep)
            return [n for n in mine if n["kind"] == "promise_broken"] or None

        [notice] = await eventually(told, what="the broken promise told to the representative")
        assert "promise to pay 12000 USD" in notice["subject"] and notice["channel"] == "email"

        async def filed() -> dict | None:
            answer = await s.send(
                "POST",
                "case-service",
                "/v1/inbound-email",
                roles=("integration",),
                content=email(sender),
                headers={"Content-Type": "message/rfc822"},
            )
            assert answer.status_code == 201, answer.text
            return answer.json() if answer.json()["threaded_by"] == "sender_contact" else None

        case = (await eventually(filed, what="email filed on the account"))["case"]
        assert case["account_id"] == account_id and case["owner_id"] == rep
