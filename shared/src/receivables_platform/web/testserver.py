"""Run an app under a real uvicorn, in the caller's event loop, for HTTP tests.

In-process transports skip what breaks in production: header encoding, the
lifespan as uvicorn drives it, middleware ordering around the server's own
error handling. A real server on a loopback socket keeps tests honest and
still lets a test share asyncio objects (events, barriers) with its routes.
The socket is bound before the server starts, so no other process can take
the port in between. The server leaves signals alone (Ctrl-C and the test
runner's timeouts must still stop the run) and gives hung requests a few
seconds at shutdown, so a failing test cannot hang the suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from fastapi import FastAPI

from receivables_platform.web.header_limit import HeaderLimitedProtocol


class _InProcessServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def running_server(
    app: FastAPI,
    host: str = "127.0.0.1",
    http: type[asyncio.Protocol] | str = HeaderLimitedProtocol,
) -> AsyncIterator[str]:
    """Yield the base URL once the app's lifespan has started; shut it down on exit.

    `http` is the protocol `serve` runs; another (uvicorn's "h11") shows what an app
    does behind a server that is not ours."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        http=http,
    )
    server = _InProcessServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"uvicorn:{port}")
    try:
        await _started(server, task)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    async with asyncio.timeout(30):
        while not server.started:
            if task.done():
                await task
                raise RuntimeError("the server stopped during startup (see its lifespan error)")
            await asyncio.sleep(0.01)
