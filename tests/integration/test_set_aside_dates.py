"""Issue 16: an invoice dated 0001-01-01..9999-12-31 that billing stored before it refused such
dates is set aside by every consumer of it, and every read goes on.

The event is appended straight to billing's event store (the API refuses it now), so the
relay publishes it as it would have been published then; collections, cases and reporting
each list it at `GET /v1/admin/set-aside-events`, and the account's other invoice is
aged, snapshotted and worked as before.
"""

from datetime import date, timedelta
from uuid import UUID, uuid4

import asyncpg
import httpx

from billing_adapter.adapters.repositories import accounts, store
from receivables_devkit.testing.stories import Stories, eventually, unique
from receivables_devkit.testing.system import RunningSystem
from receivables_platform.contracts.billing import InvoiceIssued
from receivables_platform.store import PendingStream

CONSUMERS = ("reporting-service", "collections-service", "case-service")


async def stored_before_the_fix(
    system: RunningSystem, account_id: str, event: InvoiceIssued
) -> str:
    conn = await asyncpg.connect(system.databases["billing-adapter"])
    try:
        stream = accounts.stream_id(UUID(account_id))
        version = await store.stream_version(conn, stream)
        [recorded] = await store.append(conn, [PendingStream(stream, version, [event], account_id)])
        return str(recorded.event_id)
    finally:
        await conn.close()


async def test_a_stored_placeholder_dated_invoice_is_set_aside_and_reads_go_on(
    system: RunningSystem,
):
    today = date.today()
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id = await s.account("Placeholder Dates Ltd", "USD")
        kept = await s.invoice(
            account_id, 7_000, issued=today - timedelta(days=40), due=today - timedelta(days=10)
        )
        event_id = await stored_before_the_fix(
            system,
            account_id,
            InvoiceIssued(
                invoice_id=uuid4(),
                account_id=UUID(account_id),
                external_id=unique("INV-DOTNET"),
                currency="USD",
                total_minor=5_000,
                issue_date=date.min,
                due_date=date.max,
            ),
        )

        for service in CONSUMERS:

            async def set_aside(service: str = service) -> list[dict]:
                page = await s.get(
                    service, "/v1/admin/set-aside-events", type="billing.invoice.issued", limit=500
                )
                return [i for i in page["items"] if i["event_id"] == event_id]

            [item] = await eventually(set_aside, what=f"{service} set the invoice aside")
            assert item["dates"] == {
                "issue_date": "0001-01-01",
                "due_date": "9999-12-31",
                "instalments.0.due_date": "9999-12-31",
            }, service
            assert item["subject"] == account_id

        aging = await s.get(
            "reporting-service",
            "/v1/aging",
            currency="USD",
            group_by="invoice",
            account_id=account_id,
            as_of=today.isoformat(),
        )
        assert [(r["invoice_id"], r["total_minor"]) for r in aging["rows"]] == [(kept, 7_000)]
        for group_by in ("account", "currency", "collector", "segment"):
            await s.get("reporting-service", "/v1/aging", currency="USD", group_by=group_by)
        snapshot = await s.send(
            "POST",
            "reporting-service",
            "/v1/aging/snapshots",
            roles=("supervisor",),
            json={"date": (today - timedelta(days=1)).isoformat()},
        )
        assert snapshot.status_code in (200, 201), snapshot.text
        seen = await s.collections_account(account_id, invoices=1)
        assert [i["invoice_id"] for i in seen.json()["invoices"]] == [kept]
