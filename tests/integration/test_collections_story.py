"""An account followed through collections over the real broker.

Billing registers the account and an invoice already past due; collections
learns both from `billing.events.v1`; a supervisor gives the account a policy
and a collector; the day's run puts one task on the collector's worklist; the
collector calls, the customer promises to pay; billing records and applies the
payment; collections sees it on the topic and judges the promise kept, and
publishes that on `collections.events.v1`, keyed by the account.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any, TypeVar
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from collections_service.domain.calendar import BusinessCalendar
from receivables_devkit.testing.system import RunningSystem
from receivables_platform.kafka.end_offsets import partitions_of

TOPIC = "collections.events.v1"
T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 60.0) -> T:
    async with asyncio.timeout(timeout):
        while not (result := await probe()):
            await asyncio.sleep(0.3)
        return result


async def collections_records(bootstrap: str, account_id: str, wanted: str) -> list[Any]:
    """This account's records on the collections topic, read whole without a group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: list[Any] = []
    try:

        async def partitions() -> set[int] | None:
            return (await partitions_of(consumer, [TOPIC]))[TOPIC] or None

        tps = [TopicPartition(TOPIC, p) for p in await eventually(partitions, 30)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)

        async def poll() -> bool:
            batch = await consumer.getmany(timeout_ms=500)
            found.extend(r for rs in batch.values() for r in rs if r.key == account_id.encode())
            return any(dict(r.headers).get("ce_type") == wanted.encode() for r in found)

        await eventually(poll, 60)
        return found
    finally:
        await consumer.stop()


async def test_overdue_invoice_to_kept_promise(system: RunningSystem) -> None:
    billing, collections = system.url("billing-adapter"), system.url("collections-service")
    integration, supervisor = system.auth("integration"), system.auth("supervisor")
    collector = {"Authorization": f"Bearer {system.token('collector', sub='kim-story')}"}
    today = date.today()
    work_day = BusinessCalendar.of("US").on_or_after(today)
    segment = f"story-{uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=15) as http:
        registered = await http.post(
            f"{billing}/v1/accounts",
            json={
                "external_id": f"CUS-{uuid4().hex[:10]}",
                "name": "Promise Ltd",
                "currency": "USD",
                "payment_terms_days": 30,
                "segment": segment,
                "contacts": [{"name": "Pat", "email": "ap@promise.test"}],
            },
            headers={**integration, "Idempotency-Key": str(uuid4())},
        )
        assert registered.status_code == 201, registered.text
        account_id = registered.json()["account_id"]
        issued = await http.post(
            f"{billing}/v1/invoices",
            json={
                "external_id": f"INV-{uuid4().hex[:10]}",
                "account_id": account_id,
                "currency": "USD",
                "total_minor": 42_000,
                "issue_date": (today - timedelta(days=40)).isoformat(),
                "due_date": (today - timedelta(days=10)).isoformat(),
            },
            headers={**integration, "Idempotency-Key": str(uuid4())},
        )
        assert issued.status_code == 201, issued.text
        invoice_id = issued.json()["invoice_id"]

        async def seen() -> httpx.Response | None:
            view = await http.get(f"{collections}/v1/accounts/{account_id}", headers=supervisor)
            ok = view.status_code == 200 and view.json()["past_due_minor"] == 42_000
            return view if ok else None

        view = await eventually(seen)
        policy = await http.post(
            f"{collections}/v1/policies",
            json={
                "segment": segment,
                "name": "Story",
                "steps": [{"offset_days": 5, "channel": "call", "template": "call_script"}],
            },
            headers={**supervisor, "Idempotency-Key": str(uuid4())},
        )
        assert policy.status_code == 201, policy.text
        assigned = await http.put(
            f"{collections}/v1/accounts/{account_id}/collector",
            json={"collector_id": "kim-story"},
            headers={**supervisor, "If-Match": view.headers["ETag"]},
        )
        assert assigned.status_code == 200, assigned.text

        ran = await http.post(
            f"{collections}/v1/cadence/runs",
            json={"business_date": work_day.isoformat()},
            headers=supervisor,
        )
        assert ran.status_code == 200, ran.text
        worklist = await http.get(
            f"{collections}/v1/worklist?date={work_day.isoformat()}", headers=collector
        )
        [task] = [t for t in worklist.json()["tasks"] if t["account_id"] == account_id]
        assert (task["channel"], task["invoice_ids"]) == ("call", [invoice_id])

        called = await http.post(
            f"{collections}/v1/contacts/calls",
            json={
                "account_id": account_id,
                "outcome": "reached_promised",
                "task_id": task["task_id"],
                "notes": "pays in full on Friday",
            },
            headers={**collector, "Idempotency-Key": str(uuid4())},
        )
        assert called.status_code == 201, called.text
        promised = await http.post(
            f"{collections}/v1/commitments",
            json={
                "account_id": account_id,
                "amount_minor": 42_000,
                "invoice_ids": [invoice_id],
                "promised_date": (today + timedelta(days=3)).isoformat(),
                "contact_id": called.json()["contact_id"],
            },
            headers={**collector, "Idempotency-Key": str(uuid4())},
        )
        assert promised.status_code == 201, promised.text
        commitment = f"{collections}/v1/commitments/{promised.json()['commitment_id']}"

        paid = await http.post(
            f"{billing}/v1/payments",
            json={
                "external_id": f"PAY-{uuid4().hex[:10]}",
                "account_id": account_id,
                "amount_minor": 42_000,
                "currency": "USD",
                "method": "ach",
                "received_on": today.isoformat(),
            },
            headers={**integration, "Idempotency-Key": str(uuid4())},
        )
        assert paid.status_code == 201, paid.text
        applied = await http.post(
            f"{billing}/v1/payments/{paid.json()['payment_id']}/applications",
            json={"applied_on": today.isoformat()},
            headers={**integration, "Idempotency-Key": str(uuid4())},
        )
        assert applied.status_code in (200, 201), applied.text

        async def kept() -> dict[str, Any] | None:
            found = (await http.get(commitment, headers=collector)).json()
            return found if found["status"] == "kept" else None

        judged = await eventually(kept)
        assert (judged["paid_minor"], judged["judged_on"]) == (42_000, today.isoformat())
        settled = (
            await http.get(f"{collections}/v1/accounts/{account_id}", headers=supervisor)
        ).json()
        assert settled["open_balance_minor"] == 0

    records = await collections_records(
        system.kafka_bootstrap, account_id, "collections.commitment.kept"
    )
    types = [dict(r.headers)["ce_type"].decode() for r in records]
    for expected in (
        "collections.account.assigned",
        "collections.task.scheduled",
        "collections.contact.attempted",
        "collections.task.completed",
        "collections.commitment.made",
        "collections.commitment.kept",
    ):
        assert expected in types, types
    assert types.index("collections.commitment.made") < types.index("collections.commitment.kept")
