"""`Idempotency-Key` for POSTs that create: a retried request never runs twice.

How it works. The dependency opens a transaction on a pooled connection and
takes a transaction-scoped advisory lock on (principal, key):

* lock not granted -> another request with this key is running: 409, nothing runs;
* a stored response for the key, same request fingerprint -> replayed byte for
  byte with `Idempotent-Replayed: true`; different fingerprint -> 422;
* otherwise the route runs, and `await idem.respond(...)` writes the response
  into `idempotency_keys` in that same transaction and commits it, as the route
  returns and before the response is sent.

The dependency is a plain coroutine, not a generator around the route: FastAPI
wraps a generator dependency in a context manager, a cancel scope and a shielded
exit on every request (issue 23). So the route's answer commits the transaction
(`respond`), and a request that ends any other way (a refusal, an error) leaves it
to `ReleaseConnections`, which rolls it back before the connection goes back to
the pool; a route that answers success without `respond` gets a 500 from there.

Because the claim is a lock and not a row, a crash or an exception leaves
nothing behind: the transaction rolls back, the lock goes with it, and a retry
runs afresh. Only successful responses given to `respond()` are stored; an
error answer (a domain refusal, a 409) changed nothing, so a retry re-runs.

Two ways to use it, one mechanism:

* **Transactional (preferred)**: do the writes on `idem.conn`, e.g.
  `repo.save(idem.conn, ...)`. The events, their outbox rows and the stored
  response commit together: exactly once, even across crashes.
* **Wrapper**: the route writes through its own connection (or calls another
  system) and only calls `idem.respond(...)` at the end. Concurrent and
  sequential retries are still deduplicated; a crash between the route's own
  commit and this one would let a later retry run again, so such routes also
  need a natural idempotency (e.g. an external id).

The fingerprint is the method, the path with query, and the body (as
canonical JSON when it parses), so `{"a":1,"b":2}` and `{"b": 2, "a": 1}`
count as the same request. Keys are kept for `KEY_RETENTION`, then purged.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import asyncpg
import structlog
from asyncpg.transaction import Transaction
from fastapi import Depends, FastAPI, Header, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel
from starlette.responses import Response

from receivables_platform.web.auth import Principal, caller
from receivables_platform.web.connection import begin
from receivables_platform.web.etag import etag
from receivables_platform.web.problems import Problem, problem_type

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
FIELD = f"header.{HEADER}"
KEY_RETENTION = timedelta(hours=24)
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

log = structlog.get_logger("receivables_platform.web.idempotency")


class IdempotentReplay(Exception):
    """Raised by the dependency to answer with the stored response instead of running the route."""

    def __init__(self, response: Response) -> None:
        super().__init__("replaying a stored response")
        self.response = response


@dataclass
class Idempotency:
    """What an idempotent route works with: the connection in the key's transaction."""

    conn: asyncpg.Connection
    transaction: Transaction
    principal: Principal
    key: str
    method: str
    path: str
    fingerprint: str

    async def respond(
        self,
        content: Any,
        *,
        status_code: int = 201,
        headers: Mapping[str, str] | None = None,
        version: int | None = None,
    ) -> Response:
        """The route's answer, stored for replay in the route's transaction, which this
        commits; return it."""
        body = b"" if content is None else _json(content)
        stored = {**(headers or {})}
        if version is not None:
            stored["ETag"] = etag(version)
        if content is not None:
            stored["Content-Type"] = "application/json"
        await self.conn.execute(
            "INSERT INTO idempotency_keys (principal, key, method, path, request_hash, "
            "status_code, response_body, response_headers) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
            self.principal.sub,
            self.key,
            self.method,
            self.path,
            self.fingerprint,
            status_code,
            body,
            stored,
        )
        await self.transaction.commit()
        return Response(body, status_code=status_code, headers=stored)


def _json(content: Any) -> bytes:
    """The body FastAPI's `jsonable_encoder` would give, compact: a response model is dumped
    to JSON types by pydantic alone (what the encoder starts with, before walking the result
    again value by value in Python), anything else goes through the encoder."""
    plain = (
        content.model_dump(mode="json", by_alias=True)
        if isinstance(content, BaseModel)
        else jsonable_encoder(content)
    )
    return json.dumps(plain, separators=(",", ":")).encode()


