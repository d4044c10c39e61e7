"""Pooled connections: no reset query for requests, the full reset for session state."""

import asyncpg

from receivables_platform.db.pool import holds_session_state
from receivables_platform.db.transaction import atomic

LOCK = 4242


async def _lock_free(pool: asyncpg.Pool) -> bool:
    """Whether a session advisory lock can be taken by a connection outside the pool."""
    conn = await asyncpg.connect(pool._connect_args[0])
    try:
        taken = await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK)
        if taken:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK)
        return bool(taken)
    finally:
        await conn.close()


async def test_a_connection_marked_as_holding_session_state_is_reset_on_release(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        holds_session_state(conn)
        assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK)
        await conn.execute("LISTEN somewhere")
    assert await _lock_free(pool)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0


async def test_a_request_connection_goes_back_without_a_reset_query(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        await conn.execute("SET application_name = 'left behind'")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT pg_backend_pid()") == backend
        # no RESET ALL ran: requests must keep settings transaction-scoped (SET LOCAL)
        assert await conn.fetchval("SHOW application_name") == "left behind"


async def test_an_open_transaction_is_still_rolled_back_on_release(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS released (n int)")
    conn = await pool.acquire()
    tx = conn.transaction()
    await tx.start()
    await conn.execute("INSERT INTO released VALUES (1)")
    await pool.release(conn)
    async with pool.acquire() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT count(*) FROM released") == 0


async def test_atomic_opens_a_transaction_or_joins_the_callers(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS joined (n int)")
        async with atomic(conn):
            assert conn.is_in_transaction()
            await conn.execute("INSERT INTO joined VALUES (1)")
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT count(*) FROM joined") == 1
        try:
            async with conn.transaction():
                async with atomic(conn):  # no savepoint: the error takes the whole transaction
                    await conn.execute("INSERT INTO joined VALUES (2)")
                raise RuntimeError("the caller gives up")
        except RuntimeError:
            pass
        assert await conn.fetchval("SELECT count(*) FROM joined") == 1
