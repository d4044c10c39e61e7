"""A request's head (request line and headers) is limited: past it, 431 before anything reads it.

Without a limit a 10.6 MB bearer token was buffered, parsed and verified in
full (2.6 s of one core for one request). The server's HTTP protocol
(`HeaderLimitedProtocol`, what `serve` and the test server run) counts the
head's bytes as they arrive and answers 431 as soon as they pass
`HTTP_MAX_HEADER_BYTES`, without waiting for the rest; it then reads and
drops what the client still sends for a moment, so the client, which
writes its whole request before reading, gets the answer rather than a
reset connection. `HeaderLimitMiddleware` holds every app to the same limit
whatever server runs it, and names the largest header.
"""

from __future__ import annotations

import asyncio
import json
from functools import lru_cache
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from receivables_platform.web.problems import PROBLEM_JSON, Problem, problem_type

HEAD_END = b"\r\n\r\n"
# How long a refused connection keeps reading (and dropping) before it closes, and how much.
LINGER_SECONDS = 5.0
LINGER_BYTES = 64 * 1024 * 1024


class HeaderLimits(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    max_bytes: int = Field(
        default=16 * 1024, ge=1024, le=1024 * 1024, validation_alias="HTTP_MAX_HEADER_BYTES"
    )
    """The request line and all headers together, in bytes (Node's default, twice nginx's
    8 KiB per header line): room for any identity provider's token."""


@lru_cache(maxsize=1)
def header_limits() -> HeaderLimits:
    """The process's limit, read from the environment once."""
    return HeaderLimits()


def _problem(limit: int, field: str) -> Problem:
    return Problem(
        431,
        "Request Header Fields Too Large",
        f"the request line and headers are over the {limit}-byte limit; "
        "send a shorter token or fewer headers",
        type=problem_type("headers-too-large"),
        field=field,
        limit_bytes=limit,
    )


class HeaderLimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, counting each request's head before the parser gets it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit = header_limits().max_bytes
        self._in_head = True
        self._head_bytes = 0
        self._tail = b""  # the chunk before's last bytes: the head's end may span two chunks
        self._refused = False
        self._dropped = 0

    def data_received(self, data: bytes) -> None:
        if self._refused:
            self._dropped += len(data)
            if self._dropped > LINGER_BYTES:
                self.transport.close()
            return
        if self._in_head:
            seen = self._tail + data
            end = seen.find(HEAD_END)
            self._head_bytes += len(data) if end < 0 else max(0, end + 4 - len(self._tail))
            self._tail = seen[-3:]
            if self._head_bytes > self._limit:
                self._refuse()
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes, self._tail = True, 0, b""

    def _refuse(self) -> None:
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()  # an answer to an earlier request is still going out
            return
        problem = _problem(self._limit, "header")
        body = json.dumps(
            {
                "type": problem.type,
                "title": problem.title,
                "status": 431,
                "detail": problem.detail,
                "errors": problem.errors,
                "limit_bytes": self._limit,
            }
        ).encode()
        head = [STATUS_LINE[431]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: ",
            PROBLEM_JSON.encode(),
            b"\r\n",
            b"content-length: ",
            str(len(body)).encode(),
            b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
        self.transport.write(b"".join(head))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._refused = True
        asyncio.get_running_loop().call_later(LINGER_SECONDS, self.transport.close)


class HeaderLimitMiddleware:
    """The same limit for an app served by anything else (or by a client that slipped a
    request past the protocol's count in a pipelined chunk)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            limit = header_limits().max_bytes
            headers = scope["headers"]
            size = (
                len(scope.get("raw_path") or b"")
                + len(scope.get("query_string", b""))
                + sum(len(name) + len(value) + 4 for name, value in headers)
            )
            if size > limit:
                name = max(headers, key=lambda header: len(header[1]))[0].decode("latin-1")
                problem = _problem(limit, f"header.{name.title()}")
                await problem.response(Request(scope))(scope, receive, send)
                return
        await self.app(scope, receive, send)