def fingerprint(method: str, path: str, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256(f"{method}\n{path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


def lock_key(principal: str, key: str) -> int:
    """64 bits of the key's hash: the advisory lock that marks the request in flight."""
    digest = hashlib.sha256(f"idempotency\0{principal}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _checked_key(value: str | None) -> str:
    if value is None:
        raise Problem(
            400,
            "Idempotency-Key required",
            f"this POST creates something: send an {HEADER} header (e.g. a UUID) "
            "so a retry cannot create it twice",
            type=problem_type("idempotency-key-missing"),
            field=FIELD,
        )
    if not _KEY.fullmatch(value):
        raise Problem(
            400,
            "Malformed Idempotency-Key",
            f"{HEADER} must be 1 to 255 visible ASCII characters",
            type=problem_type("idempotency-key-malformed"),
            field=FIELD,
        )
    return value


async def _claim_or_replay(
    conn: asyncpg.Connection, principal: str, key: str, fingerprint: str
) -> None:
    """Take the key's lock and read what is stored under it, in one round trip (the
    platform schema's `idempotency_claim`, whose lookup runs after the lock is held)."""
    row = await conn.fetchrow(
        "SELECT * FROM idempotency_claim($1, $2, $3)", lock_key(principal, key), principal, key
    )
    if not row["claimed"]:
        raise Problem(
            409,
            "Request in progress",
            f"a request with this {HEADER} is still running; retry when it is done",
            type=problem_type("idempotency-key-in-use"),
            field=FIELD,
            headers={"Retry-After": "1"},
        )
    if row["request_hash"] is None:
        return
    if row["request_hash"] != fingerprint:
        raise Problem(
            422,
            "Idempotency-Key reused",
            f"this {HEADER} was used for a different request; use a new key",
            type=problem_type("idempotency-key-reused"),
            field=FIELD,
        )
    headers = {**row["response_headers"], REPLAYED_HEADER: "true"}
    raise IdempotentReplay(
        Response(bytes(row["response_body"]), status_code=row["status_code"], headers=headers)
    )


async def idempotency(
    request: Request,
    idempotency_key: str | None = Header(
        None,
        alias=HEADER,
        description="Required. A unique key per intended create (a UUID); a retry with the "
        "same key and body replays the first answer instead of creating again",
    ),
) -> Idempotency:
    """Dependency (use `IdempotentRequest`): claim the key, replay, or let the route run.

    The caller is the one the route's role check verified (`caller` keeps it on the
    request), not a dependency of its own: one level less for FastAPI to solve."""
    principal = await caller(request)
    key = _checked_key(idempotency_key)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    request_hash = fingerprint(request.method, path, await request.body())
    conn, transaction = await begin(request)
    try:
        await _claim_or_replay(conn, principal.sub, key, request_hash)
    except IdempotentReplay:
        await transaction.rollback()  # a replay answers success: nothing may stay open
        raise
    return Idempotency(conn, transaction, principal, key, request.method, path, request_hash)


IdempotentRequest = Annotated[Idempotency, Depends(idempotency)]


async def _on_replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    return exc.response


def install_idempotency(app: FastAPI) -> None:
    app.add_exception_handler(IdempotentReplay, _on_replay)


async def purge_expired_keys(pool: asyncpg.Pool, retention: timedelta = KEY_RETENTION) -> int:
    result = await pool.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - $1::interval", retention
    )
    return int(result.split()[-1])


async def purge_forever(pool: asyncpg.Pool, every: timedelta = timedelta(hours=1)) -> None:
    """Background worker: old keys go, so the table stays the size of one retention window."""
    while True:
        try:
            if purged := await purge_expired_keys(pool):
                log.info("idempotency.purged", keys=purged)
        except Exception as exc:  # a missed purge must not end the loop; the next one catches up
            log.warning("idempotency.purge_failed", error=repr(exc))
        await asyncio.sleep(every.total_seconds())
