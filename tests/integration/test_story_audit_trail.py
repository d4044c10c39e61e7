"""Story: who changed what on an account, told by the services and by its one timeline.

Billing edits the account's payment terms (ops), a collector saves the customer's
profile and writes a note, an agent attaches the customer's contract to a case on
the account, and a collector asks billing for a credit large enough to wait for a
supervisor. Each service answers "who, when, what" through its own history route,
and reporting's timeline, fed over the broker, shows each of them with its author.
"""

from datetime import date, timedelta
from uuid import uuid4

import httpx

from receivables_devkit.testing.stories import Stories, eventually, unique
from receivables_devkit.testing.system import RunningSystem

LARGE = 2_000_000  # a credit over the default approval threshold of 500,000 minor units


async def test_every_change_names_its_author_in_its_service_and_on_the_timeline(
    system: RunningSystem,
):
    today = date.today()
    ops, collector, agent = unique("ops"), unique("collector"), unique("agent")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id = await s.account("Audit Trail Ltd", "USD")
        invoice_id = await s.invoice(
            account_id, 3_000_000, issued=today - timedelta(days=20), due=today + timedelta(days=10)
        )
        url = f"/v1/accounts/{account_id}"
        read = await s.send("GET", "billing-adapter", url, roles=("integration",), expect=200)
        await s.send(
            "PATCH",
            "billing-adapter",
            url,
            roles=("admin",),
            sub=ops,
            expect=200,
            json={"payment_terms_days": 45},
            headers={"If-Match": read.headers["ETag"]},
        )
        billing_history = await s.get("billing-adapter", f"{url}/history", roles=("collector",))
        assert [(e["type"], e["actor"]) for e in billing_history["events"]] == [
            ("billing.account.registered", "system-test"),
            ("billing.account.updated", ops),
        ]

        await s.collections_account(account_id, invoices=1)
        profile = await s.send(
            "GET",
            "collections-service",
            f"{url}/profile",
            roles=("collector",),
            sub=collector,
            expect=200,
        )
        await s.send(
            "PUT",
            "collections-service",
            f"{url}/profile",
            roles=("collector",),
            sub=collector,
            expect=200,
            json={"preferred_channel": "call"},
            headers={"If-Match": profile.headers["ETag"]},
        )
        await s.create(
            "collections-service",
            f"{url}/notes",
            {"body": "Needs a PO number"},
            roles=("collector",),
            sub=collector,
        )
        edits = (await s.get("collections-service", f"{url}/profile/history"))["edits"]
        assert [(e["changed_by"], [c["field"] for c in e["changes"]]) for e in edits] == [
            (collector, ["preferred_channel"])
        ]

        async def opened() -> dict | None:
            answer = await s.send(
                "POST",
                "case-service",
                "/v1/cases",
                roles=("case_agent",),
                sub=agent,
                headers={"Idempotency-Key": str(uuid4())},
                json={
                    "account_id": account_id,
                    "type": "billing_inquiry",
                    "origin": "inbound_phone",
                    "subject": "Contract rate",
                    "description": "Which rate applies?",
                },
            )
            return dict(answer.json()) if answer.status_code == 201 else None

        case = await eventually(opened, what="case-service knows the account")
        await s.send(
            "POST",
            "case-service",
            f"/v1/cases/{case['case_id']}/attachments",
            roles=("case_agent",),
            sub=agent,
            expect=201,
            params={"filename": "contract.pdf"},
            content=b"%PDF-1.4 contract",
            headers={"Content-Type": "application/pdf", "Idempotency-Key": str(uuid4())},
        )

        credit = await s.send(
            "POST",
            "billing-adapter",
            f"/v1/invoices/{invoice_id}/adjustments",
            roles=("integration",),
            sub=collector,
            expect=202,
            headers={"Idempotency-Key": str(uuid4())},
            json={
                "kind": "credit",
                "amount_minor": LARGE,
                "reason_code": "goodwill",
                "effective_date": today.isoformat(),
            },
        )
        assert credit.json()["requested_by"] == collector

        wanted = {
            ("profile", f"(by {ops})"),
            ("profile", f"(by {collector})"),
            ("note", f"Note by {collector}"),
            ("case", "[attached: contract.pdf]"),
            ("approval", f"(requested by {collector})"),
        }

        async def told() -> list | None:
            entries = (await s.get("reporting-service", f"{url}/timeline", limit=100))["entries"]
            shown = {
                (k, part)
                for k, part in wanted
                for e in entries
                if e["kind"] == k and part in e["title"]
            }
            assert shown == wanted, [(e["kind"], e["title"]) for e in entries]
            return list(entries)

        await eventually(told, what="every change on the account's timeline")
