"""Who may own a case: the case agents an admin registered, or who took a case themselves
(table `case_agents`)."""

from __future__ import annotations

import asyncpg


async def put_agent(conn: asyncpg.Connection, user_id: str, name: str, email: str | None,
                    active: bool) -> None:
    await conn.execute(
        "INSERT INTO case_agents (user_id, name, email, active) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (user_id) DO UPDATE SET name = $2, email = $3, active = $4",
        user_id, name, email, active)


async def register_on_first_use(conn: asyncpg.Connection, user_id: str) -> None:
    """A person with the case-agent role who takes a case is an agent from then on; an admin's
    entry (a name, or a deactivation) is never overwritten."""
    await conn.execute(
        "INSERT INTO case_agents (user_id, name, email, active) VALUES ($1, $1, NULL, true) "
        "ON CONFLICT (user_id) DO NOTHING", user_id)


async def is_active_agent(conn: asyncpg.Connection, user_id: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM case_agents WHERE user_id = $1 AND active)", user_id))
