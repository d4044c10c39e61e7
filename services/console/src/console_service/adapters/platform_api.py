"""The four APIs, called with the signed-in person's token.

The console decides nothing: each service checks the token's roles and the
request, and its problem+json answer is what the person sees. So a refusal is
not an error here but a `Refused` carrying the fields it names, and only a
service that cannot answer at all is `Unreachable`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

log = structlog.get_logger(__name__)

# The services' uvicorn closes a keep-alive connection idle for 5 s. A client keeping it as
# long reuses it now and then just as the server closes it, and the request is lost with it
# ("Server disconnected without sending a response"): a page showed a part as unavailable.
# Kept for less, a connection is dropped by this side first; a read that still meets such a
# close is sent once more on a new connection (a GET changes nothing).
KEEPALIVE_SECONDS = 2.0
RESENDABLE = frozenset({"GET", "HEAD"})


def client_limits() -> httpx.Limits:
    return httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS)


@dataclass
class Refused(Exception):
    """A 4xx from a service: its problem+json, keyed by the fields it names."""

    status: int
    title: str
    detail: str
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def stale(self) -> bool:
        """Someone else changed the thing since the person loaded it (If-Match lost)."""
        return self.status == 412

    @classmethod
    def of(cls, response: httpx.Response) -> Refused:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        fields: dict[str, str] = {}
        for error in body.get("errors") or []:
            if isinstance(error, dict) and isinstance(error.get("field"), str):
                fields.setdefault(form_field(error["field"]), str(error.get("message", "")))
        return cls(
            response.status_code,
            str(body.get("title") or response.reason_phrase),
            str(body.get("detail") or ""),
            fields,
        )


@dataclass
class Unreachable(Exception):
    """The service did not answer, or answered 5xx: the screen shows it as unavailable."""

    service: str
    reason: str


def form_field(location: str) -> str:
    """`body.amount_minor` -> `amount_minor`: the name the console's form gives the input."""
    for prefix in ("body.", "query.", "path."):
        if location.startswith(prefix):
            return location[len(prefix) :]
    return location


@dataclass(frozen=True)
class Answer:
    body: Any
    version: str | None
    """The ETag to send back as If-Match when changing what was read."""


class PlatformApi:
    def __init__(self, client: httpx.AsyncClient, urls: dict[str, str]) -> None:
        self.client = client
        self.urls = urls

    async def call(
        self,
        method: str,
        service: str,
        path: str,
        token: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        if_match: str | None = None,
        idempotency_key: str | None = None,
        content: Any = None,
        content_type: str | None = None,
    ) -> Answer:
        """`content` (bytes or an async iterator of them) with its `content_type` is for
        the routes that take a file as the request body, not JSON."""
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        if if_match:
            headers["If-Match"] = if_match
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        response = await self._send(
            method, service, path, token, headers=headers, params=params, json=json, content=content
        )
        body = response.json() if response.content else None
        return Answer(body, response.headers.get("ETag"))

    async def file(self, service: str, path: str, token: str) -> httpx.Response:
        """A file's bytes and the service's headers (name, type), passed on as they are."""
        return await self._send("GET", service, path, token, headers={})

    async def _send(
        self,
        method: str,
        service: str,
        path: str,
        token: str,
        *,
        headers: dict[str, str],
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: Any = None,
    ) -> httpx.Response:
        request = self.client.build_request(
            method,
            self.urls[service] + path,
            headers={"Authorization": f"Bearer {token}", **headers},
            params={k: v for k, v in (params or {}).items() if v not in (None, "")},
            json=json,
            content=content,
        )
        try:
            response = await self._sent(request)
        except httpx.HTTPError as exc:
            log.warning("service unreachable", service=service, path=path, reason=repr(exc))
            raise Unreachable(service, type(exc).__name__) from exc
        if response.status_code >= 500:
            log.warning("service failed", service=service, path=path, status=response.status_code)
            raise Unreachable(service, f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise Refused.of(response)
        return response

    async def get(self, service: str, path: str, token: str, **params: Any) -> Any:
        return (await self.call("GET", service, path, token, params=params)).body

    async def _sent(self, request: httpx.Request) -> httpx.Response:
        """The response; a read the server dropped unanswered (a keep-alive connection
        closed as it was reused) is sent once more."""
        try:
            return await self.client.send(request)
        except httpx.RemoteProtocolError:
            if request.method not in RESENDABLE:
                raise
            return await self.client.send(request)
