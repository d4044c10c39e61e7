"""A request's pooled connection, waited for a bounded time.

A request that cannot get a connection within `REQUEST_WAIT_SECONDS` is answered
503 with Retry-After (the TimeoutError is "database unavailable", see
`db/unavailable.py`) instead of queueing behind an overloaded pool until its
client gives up: past its capacity a service turns away what it cannot serve
soon, quickly and in a way a client knows to retry, and keeps serving the rest.
The relay and the consumers share the pool but not this bound: they wait.

The `connection` dependency is a plain coroutine, not a generator: FastAPI wraps
a generator dependency in an async context manager, a cancel scope and a shielded
exit on every request, which cost a billing read about as much as its SQL did
(issue 23). The connection goes back to the pool from `ReleaseConnections`, the
pure ASGI layer every app gets from `create_app`, once the response is sent,
exactly when the generator's exit ran.

`begin` is the same for a request whose route writes in one transaction that a
dependency opens (an `Idempotency-Key`'s): the route ends it, and whatever it left
open (a refusal, an error) is rolled back by the same layer, before the refusal is
sent (so an immediate retry finds the key free) or, when nothing was answered,
before the connection goes back. A route that answers with success while its
transaction is still open would have its writes silently rolled back: that is refused
with a 500 instead.
"""

from __future__ import annotations

import asyncpg
import structlog
from asyncpg.pool import PoolAcquireContext
from asyncpg.transaction import Transaction
from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_WAIT_SECONDS = 5.0
log = structlog.get_logger("receivables_platform.web")
HELD = "receivables.connections"
"""The ASGI scope key of the connections a request holds, with the pool each is from."""
BEGUN = "receivables.transactions"
"""The ASGI scope key of the transactions `begin` opened for a request, with their connection."""


def pooled(request: Request) -> PoolAcquireContext:
    """`async with pooled(request) as conn:` the service pool's connection for a request."""
    return request.app.state.service.pool.acquire(timeout=REQUEST_WAIT_SECONDS)


async def connection(request: Request) -> asyncpg.Connection:
    """Dependency: the request's connection, back to the pool when the response is sent."""
    held: list[tuple[asyncpg.Pool, asyncpg.Connection]] | None = request.scope.get(HELD)
    if held is None:
        raise RuntimeError("no ReleaseConnections middleware: build the app with create_app")
    pool: asyncpg.Pool = request.app.state.service.pool
    conn: asyncpg.Connection = await pool.acquire(timeout=REQUEST_WAIT_SECONDS)
    held.append((pool, conn))
    return conn


async def begin(request: Request) -> tuple[asyncpg.Connection, Transaction]:
    """The request's connection with a transaction begun on it, for its route to commit.

    What the route leaves open is rolled back when the request ends: nothing of a
    refused or failed request is kept, without a context manager around the route."""
    conn = await connection(request)
    transaction = conn.transaction()
    await transaction.start()
    request.scope[BEGUN].append((conn, transaction))
    return conn, transaction


class ReleaseConnections:
    """Gives back what `connection` took for a request, whatever way the request ended,
    after rolling back what `begin` opened and the route did not end."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[tuple[asyncpg.Pool, asyncpg.Connection]] = []
        begun: list[tuple[asyncpg.Connection, Transaction]] = []
        scope[HELD], scope[BEGUN] = held, begun

        async def checked(message: Message) -> None:
            if begun and message["type"] == "http.response.start":
                left_open = [(c, t) for c, t in begun if _in_transaction(c)]
                if left_open and message["status"] < 400:
                    raise RuntimeError(
                        f"{scope['method']} {scope['path']} answered {message['status']} with "
                        "its transaction still open: commit it before answering (for an "
                        "Idempotency-Key, return `await idem.respond(...)`)"
                    )
                # rolled back before the answer leaves, not after: a client that retries at
                # once on a refusal must not find the request's locks (its Idempotency-Key's)
                # still held and be told the request is still in progress
                for _, transaction in left_open:
                    await _rolled_back(transaction)
            await send(message)

        try:
            await self.app(scope, receive, checked)
        finally:
            try:
                for conn, transaction in begun:
                    if _in_transaction(conn):
                        await _rolled_back(transaction)
            finally:
                for pool, conn in held:
                    await pool.release(conn)


def _in_transaction(conn: asyncpg.Connection) -> bool:
    """Whether the request's connection still holds an open transaction; one whose session
    broke (the pool has already taken it back) holds nothing any more."""
    try:
        return not conn.is_closed() and conn.is_in_transaction()
    except asyncpg.InterfaceError:
        return False


async def _rolled_back(transaction: Transaction) -> None:
    """Roll back before a refusal is answered. A connection that cannot (it broke: a
    failover, the server restarted) has lost its session, its writes and its locks with
    it, and goes back to the pool to be replaced; the refusal still goes out, rather than
    an error in its place."""
    try:
        await transaction.rollback()
    except Exception as exc:  # whatever it raised, the session is unusable and goes
        log.warning("http.rollback_failed", error=repr(exc))
