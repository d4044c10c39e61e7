"""Case-service under test: a real HTTP server over a fresh PostgreSQL database."""

from __future__ import annotations

import email
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request, Response

from case_service.spec import SPEC
from case_service.testing import SECRET, register_agents
from receivables_platform.infra.ports import free_port
from receivables_platform.service import build_app
from receivables_platform.web.testserver import running_server


@pytest.fixture
async def cases_url(fresh_database) -> str:
    return await fresh_database(SPEC.versions_dir)


def start(url: str, **settings: Any) -> Any:
    return running_server(build_app(SPEC, SPEC.settings(database_url=url, jwt_secret=SECRET,
                                                        **settings)))


@pytest.fixture
def case_server() -> Callable[..., Any]:
    """`async with case_server(url, smtp_url=...) as base_url`: a server with other settings."""
    return start


@pytest.fixture
async def api(cases_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with start(cases_url) as base, \
            httpx.AsyncClient(base_url=base, timeout=10) as client:
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
