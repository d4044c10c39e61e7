"""The first slice through the whole system, over HTTP only.

An account and its invoice posted to billing-adapter become CloudEvents on
`billing.events.v1` (binary mode, keyed by account), reporting-service
projects it, and its aging answer puts the invoice in the right bucket.
"""

import asyncio
import json
from datetime import date, timedelta
from uuid import UUID, uuid4

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from receivables_devkit.testing.system import RunningSystem
from receivables_platform.kafka.end_offsets import partitions_of

TOPIC = "billing.events.v1"


async def wait_for(predicate, timeout: float = 30.0, every: float = 0.2):
    async with asyncio.timeout(timeout):
        while not (result := await predicate()):
            await asyncio.sleep(every)
        return result


async def records_for(bootstrap: str, account_id: str, count: int, timeout: float = 30.0) -> list:
    """Read the whole topic without a group (no commits) and keep this account's records."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:

        async def known() -> set[int]:
            return (await partitions_of(consumer, [TOPIC]))[TOPIC]

        partitions = await wait_for(known, timeout)
        tps = [TopicPartition(TOPIC, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        found: list = []

        async def poll() -> bool:
            batch = await consumer.getmany(timeout_ms=500)
            found.extend(r for rs in batch.values() for r in rs if r.key == account_id.encode())
            return len(found) >= count

        await wait_for(poll, timeout, every=0)
        return found
    finally:
        await consumer.stop()


async def test_invoice_to_aging_through_kafka(system: RunningSystem):
    today = date.today()
    account = {
        "external_id": f"CUS-{uuid4().hex[:10]}",
        "name": "Slice Ltd",
        "currency": "EUR",
        "payment_terms_days": 30,
    }
    async with httpx.AsyncClient(timeout=10) as http:
        for name in system.processes:
            assert (await http.get(f"{system.url(name)}/readyz")).status_code == 200, name

        registered = await http.post(
            f"{system.url('billing-adapter')}/v1/accounts",
            json=account,
            headers={**system.auth("integration"), "Idempotency-Key": str(uuid4())},
        )
        assert registered.status_code == 201, registered.text
        account_id = registered.json()["account_id"]
        invoice = {
            "external_id": f"INV-{uuid4().hex[:10]}",
            "account_id": account_id,
            "currency": "EUR",
            "total_minor": 48_250,
            "issue_date": (today - timedelta(days=75)).isoformat(),
            "due_date": (today - timedelta(days=45)).isoformat(),
        }
        created = await http.post(
            f"{system.url('billing-adapter')}/v1/invoices",
            json=invoice,
            headers={
                **system.auth("integration"),
                "Idempotency-Key": str(uuid4()),
                "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            },
        )
        assert created.status_code == 201, created.text
        invoice_id = created.json()["invoice_id"]

        # one stream per account: its registration is sequence 1, the invoice sequence 2
        _, record = await records_for(system.kafka_bootstrap, account_id, count=2)
        headers = {k: v.decode() for k, v in record.headers}
        assert headers["ce_specversion"] == "1.0"
        assert headers["ce_type"] == "billing.invoice.issued"
        assert headers["ce_subject"] == account_id
        assert headers["ce_partitionkey"] == account_id
        assert headers["ce_sequence"] == "00000000000000000002"
        assert headers["content-type"] == "application/json"
        # the request's trace continues through the event store into the Kafka headers
        assert headers["ce_traceparent"].split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"
        UUID(headers["ce_id"])
        assert json.loads(record.value)["invoice_id"] == invoice_id

        async def aged_row():
            response = await http.get(
                f"{system.url('reporting-service')}/v1/aging",
                headers=system.auth("collector"),
                params={
                    "account_id": account_id,
                    "group_by": "invoice",
                    "as_of": today.isoformat(),
                },
            )
            assert response.status_code == 200, response.text
            return response.json()["rows"]

        [row] = await wait_for(aged_row)
        status = (
            await http.get(
                f"{system.url('reporting-service')}/v1/status", headers=system.auth("supervisor")
            )
        ).json()
        assert status["broker"] == "ok" and status["last_event_applied_at"]
        # one consumer group per projection; billing keeps the service's own group name
        groups = {p["topic"]: p["consumer_group"] for p in status["partitions"]}
        assert groups == {
            TOPIC: "reporting-service",
            "collections.events.v1": "reporting-service.collections",
            "cases.events.v1": "reporting-service.cases",
        }
        assert row["invoice_id"] == invoice_id
        assert row["buckets"]["31-60"] == 48_250
        assert row["total_minor"] == 48_250
        assert sum(row["buckets"].values()) == 48_250


async def test_a_payment_through_billing_shows_in_the_reporting_account_summary(
    system: RunningSystem,
):
    """Billing's event store and relay to the reporting projection: the payment applied on
    the invoice lowers the balance the collector console reads."""
    today = date.today()
    billing = system.url("billing-adapter")
    writer = {**system.auth("integration")}
    async with httpx.AsyncClient(timeout=10) as http:

        async def post(path: str, body: dict) -> dict:
            response = await http.post(
                f"{billing}{path}", json=body, headers={**writer, "Idempotency-Key": str(uuid4())}
            )
            assert response.status_code == 201, response.text
            return response.json()

        account_id = (
            await post(
                "/v1/accounts",
                {
                    "external_id": f"CUS-{uuid4().hex[:10]}",
                    "name": "Story Ltd",
                    "currency": "USD",
                    "payment_terms_days": 30,
                    "segment": "smb",
                },
            )
        )["account_id"]
        invoice_id = (
            await post(
                "/v1/invoices",
                {
                    "external_id": f"INV-{uuid4().hex[:10]}",
                    "account_id": account_id,
                    "currency": "USD",
                    "total_minor": 30_000,
                    "issue_date": (today - timedelta(days=40)).isoformat(),
                    "due_date": (today - timedelta(days=10)).isoformat(),
                },
            )
        )["invoice_id"]
        payment_id = (
            await post(
                "/v1/payments",
                {
                    "external_id": f"PAY-{uuid4().hex[:10]}",
                    "account_id": account_id,
                    "amount_minor": 12_000,
                    "currency": "USD",
                    "method": "ach",
                    "received_on": today.isoformat(),
                },
            )
        )["payment_id"]
        await post(
            f"/v1/payments/{payment_id}/applications",
            {
                "applied_on": today.isoformat(),
                "allocations": [{"invoice_id": invoice_id, "amount_minor": 12_000}],
            },
        )

        async def summary():
            response = await http.get(
                f"{system.url('reporting-service')}/v1/accounts/{account_id}/summary",
                headers=system.auth("collector"),
                params={"as_of": today.isoformat()},
            )
            if response.status_code == 404:
                return None
            balances = response.json()["balances"]
            return response.json() if balances and balances[0]["total_minor"] == 18_000 else None

        result = await wait_for(summary)
        [usd] = result["balances"]
        assert (result["segment"], usd["currency"], usd["buckets"]["1-30"]) == (
            "smb",
            "USD",
            18_000,
        )
