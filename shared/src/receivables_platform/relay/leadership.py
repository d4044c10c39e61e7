"""One active relay per service, chosen by a session advisory lock.

The lock lives as long as the connection that took it, so a relay that dies
(even by SIGKILL) frees it the moment PostgreSQL notices the connection gone,
and a standby takes over without any lease bookkeeping. Only one relay
publishing is what keeps one key's events in order on the topic.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import asyncpg
import structlog

from receivables_platform.db.pool import holds_session_state

log = structlog.get_logger("receivables_platform.relay")

_NAMESPACE = "receivables_platform.relay:"


class LeadershipLost(Exception):
    """The connection holding the lock is gone; another relay may already lead."""


def lock_key(service_name: str) -> int:
    """A stable signed 64-bit key, the argument type of pg_try_advisory_lock(bigint)."""
    digest = hashlib.sha256((_NAMESPACE + service_name).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@asynccontextmanager
async def leadership(
    pool: asyncpg.Pool, service_name: str, retry_interval: float
) -> AsyncIterator[asyncpg.Connection]:
    """Wait until this relay holds the service's lock; yield the connection that holds it."""
    key = lock_key(service_name)
    conn = await _acquire_lock(pool, service_name, retry_interval)
    try:
        yield conn
    finally:
        if not conn.is_closed():
            with suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                await conn.execute("SELECT pg_advisory_unlock($1)", key)
        await pool.release(conn)


async def _acquire_lock(
    pool: asyncpg.Pool, service_name: str, retry_interval: float
) -> asyncpg.Connection:
    key, waiting = lock_key(service_name), False
    while True:
        conn = await pool.acquire()
        holds_session_state(conn)  # the lock, and the relay's LISTEN on it
        try:
            if await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
                return conn
        except BaseException:
            await pool.release(conn)
            raise
        await pool.release(conn)
        if not waiting:
            log.info("relay.standing_by", service=service_name)
            waiting = True
        await asyncio.sleep(retry_interval)


async def check_alive(conn: asyncpg.Connection, seconds: float) -> None:
    """A round trip on the lock's connection: a dead one means the lock is gone too."""
    if conn.is_closed():
        raise LeadershipLost("the connection holding the relay lock closed")
    try:
        await conn.fetchval("SELECT 1", timeout=seconds)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
        raise LeadershipLost(f"the connection holding the relay lock failed: {exc}") from exc
