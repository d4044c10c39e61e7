"""A real read model for consumer tests: money and event counts per account.

Its handler is what the consumer tests and the pipeline benchmark run, in-process
and as `--handler receivables_devkit.testing.totals:add_to_totals`; sums are
exact integers, so one event applied twice or missed shows as a wrong total.

The table is created on first use per server connection, not per event: an
extra statement per event would halve what the benchmark measures.
"""

from __future__ import annotations

import asyncpg

from receivables_platform.consumer.errors import PermanentError
from receivables_platform.envelope import CloudEvent

TABLE = "test_account_totals"
_ready: set[int] = set()  # server pids of connections that have created the table

_CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    account      text   PRIMARY KEY,
    total_minor  bigint NOT NULL,
    events       integer NOT NULL
)
"""


async def create_table(conn: asyncpg.Connection) -> None:
    await conn.execute(_CREATE)


async def add_to_totals(conn: asyncpg.Connection, event: CloudEvent) -> None:
    amount = event.data.get("total_minor")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise PermanentError(f"event {event.id} has no integer total_minor")
    pid = conn.get_server_pid()
    if pid not in _ready:
        await create_table(conn)
        _ready.add(pid)
    try:
        await _add(conn, event.subject, amount)
    except asyncpg.UndefinedTableError:
        _ready.discard(pid)  # a reused pid on another database: the runner's retry creates it
        raise


async def _add(conn: asyncpg.Connection, account: str, amount: int) -> None:
    await conn.execute(
        f"""
        INSERT INTO {TABLE} (account, total_minor, events) VALUES ($1, $2, 1)
        ON CONFLICT (account) DO UPDATE
        SET total_minor = {TABLE}.total_minor + EXCLUDED.total_minor,
            events = {TABLE}.events + 1
        """,  # noqa: S608 - the table name is a constant
        account,
        amount,
    )


async def read_totals(conn: asyncpg.Connection) -> dict[str, tuple[int, int]]:
    """account -> (total_minor, events); empty before the first event."""
    await create_table(conn)
    rows = await conn.fetch(f"SELECT account, total_minor, events FROM {TABLE}")  # noqa: S608
    return {r["account"]: (r["total_minor"], r["events"]) for r in rows}
