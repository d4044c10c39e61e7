"""The embedded PostgreSQL keeps every commit it acknowledged when it is killed.

Consumers and the relay move on once their transaction commits (a claim, an
outbox mark), so a commit lost to a server crash is an event lost for good.
The dev/test server may skip fsync (surviving the machine crashing is not its
job) but not the commit's WAL write: killed straight after acknowledging
commits, it must come back with every one of them.
"""

import asyncio

import asyncpg
import pytest

from receivables_devkit.infra.embedded_postgres import EmbeddedPostgres

pytestmark = pytest.mark.timeout(120)


async def test_commits_acknowledged_just_before_an_immediate_stop_survive_it(
    own_postgres: EmbeddedPostgres,
) -> None:
    conn = await asyncpg.connect(own_postgres.url)
    await conn.execute("CREATE TABLE claims (event_id int PRIMARY KEY)")
    for event_id in range(50):  # each its own transaction, the last one just before the kill
        await conn.execute("INSERT INTO claims VALUES ($1)", event_id)
    await asyncio.to_thread(own_postgres.stop, "immediate")
    conn.terminate()

    await asyncio.to_thread(own_postgres.start)
    conn = await asyncpg.connect(own_postgres.url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM claims") == 50
    finally:
        await conn.close()
