"""The console's client of the four APIs, against a real server on loopback that drops a
kept-alive connection the way uvicorn's keep-alive timeout can: a request arrives on a
connection just as the server closes it, and is never answered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from console_service.adapters.platform_api import (
    KEEPALIVE_SECONDS,
    PlatformApi,
    Unreachable,
    client_limits,
)

BODY = b'{"ok": true}'
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)


class DroppingServer:
    """Answers the first request on each connection and closes on the second, unanswered."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.connections = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            for answered in (True, False):
                head = await reader.readuntil(b"\r\n\r\n")
                request_line = head.split(b"\r\n", 1)[0].decode()
                self.requests.append(request_line)
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                if not answered:
                    break
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def dropping() -> AsyncIterator[tuple[DroppingServer, PlatformApi]]:
    server = DroppingServer()
    listening = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    async with httpx.AsyncClient(timeout=5, limits=client_limits()) as client:
        yield server, PlatformApi(client, {"collections-service": f"http://127.0.0.1:{port}"})
    listening.close()
    await listening.wait_closed()


async def test_a_read_dropped_on_a_kept_alive_connection_is_sent_again(
    dropping: tuple[DroppingServer, PlatformApi],
) -> None:
    server, api = dropping
    path = "/v1/accounts/a/commitments"
    assert await api.get("collections-service", path, "token") == {"ok": True}
    # the second read goes out on the kept connection, which the server drops unanswered
    assert await api.get("collections-service", path, "token") == {"ok": True}
    assert server.requests == [f"GET {path} HTTP/1.1"] * 3
    assert server.connections == 2


async def test_a_change_dropped_unanswered_is_not_sent_again(
    dropping: tuple[DroppingServer, PlatformApi],
) -> None:
    server, api = dropping
    await api.get("collections-service", "/v1/worklist", "token")
    with pytest.raises(Unreachable):
        await api.call("POST", "collections-service", "/v1/contacts/calls", "token", json={})
    assert server.requests == ["GET /v1/worklist HTTP/1.1", "POST /v1/contacts/calls HTTP/1.1"]


def test_connections_are_dropped_before_the_services_drop_them() -> None:
    import uvicorn

    assert client_limits().keepalive_expiry == KEEPALIVE_SECONDS
    assert uvicorn.Config(app=None).timeout_keep_alive > KEEPALIVE_SECONDS  # type: ignore[arg-type]
