"""Request heads over `HTTP_MAX_HEADER_BYTES` are 431, before a huge token is read or verified.

Real clients against a real server: httpx for whole requests, a raw socket for a head
that never ends (only a server that counts as the bytes arrive can answer that one).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request

from receivables_platform.settings import ServiceSettings
from receivables_platform.web.app import create_app
from receivables_platform.web.auth import Principal, issue_token, require_roles
from receivables_platform.web.header_limit import header_limits
from receivables_platform.web.testserver import running_server

SECRET = "header-test-secret-0123456789abcdef"
router = APIRouter()


@router.post("/v1/statements")
async def upload(
    request: Request, _: Principal = Depends(require_roles("collector"))
) -> dict[str, int]:
    return {"bytes": len(await request.body())}


def app_for(platform_db: str) -> FastAPI:
    return create_app(
        ServiceSettings(database_url=platform_db, jwt_secret=SECRET), title="t", routers=[router]
    )


@pytest.fixture
async def server(platform_db: str) -> AsyncIterator[str]:
    async with running_server(app_for(platform_db)) as base:
        yield base


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_ten_megabyte_bearer_token_is_431_with_the_limit(server: str) -> None:
    huge = issue_token(SECRET, "mallory", ["collector"]) + "a" * 10_600_000
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        refused = await http.post("/v1/statements", content=b"x", headers=bearer(huge))
        assert refused.status_code == 431, refused.text[:300]
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["limit_bytes"] == 16 * 1024
        assert refused.json()["errors"][0]["field"] == "header"
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:  # the server lives on
        token = issue_token(SECRET, "pat", ["collector"])
        assert (
            await http.post("/v1/statements", content=b"x", headers=bearer(token))
        ).status_code == 200


async def test_a_head_that_never_ends_is_answered_once_it_passes_the_limit(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(b"GET /v1/statements HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ")
        writer.write(b"a" * 64 * 1024)  # and never the end of the header, nor of the head
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431"), answer[:200]
    assert json.loads(body)["type"] == "urn:receivables:problem:headers-too-large"


async def test_heads_under_the_limit_and_large_bodies_on_one_connection_pass(server: str) -> None:
    """Only the head counts: bodies far over the limit, on a kept-alive connection, go."""
    token = issue_token(SECRET, "pat", ["collector"])
    padding = {"X-Trace-Note": "n" * (15 * 1024 - len(token))}
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        for size in (300_000, 1, 2_000_000, 5):
            sent = await http.post(
                "/v1/statements", content=b"s" * size, headers={**bearer(token), **padding}
            )
            assert (sent.status_code, sent.json()) == (200, {"bytes": size})


async def test_an_app_behind_another_server_refuses_a_large_head_naming_the_header(
    platform_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_MAX_HEADER_BYTES", "4096")
    header_limits.cache_clear()
    try:
        async with (
            running_server(app_for(platform_db), http="h11") as base,
            httpx.AsyncClient(base_url=base, timeout=30) as http,
        ):
            token = issue_token(SECRET, "pat", ["collector"])
            refused = await http.post(
                "/v1/statements", content=b"x", headers=bearer(token + "a" * 8000)
            )
    finally:
        monkeypatch.undo()
        header_limits.cache_clear()
    assert refused.status_code == 431, refused.text
    assert refused.json()["errors"][0]["field"] == "header.Authorization"
    assert refused.json()["limit_bytes"] == 4096
