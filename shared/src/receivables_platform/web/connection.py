"""A request's pooled connection, waited for a bounded time.

A request that cannot get a connection within `REQUEST_WAIT_SECONDS` is answered
503 with Retry-After (the TimeoutError is "database unavailable", see
`db/unavailable.py`) instead of queueing behind an overloaded pool until its
client gives up: past its capacity a service turns away what it cannot serve
soon, quickly and in a way a client knows to retry, and keeps serving the rest.
The relay and the consumers share the pool but not this bound: they wait.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
from asyncpg.pool import PoolAcquireContext
from fastapi import Request

REQUEST_WAIT_SECONDS = 5.0


def pooled(request: Request) -> PoolAcquireContext:
    """`async with pooled(request) as conn:` the service pool's connection for a request."""
    return request.app.state.service.pool.acquire(timeout=REQUEST_WAIT_SECONDS)


async def connection(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """Dependency: the request's connection, back to the pool when the response is sent."""
    async with pooled(request) as conn:
        yield conn
