"""asyncpg pools with JSON codecs, so jsonb columns take and give Python objects.

A released connection goes back to the pool without asyncpg's reset query
(`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`): requests leave
no session state behind (their locks are transaction-scoped, their settings
`SET LOCAL`), so the query would be one more round trip on every request for
nothing. An open transaction is still rolled back on release (asyncpg does that
before any reset). The few workers that do take session state (a session
advisory lock, LISTEN) say so with `holds_session_state`, and their connection
gets the full reset when released, so nothing they took outlives their use.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg


class PlatformConnection(asyncpg.Connection):
    """A pooled connection that remembers whether it took session-level state."""

    holds_session_state = False

    def hold_session_state(self) -> None:
        self.holds_session_state = True


def holds_session_state(conn: asyncpg.Connection) -> None:
    """Mark `conn` as taking session state: its release runs the full reset query.

    Call it before taking the state (a pooled connection's proxy forwards the
    call). A connection not made by `create_pool` is reset in full anyway.
    """
    mark = getattr(conn, "hold_session_state", None)
    if mark is not None:
        mark()


async def _reset(conn: PlatformConnection) -> None:
    if conn.holds_session_state:
        await conn.execute(conn.get_reset_query())
        conn.holds_session_state = False


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(
    database_url: str, *, min_size: int = 1, max_size: int = 10, **kwargs: Any
) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        connection_class=PlatformConnection,
        reset=_reset,
        **kwargs,
    )
    assert pool is not None
    return pool


async def connect(database_url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(database_url)
    await _init_connection(conn)
    return conn
