"""Stripe events in, the platform's events out on `billing.events.v1`, through the real relay."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from billing_adapter.settings import BillingDependencies, StripeSettings
from billing_adapter.spec import SPEC
from billing_adapter.stripe_samples import customer, encode, event, invoice, sign, stripe_id
from receivables_platform.contracts.billing import TOPIC
from receivables_platform.service import build_app
from receivables_platform.settings import KafkaSettings
from receivables_platform.web.testserver import running_server

SECRET = "whsec_kafka_0123456789abcdef0123456789"


async def records_keyed(bootstrap: str, key: str, count: int) -> list[Any]:
    """The whole topic read without a group, this account's records only."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: list[Any] = []
    try:
        async with asyncio.timeout(60):
            while not (partitions := consumer.partitions_for_topic(TOPIC)):
                await consumer.force_metadata_update()
                await asyncio.sleep(0.2)
            tps = [TopicPartition(TOPIC, p) for p in partitions]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            while len(found) < count:
                batch = await consumer.getmany(timeout_ms=500)
                found.extend(r for rs in batch.values() for r in rs if r.key == key.encode())
    finally:
        await consumer.stop()
    return found


async def test_a_paid_stripe_invoice_reaches_the_topic_keyed_by_account(
    fresh_database, kafka_bootstrap: str
):
    url = await fresh_database(SPEC.versions_dir)
    app = build_app(
        SPEC,
        SPEC.settings(
            database_url=url,
            jwt_secret="k" * 40,
            kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
            # webhook to topic is the API and the relay; a consumer still joining its
            # group when the server stops would hold the shutdown for seconds
            run_consumers=False,
        ),
        dependencies=BillingDependencies(StripeSettings(webhook_secret=SECRET)),
    )
    customer_id, invoice_id, charge_id = stripe_id("cus"), stripe_id("in"), stripe_id("ch")
    deliveries = [
        event("customer.created", customer(customer_id)),
        event("invoice.paid", invoice(invoice_id, customer_id, status="paid", charge=charge_id)),
    ]
    async with running_server(app) as base, httpx.AsyncClient(base_url=base) as client:
        for body in deliveries:
            payload = encode(body)
            response = await client.post(
                "/v1/webhooks/stripe",
                content=payload,
                headers={"Stripe-Signature": sign(payload, SECRET)},
            )
            assert response.json()["outcome"] == "applied", response.text
        conn = await asyncpg.connect(url)
        try:
            account_id = str(
                await conn.fetchval(
                    "SELECT internal_id FROM external_ids WHERE external_id = $1", customer_id
                )
            )
        finally:
            await conn.close()
        records = await records_keyed(kafka_bootstrap, account_id, 4)

    headers = [dict(r.headers) for r in records]
    assert [h["ce_type"].decode() for h in headers] == [
        "billing.account.registered",
        "billing.invoice.issued",
        "billing.payment.received",
        "billing.payment.applied",
    ]
    assert [h["ce_causationid"].decode() for h in headers] == [
        deliveries[0]["id"],
        deliveries[1]["id"],
        deliveries[1]["id"],
        deliveries[1]["id"],
    ]
