"""Who may own a case: the case agents an admin registered, or who took a case themselves
(table `case_agents`)."""

from __future__ import annotations

import asyncpg


async def put_agent(
    conn: asyncpg.Connection, user_id: str, name: str, email: str | None, active: bool
) -> None:
    await conn.execute(
        "INSERT INTO case_agents (user_id, name, email, active) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (user_id) DO UPDATE SET name = $2, email = $3, active = $4",
        user_id,
        name,
        email,
        active,
    )


async def register_on_first_use(conn: asyncpg.Connection, user_id: str) -> None:
    """A person with the case-agent role who takes a case is an agent from then on; an admin's
    entry (a name, or a deactivation) is never overwritten."""
    await conn.execute(
        "INSERT INTO case_agents (user_id, name, email, active) VALUES ($1, $1, NULL, true) "
        "ON CONFLICT (user_id) DO NOTHING",
        user_id,
    )


async def is_active_agent(conn: asyncpg.Connection, user_id: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM case_agents WHERE user_id = $1 AND active)", user_id
        )
    )


async def active_agents(conn: asyncpg.Connection) -> list[str]:
    return [
        r["user_id"]
        for r in await conn.fetch("SELECT user_id FROM case_agents WHERE active ORDER BY user_id")
    ]


async def account_collector(conn: asyncpg.Connection, account_id: object) -> str | None:
    value = await conn.fetchval(
        "SELECT collector_id FROM account_collectors WHERE account_id = $1", account_id
    )
    return None if value is None else str(value)


async def put_account_collector(
    conn: asyncpg.Connection, account_id: object, collector_id: str
) -> None:
    await conn.execute(
        "INSERT INTO account_collectors (account_id, collector_id) VALUES ($1, $2) "
        "ON CONFLICT (account_id) DO UPDATE SET collector_id = $2",
        account_id,
        collector_id,
    )


async def last_in_turn(conn: asyncpg.Connection) -> str | None:
    """Who got the last turn; the row stays locked until the caller's transaction ends, so
    the next email waits for this one's choice."""
    value = await conn.fetchval("SELECT last_user_id FROM inbound_rotation FOR UPDATE")
    return None if value is None else str(value)


async def took_turn(conn: asyncpg.Connection, user_id: str) -> None:
    await conn.execute("UPDATE inbound_rotation SET last_user_id = $1", user_id)
