"""From event type to the function that projects it: what every projection module shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg

from receivables_platform.consumer import Handler
from receivables_platform.contracts.base import decode
from receivables_platform.envelope import CloudEvent

Projector = Callable[[asyncpg.Connection, Any, CloudEvent], Awaitable[None]]


def dispatcher(projectors: Mapping[str, Projector]) -> Handler:
    """A consumer handler: decodes (and upcasts) the events it projects, ignores the rest.

    An event type a projection does not need is not an error: topics carry more
    than any one read model reads, and new types appear before readers use them.
    """

    async def project(conn: asyncpg.Connection, event: CloudEvent) -> None:
        projector = projectors.get(event.type)
        if projector is not None:
            await projector(conn, decode(event.type, event.schemaversion, event.data), event)

    return project
