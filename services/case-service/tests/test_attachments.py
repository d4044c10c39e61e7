"""Attachments: kept by SHA-256 in PostgreSQL or a real S3-protocol server, read through the case.

The same contract runs against both stores; the API tests run on both too, so a
deployment with `OBJECT_STORE_URL` behaves as the default does.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from uuid import uuid4

import asyncpg
import boto3
import httpx
import pytest

from case_service.adapters.file_store import (
    FileStore,
    ObjectStoreLocation,
    PostgresFileStore,
    S3FileStore,
)
from case_service.testing import auth, billing_account, case_body, count, create

from .test_inbound_email import GATEWAY, PDF, email_from

SCAN = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64


@pytest.fixture(params=["postgres", "s3"])
async def store(request, cases_url) -> AsyncIterator[FileStore]:
    if request.param == "s3":
        yield S3FileStore(ObjectStoreLocation.parse(request.getfixturevalue("object_store_url")))
        return
    conn = await asyncpg.connect(cases_url)
    try:
        yield PostgresFileStore(conn)
    finally:
        await conn.close()


async def test_a_store_keeps_bytes_under_their_sha256_and_a_second_put_is_harmless(store):
    digest = await store.put(SCAN)
    assert digest == hashlib.sha256(SCAN).hexdigest()
    assert await store.put(SCAN) == digest
    assert await store.get(digest) == SCAN
    assert await store.get(hashlib.sha256(b"never stored").hexdigest()) is None
    empty = await store.put(b"")
    assert await store.get(empty) == b""


@pytest.fixture(params=["postgres", "s3"])
def object_store(request) -> str | None:
    """None: the default, PostgreSQL; else the bucket's OBJECT_STORE_URL."""
    return request.getfixturevalue("object_store_url") if request.param == "s3" else None


@pytest.fixture
async def files_api(cases_url, case_server, object_store) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        case_server(cases_url, object_store_url=object_store) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as client,
    ):
        from case_service.testing import register_agents

        await register_agents(client)
        yield client


def objects_in(url: str) -> list[str]:
    location = ObjectStoreLocation.parse(url)
    s3 = boto3.client(
        "s3",
        endpoint_url=location.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="secret",
    )
    listed = s3.list_objects_v2(Bucket=location.bucket)
    return [item["Key"] for item in listed.get("Contents", [])]


async def open_case(api: httpx.AsyncClient, url: str) -> dict:
    account_id, invoices = await billing_account(url)
    opened = await api.post("/v1/cases", json=case_body(account_id, invoices), headers=create())
    assert opened.status_code == 201, opened.text
    return opened.json()


async def upload(
    api: httpx.AsyncClient,
    case_id: str,
    data: bytes = SCAN,
    content_type: str = "image/png",
    filename: str = "meter photo.png",
    note: str | None = None,
    **headers: str,
) -> httpx.Response:
    params = {"filename": filename, **({"note": note} if note else {})}
    return await api.post(
        f"/v1/cases/{case_id}/attachments",
        content=data,
        params=params,
        headers={**create(), "Content-Type": content_type, **headers},
    )


async def test_an_emailed_pdf_is_downloadable_from_its_case_byte_for_byte(
    files_api, cases_url, object_store
):
    await billing_account(cases_url, email="pat@customer.test")
    filed = await files_api.post(
        "/v1/inbound-email", content=email_from().as_bytes(), headers=GATEWAY
    )
    assert filed.status_code == 201, filed.text
    case = filed.json()["case"]
    [attached] = case["notes"][0]["attachments"]
    digest = hashlib.sha256(PDF).hexdigest()
    assert attached["sha256"] == digest and attached["filename"] == "Rechnung März.pdf"

    listed = await files_api.get(
        f"/v1/cases/{case['case_id']}/attachments", headers=auth("collector-cy", "collector")
    )
    assert listed.status_code == 200
    [item] = listed.json()
    assert item["source"] == "inbound_email" and item["added_by"] == "mail-gateway"
    got = await files_api.get(item["download"], headers=auth("collector-cy", "collector"))
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "attachment;" in got.headers["content-disposition"]
    assert "Rechnung%20M%C3%A4rz.pdf" in got.headers["content-disposition"]
    if object_store:
        assert objects_in(object_store) == [f"case-files/sha256/{digest[:2]}/{digest}"]
        assert await count(cases_url, "SELECT count(*) FROM attachment_blobs") == 0
    else:
        assert await count(cases_url, "SELECT count(*) FROM attachment_blobs") == 1


