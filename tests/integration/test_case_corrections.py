"""A case's correction request applied by billing-adapter over the real broker, shown on the case.

Billing registers the account and issues the invoice; case-service learns them
from `billing.events.v1`; the agent asks for a credit from the case; the
request travels on `cases.events.v1` to billing-adapter, which adjusts the
invoice and answers on `billing.events.v1`; the case shows the outcome. A
request billing cannot honour comes back rejected, with billing's reason.
"""

import asyncio
from datetime import date, timedelta
from uuid import uuid4

import httpx

from receivables_devkit.testing.system import RunningSystem


async def eventually(probe, timeout: float = 60.0, every: float = 0.3):
    async with asyncio.timeout(timeout):
        while not (result := await probe()):
            await asyncio.sleep(every)
        return result


async def test_a_case_correction_is_applied_by_billing_and_the_case_shows_it(system: RunningSystem):
    billing, cases = system.url("billing-adapter"), system.url("case-service")
    integration = system.auth("integration")
    agent = system.auth("case_agent")
    today = date.today()
    async with httpx.AsyncClient(timeout=10) as http:
        account = await http.post(
            f"{billing}/v1/accounts",
            json={
                "external_id": f"CUS-{uuid4().hex[:10]}",
                "name": "Disputing Ltd",
                "currency": "USD",
                "payment_terms_days": 30,
                "contacts": [{"email": "ap@disputing.test"}],
            },
            headers={**integration, "Idempotency-Key": str(uuid4())},
        )
        assert account.status_code == 201, account.text
        account_id = account.json()["account_id"]
        invoice = await http.post(
            f"{billing}/v1/invoices",
            json={
                "external_id": f"INV-{uuid4().hex[:10]}",
                "account_id": account_id,
                "currency": "USD",
                "total_minor": 10_000,
                "issue_date": (today - timedelta(days=20)).isoformat(),
                "due_date": (today + timedelta(days=10)).isoformat(),
            },
            headers={**integration, "Idempotency-Key": str(uuid4())},
        )
        assert invoice.status_code == 201, invoice.text
        invoice_id = invoice.json()["invoice_id"]

        async def open_case() -> httpx.Response | None:
            opened = await http.post(
                f"{cases}/v1/cases",
                json={
                    "account_id": account_id,
                    "type": "dispute",
                    "origin": "collections",
                    "subject": "Billed for a cancelled seat",
                    "description": "One seat too many",
                    "invoice_ids": [invoice_id],
                },
                headers={**agent, "Idempotency-Key": str(uuid4())},
            )
            return opened if opened.status_code == 201 else None

        case = await eventually(open_case)  # once case-service has read the invoice
        url = f"{cases}/v1/cases/{case.json()['case_id']}"

        async def correct(amount: int) -> str:
            asked = await http.post(
                f"{url}/corrections",
                json={
                    "invoice_id": invoice_id,
                    "amount_minor": amount,
                    "direction": "credit",
                    "reason": "Seat cancelled on 1st",
                    "reason_code": "SEAT_CANCELLED",
                },
                headers={**agent, "Idempotency-Key": str(uuid4())},
            )
            assert asked.status_code == 201, asked.text
            return asked.json()["corrections"][-1]["correction_id"]

        async def outcome(correction_id: str) -> dict | None:
            shown = (await http.get(url, headers=agent)).json()["corrections"]
            found = next(x for x in shown if x["correction_id"] == correction_id)
            return None if found["outcome"] == "requested" else found

        applied = (
            await eventually(lambda: outcome(correction_id), timeout=60)
            if (correction_id := await correct(2_500))
            else None
        )
        assert applied["outcome"] == "applied"
        assert applied["adjustment_id"] == correction_id
        billed = await http.get(f"{billing}/v1/invoices/{invoice_id}", headers=integration)
        assert billed.json()["open_minor"] == 7_500, billed.text

        too_much = await correct(1_000_000)
        rejected = await eventually(lambda: outcome(too_much), timeout=60)
        assert rejected["outcome"] == "rejected" and rejected["rejection_detail"]
