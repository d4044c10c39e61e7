"""Import jobs through a real HTTP server over real PostgreSQL, and their events on the broker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from billing_adapter.spec import SPEC
from receivables_platform.contracts.billing import TOPIC
from receivables_platform.service import build_app
from receivables_platform.settings import KafkaSettings
from receivables_platform.web.auth import issue_token
from receivables_platform.web.testserver import running_server

SECRET = "test-secret-for-billing-imports-0123456789"


def auth(*roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, 'billing-system', roles)}"}


def server(billing_url: str, kafka: str | None = None) -> Any:
    """Billing's API and relay: an import publishes, it consumes nothing, and a consumer
    stopped while still joining its group holds the server's shutdown for seconds."""
    settings = SPEC.settings(
        database_url=billing_url,
        jwt_secret=SECRET,
        kafka=KafkaSettings(bootstrap_servers=kafka),
        run_consumers=False,
    )
    return running_server(build_app(SPEC, settings))


@pytest.fixture
async def billing(billing_url: str, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        server(billing_url, kafka_bootstrap) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        yield client


async def upload(
    client: httpx.AsyncClient,
    kind: str,
    text: str,
    *,
    media: str = "text/csv",
    key: str | None = None,
) -> httpx.Response:
    headers = {**auth("integration"), "Content-Type": media}
    if key:
        headers["Idempotency-Key"] = key

    async def chunks() -> AsyncIterator[bytes]:
        data = text.encode()
        for start in range(0, len(data), 64):  # a streamed body, as a large upload arrives
            yield data[start : start + 64]

    return await client.post(
        "/v1/imports", params={"kind": kind}, content=chunks(), headers=headers
    )


async def finished(client: httpx.AsyncClient, location: str) -> dict[str, Any]:
    async with asyncio.timeout(60):
        while True:
            job = (await client.get(location, headers=auth("integration"))).json()
            if job["state"] not in ("queued", "running"):
                return job
            await asyncio.sleep(0.1)


def accounts_csv(*external_ids: str) -> str:
    rows = "".join(f"{e},Customer {e},USD,30\n" for e in external_ids)
    return "external_id,name,currency,payment_terms_days\n" + rows


async def keyed_records(bootstrap: str, keys: set[str], count: int) -> list[Any]:
    """The whole topic read without a group; the records whose key is one of `keys`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: list[Any] = []
    try:
        async with asyncio.timeout(60):
            while not (partitions := consumer.partitions_for_topic(TOPIC)):
                await asyncio.sleep(0.2)
            tps = [TopicPartition(TOPIC, p) for p in partitions]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            while len(found) < count:
                batch = await consumer.getmany(timeout_ms=500)
                found.extend(r for rs in batch.values() for r in rs if r.key.decode() in keys)
        return found
    finally:
        await consumer.stop()


async def test_an_upload_runs_as_a_job_and_its_events_reach_the_broker(
    billing: httpx.AsyncClient, billing_url: str, kafka_bootstrap: str
):
    tag = uuid4().hex[:8]
    customers = [f"CUS-{tag}-{i}" for i in range(3)]
    accepted = await upload(billing, "accounts", accounts_csv(*customers), key=f"acc-{tag}")
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["Location"] == f"/v1/imports/{accepted.json()['job_id']}"
    accounts_job = await finished(billing, accepted.headers["Location"])
    assert (accounts_job["state"], accounts_job["imported"], accounts_job["rejected"]) == (
        "succeeded",
        3,
        0,
    )

    invoices = (
        "external_id,account_external_id,total_minor,issue_date\n"
        + "".join(f"INV-{tag}-{i},{customers[i % 3]},{1000 + i},2026-10-01\n" for i in range(6))
        + f"INV-{tag}-bad1,{customers[0]},zero,2026-10-01\n"
        f"INV-{tag}-bad2,CUS-nobody,100,2026-10-01\n"
        f"INV-{tag}-bad3,{customers[1]},100,2026-02-30\n"
    )
    accepted = await upload(billing, "invoices", invoices)
    job = await finished(billing, accepted.headers["Location"])
    assert {
        k: job[k]
        for k in (
            "state",
            "kind",
            "format",
            "rows_read",
            "imported",
            "unchanged",
            "rejected",
            "failure",
        )
    } == {
        "state": "succeeded",
        "kind": "invoices",
        "format": "csv",
        "rows_read": 9,
        "imported": 6,
        "unchanged": 0,
        "rejected": 3,
        "failure": None,
    }
    assert job["submitted_by"] == "billing-system" and job["finished_at"] is not None
    assert [(e["row"], e["line"], e["field"]) for e in job["errors"]] == [
        (7, 8, "total_minor"),
        (8, 9, "account_external_id"),
        (9, 10, "issue_date"),
    ]

    records = await keyed_records(kafka_bootstrap, await account_keys(billing_url, customers), 9)
    types = sorted(dict(r.headers)["ce_type"].decode() for r in records)
    assert types == ["billing.account.registered"] * 3 + ["billing.invoice.issued"] * 6
    assert {json.loads(r.value)["actor"] for r in records} == {"billing-system"}  # the uploader


async def account_keys(billing_url: str, customers: list[str]) -> set[str]:
    """Our ids of the imported customers: the Kafka keys of their events."""
    conn = await asyncpg.connect(billing_url)
    try:
        rows = await conn.fetch(
            "SELECT internal_id FROM external_ids WHERE kind = 'account' "
            "AND external_id = ANY($1::text[])",
            customers,
        )
    finally:
        await conn.close()
    assert len(rows) == len(customers)
    return {str(r["internal_id"]) for r in rows}


async def test_a_retried_upload_with_its_key_returns_the_same_job(billing: httpx.AsyncClient):
    key = f"upload-{uuid4()}"
    text = accounts_csv(f"CUS-{uuid4().hex[:8]}")
    first = await upload(billing, "accounts", text, key=key)
    retry = await upload(billing, "accounts", text, key=key)
    assert first.status_code == retry.status_code == 202
    assert retry.headers["Location"] == first.headers["Location"]
    job = await finished(billing, first.headers["Location"])
    assert (job["rows_read"], job["imported"]) == (1, 1)  # ran once


async def test_errors_are_paginated_in_file_order(billing: httpx.AsyncClient):
    lines = "".join(
        f'{{"external_id": "CUS-{i}", "name": "", "currency": "USD", "payment_terms_days": 30}}\n'
        for i in range(5)
    )
    accepted = await upload(billing, "accounts", lines, media="application/x-ndjson")
    job = await finished(billing, accepted.headers["Location"])
    assert (job["format"], job["rejected"], len(job["errors"])) == ("jsonl", 5, 5)
    seen, cursor = [], None
    while True:
        params = {"errors_limit": 2, **({"errors_cursor": cursor} if cursor else {})}
        page = (
            await billing.get(
                accepted.headers["Location"], params=params, headers=auth("integration")
            )
        ).json()
        seen.extend((e["row"], e["field"]) for e in page["errors"])
        if not (cursor := page["next_errors_cursor"]):
            break
    assert seen == [(row, "name") for row in range(1, 6)]


async def test_bad_uploads_are_refused_with_a_problem(billing: httpx.AsyncClient):
    text = accounts_csv("CUS-1")
    forbidden = await billing.post(
        "/v1/imports",
        params={"kind": "accounts"},
        content=text,
        headers={**auth("collector"), "Content-Type": "text/csv"},
    )
    assert forbidden.status_code == 403
    unknown = await billing.post(
        "/v1/imports",
        params={"kind": "refunds"},
        content=text,
        headers={**auth("integration"), "Content-Type": "text/csv"},
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "query.kind"
    untyped = await billing.post(
        "/v1/imports",
        params={"kind": "accounts"},
        content=text,
        headers={**auth("integration"), "Content-Type": "text/plain"},
    )
    assert untyped.status_code == 415 and untyped.json()["errors"][0]["field"] == "query.format"
    empty = await billing.post(
        "/v1/imports",
        params={"kind": "accounts", "format": "csv"},
        content=b"",
        headers=auth("integration"),
    )
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "body"
    missing = await billing.get(f"/v1/imports/{uuid4()}", headers=auth("integration"))
    assert missing.status_code == 404


async def test_a_refused_file_fails_its_job_and_jobs_outlive_the_server(billing_url: str):
    async with server(billing_url) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
        accepted = await upload(client, "accounts", "external_id,name,currency,vat\n")
        job = await finished(client, accepted.headers["Location"])
    assert job["state"] == "failed" and job["failure"].startswith("vat: unknown column")
    async with server(billing_url) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
        again = (await client.get(accepted.headers["Location"], headers=auth("admin"))).json()
    assert again == job


async def test_text_postgresql_cannot_hold_still_ends_the_job(billing: httpx.AsyncClient):
    """Found by the import fuzz: a NUL in a JSON key or a CSV header reached the job's
    error rows and failure text, PostgreSQL refused them, and the job never finished."""
    line = json.dumps(
        {
            "external_id": "CUS-1",
            "name": "Acme",
            "currency": "USD",
            "payment_terms_days": 30,
            "a\x00b": 1,
        }
    )
    keyed = await upload(billing, "accounts", line + "\n", media="application/x-ndjson")
    job = await finished(billing, keyed.headers["Location"])
    assert (job["state"], job["rejected"]) == ("succeeded", 1)
    assert job["errors"][0]["field"] == "a\ufffdb"
    headed = await upload(billing, "accounts", "external_id,na\x00me\n")
    job = await finished(billing, headed.headers["Location"])
    assert job["state"] == "failed" and job["failure"].startswith("na\ufffdme: unknown column")


async def test_a_database_error_part_way_fails_the_job(
    billing: httpx.AsyncClient, billing_url: str
):
    conn = await asyncpg.connect(billing_url)
    try:
        await conn.execute("""
            CREATE FUNCTION refuse_cus_2() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the disk is full'; END $$;
            CREATE TRIGGER refuse_cus_2 BEFORE INSERT ON external_ids FOR EACH ROW
            WHEN (NEW.external_id = 'CUS-2') EXECUTE FUNCTION refuse_cus_2()""")
    finally:
        await conn.close()
    accepted = await upload(billing, "accounts", accounts_csv("CUS-1", "CUS-2", "CUS-3"))
    job = await finished(billing, accepted.headers["Location"])
    assert job["state"] == "failed" and job["failure"].startswith("the import stopped: RaiseError")
    assert job["imported"] == 0