async def test_an_agent_upload_is_a_note_and_the_same_file_is_kept_once(
    files_api, cases_url, object_store
):
    first, second = await open_case(files_api, cases_url), await open_case(files_api, cases_url)
    uploaded = await upload(files_api, first["case_id"], note="Meter read on site")
    assert uploaded.status_code == 201, uploaded.text
    digest = hashlib.sha256(SCAN).hexdigest()
    assert uploaded.headers["location"] == f"/v1/cases/{first['case_id']}/attachments/{digest}"
    note = uploaded.json()["notes"][-1]
    assert note["body"] == "Meter read on site" and note["author"] == "agent-ann"
    assert note["attachments"] == [
        {
            "filename": "meter photo.png",
            "content_type": "image/png",
            "size_bytes": len(SCAN),
            "sha256": digest,
        }
    ]
    assert (await upload(files_api, second["case_id"])).status_code == 201
    for case in (first, second):
        got = await files_api.get(
            f"/v1/cases/{case['case_id']}/attachments/{digest}", headers=auth()
        )
        assert got.status_code == 200 and got.content == SCAN
    if object_store:
        assert len(objects_in(object_store)) == 1
    else:
        assert await count(cases_url, "SELECT count(*) FROM attachment_blobs") == 1


async def test_an_upload_replays_on_its_key_and_keeps_if_match(files_api, cases_url):
    case = await open_case(files_api, cases_url)
    key = str(uuid4())
    first = await upload(files_api, case["case_id"], **{"Idempotency-Key": key})
    again = await upload(files_api, case["case_id"], **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["version"] == first.json()["version"]
    stale = await upload(files_api, case["case_id"], **{"If-Match": '"1"'})
    assert stale.status_code == 412
    missing_key = await files_api.post(
        f"/v1/cases/{case['case_id']}/attachments",
        content=SCAN,
        params={"filename": "x.png"},
        headers={**auth(), "Content-Type": "image/png"},
    )
    assert missing_key.status_code == 400
    read = await files_api.get(f"/v1/cases/{case['case_id']}", headers=auth())
    assert read.json()["version"] == first.json()["version"]


async def test_only_those_who_may_read_the_case_download_and_only_through_it(files_api, cases_url):
    case, other = await open_case(files_api, cases_url), await open_case(files_api, cases_url)
    assert (await upload(files_api, case["case_id"])).status_code == 201
    digest = hashlib.sha256(SCAN).hexdigest()
    path = f"/v1/cases/{case['case_id']}/attachments/{digest}"
    assert (await files_api.get(path)).status_code == 401
    nobody = await files_api.get(path, headers=auth("team-svc", "team:service"))
    assert nobody.status_code == 403
    for sub, role in (("sup", "supervisor"), ("rep", "receivables_rep"), ("erp", "integration")):
        assert (await files_api.get(path, headers=auth(sub, role))).status_code == 200, role
    # the hash is known, but the other case never had the file
    elsewhere = await files_api.get(
        f"/v1/cases/{other['case_id']}/attachments/{digest}", headers=auth()
    )
    assert elsewhere.status_code == 404
    assert elsewhere.json()["errors"][0]["field"] == "path.sha256"
    short = await files_api.get(f"/v1/cases/{case['case_id']}/attachments/abc", headers=auth())
    assert short.status_code == 422
    collector_upload = await upload(files_api, case["case_id"], **auth("col", "collector"))
    assert collector_upload.status_code == 403


@pytest.fixture
def small_limits(monkeypatch):
    """Set before `files_api` is built: the spec reads ATTACHMENT_* when it composes."""
    monkeypatch.setenv("ATTACHMENT_MAX_BYTES", "1000")


@pytest.mark.parametrize("object_store", [None], indirect=False)
async def test_too_large_or_unaccepted_files_are_413_and_415_and_change_nothing(
    small_limits, files_api, cases_url
):
    case = await open_case(files_api, cases_url)
    big = await upload(
        files_api, case["case_id"], data=b"%PDF" + b"x" * 1000, content_type="application/pdf"
    )
    assert big.status_code == 413, big.text
    assert big.headers["content-type"] == "application/problem+json"
    assert big.json()["errors"][0]["field"] == "body" and big.json()["limit"] == 1000

    async def chunks():
        yield b"%PDF" + b"x" * 600
        yield b"y" * 600

    chunked = await files_api.post(
        f"/v1/cases/{case['case_id']}/attachments",
        params={"filename": "big.pdf"},
        content=chunks(),
        headers={**create(), "Content-Type": "application/pdf"},
    )
    assert chunked.status_code == 413

    exe = await upload(
        files_api,
        case["case_id"],
        data=b"MZ\x90\x00",
        content_type="application/x-msdownload",
        filename="invoice.exe",
    )
    assert exe.status_code == 415
    assert exe.json()["errors"][0]["field"] == "header.Content-Type"
    assert "application/pdf" in exe.json()["accepted"]
    html = await upload(files_api, case["case_id"], data=b"<script>", content_type="text/html")
    assert html.status_code == 415
    no_type = await files_api.post(
        f"/v1/cases/{case['case_id']}/attachments",
        content=b"abc",
        params={"filename": "x"},
        headers=create(),
    )
    assert no_type.status_code == 415
    empty = await upload(files_api, case["case_id"], data=b"")
    assert empty.status_code == 422
    slash = await upload(files_api, case["case_id"], data=b"\x89PNG", filename="../etc/passwd")
    assert slash.status_code == 422

    read = await files_api.get(f"/v1/cases/{case['case_id']}", headers=auth())
    assert read.json()["version"] == case["version"] and read.json()["notes"] == []
    assert await count(cases_url, "SELECT count(*) FROM attachment_blobs") == 0


async def test_an_emailed_file_of_an_unaccepted_type_is_filed_but_never_served(
    files_api, cases_url, object_store
):
    message = email_from()
    message.add_attachment(
        b"MZ\x90\x00", maintype="application", subtype="x-msdownload", filename="payload.exe"
    )
    filed = await files_api.post("/v1/inbound-email", content=message.as_bytes(), headers=GATEWAY)
    assert filed.status_code == 201, filed.text
    case = filed.json()["case"]
    pdf, exe = case["notes"][0]["attachments"]
    assert exe["filename"] == "payload.exe" and exe["content_type"] == "application/x-msdownload"
    base = f"/v1/cases/{case['case_id']}/attachments"
    refused = await files_api.get(f"{base}/{exe['sha256']}", headers=auth())
    assert refused.status_code == 404
    assert refused.json()["title"] == "Attachment content not kept"
    assert (await files_api.get(f"{base}/{pdf['sha256']}", headers=auth())).content == PDF
    if object_store:
        assert len(objects_in(object_store)) == 1
    else:
        assert await count(cases_url, "SELECT count(*) FROM attachment_blobs") == 1


async def test_the_routes_are_in_the_openapi(api):
    paths = (await api.get("/openapi.json")).json()["paths"]
    upload_route = paths["/v1/cases/{case_id}/attachments"]["post"]
    assert {"201", "413", "415"} <= set(upload_route["responses"])
    assert "/v1/cases/{case_id}/attachments/{sha256}" in paths
