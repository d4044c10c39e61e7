"""Case-service under test: a real HTTP server over a fresh PostgreSQL database."""

from __future__ import annotations

import email
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from uuid import uuid4

import boto3
import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request, Response

from case_service.adapters.file_store import ObjectStoreLocation
from case_service.settings import CaseDependencies
from case_service.spec import SPEC
from case_service.testing import SECRET, register_agents
from receivables_devkit.infra.ports import free_port, wait_for_port
from receivables_devkit.testing.processes import PlatformProcess
from receivables_platform.service import build_app
from receivables_platform.web.testserver import running_server


@pytest.fixture
async def cases_url(fresh_database) -> str:
    return await fresh_database(SPEC.versions_dir)


def start(url: str, dependencies: CaseDependencies | None = None, **settings: Any) -> Any:
    return running_server(
        build_app(
            SPEC,
            SPEC.settings(database_url=url, jwt_secret=SECRET, **settings),
            dependencies=dependencies,
        )
    )


@pytest.fixture
def case_server() -> Callable[..., Any]:
    """`async with case_server(url, smtp_url=...) as base_url`: a server with other settings
    (`dependencies=CaseDependencies(...)`: another policy or other limits)."""
    return start


@pytest.fixture
async def api(cases_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with start(cases_url) as base, httpx.AsyncClient(base_url=base, timeout=10) as client:
        await register_agents(client)
        yield client


class Inbox:
    """What a real SMTP server on loopback (aiosmtpd) received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@dataclass
class Hooks:
    """A real HTTP receiver on loopback: every POST, with its headers and raw body."""

    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
async def webhook_receiver() -> AsyncIterator[Hooks]:
    app = FastAPI()
    hooks = Hooks(url="")

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        hooks.received.append((dict(request.headers), await request.body()))
        return Response(status_code=hooks.status)

    async with running_server(app) as base:
        hooks.url = f"{base}/hook"
        yield hooks


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3-protocol server (moto's, over HTTP in its own process) on a free port."""
    port = free_port()
    log = tmp_path_factory.mktemp("s3") / "s3.log"
    server = PlatformProcess(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], log
    ).start()
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def object_store_url(s3_endpoint: str) -> str:
    """A new bucket per test, with the credentials in the URL as a local server takes them."""
    bucket = f"attachments-{uuid4().hex[:12]}"
    url = f"s3://test:secret@{bucket}/case-files?endpoint={s3_endpoint}&region=us-east-1"
    location = ObjectStoreLocation.parse(url)
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="secret",
    )
    s3.create_bucket(Bucket=location.bucket)
    return url
