"""An API served under a path prefix of a shared host (`HTTP_ROOT_PATH`).

The ingress passes `/billing/v1/invoices` through unchanged (no rewrite, which
ingress controllers each spell differently); naming the prefix as the ASGI
root path lets the routes match with or without it, and the OpenAPI document
names it as its server, so generated clients and `/docs` call the right URLs.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class ServedUnderPrefix:
    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "root_path": scope.get("root_path", "") + self.prefix}
        await self.app(scope, receive, send)
