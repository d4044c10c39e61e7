"""Migrated template databases: each test's database is a copy, not a migration run.

Running a service's whole alembic chain took most of a database test's time. The
chain now runs once per session (per versions folder and environment) into a
template, and `CREATE DATABASE ... TEMPLATE` copies it in milliseconds.

A copy is not quite a migration run: PostgreSQL does not copy what a migration
set on the database itself (its CONNECT grants, `ALTER DATABASE ... SET` and
`ALTER ROLE ... IN DATABASE ... SET`), so those are replayed onto every copy.
The environment is part of the key because migrations read it
(`ANALYST_STATEMENT_TIMEOUT`): a test that changes it gets its own template.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import asyncpg

from receivables_devkit.infra.embedded_postgres import database_url, ensure_database
from receivables_platform.ids import new_id

# what pytest changes between tests and no migration reads
_VOLATILE_ENVIRONMENT = frozenset({"PYTEST_CURRENT_TEST"})

TemplateKey = tuple[str, Path, frozenset[tuple[str, str]]]


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class MigratedTemplates:
    """The templates of one pytest session (one xdist worker), dropped at its end."""

    def __init__(self) -> None:
        self._templates: dict[TemplateKey, str] = {}
        self._lock = asyncio.Lock()

    async def copy(self, server_url: str, versions_dir: Path, name: str) -> str:
        """Database `name`, a copy of the migrated template; its URL."""
        template = await self._template(server_url, versions_dir)
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(
                f"CREATE DATABASE {_quoted(name)} TEMPLATE {_quoted(template)} STRATEGY FILE_COPY"
            )
            await _replay_database_settings(conn, template, name)
        finally:
            await conn.close()
        return database_url(server_url, name)

    async def _template(self, server_url: str, versions_dir: Path) -> str:
        from receivables_platform.db.migrate import upgrade_async

        environment = frozenset(
            (key, value) for key, value in os.environ.items() if key not in _VOLATILE_ENVIRONMENT
        )
        key = (server_url, versions_dir, environment)
        async with self._lock:
            if (template := self._templates.get(key)) is None:
                template = f"tmpl_{new_id().hex[:16]}"
                url = await ensure_database(server_url, template)
                try:
                    await upgrade_async(url, versions_dir)
                except BaseException:
                    await self._drop(server_url, [template])
                    raise
                self._templates[key] = template
            return template

    async def drop_all(self) -> None:
        by_server: dict[str, list[str]] = {}
        for (server_url, _, _), template in self._templates.items():
            by_server.setdefault(server_url, []).append(template)
        for server_url, templates in by_server.items():
            await self._drop(server_url, templates)
        self._templates.clear()

    @staticmethod
    async def _drop(server_url: str, names: list[str]) -> None:
        conn = await asyncpg.connect(server_url)
        try:
            for name in names:
                await conn.execute(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)")
        finally:
            await conn.close()


async def _replay_database_settings(conn: asyncpg.Connection, template: str, copy: str) -> None:
    """What the migrations set on the template database itself, set on its copy."""
    acl = await conn.fetch(
        """
        SELECT a.privilege_type, a.is_grantable,
               CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END AS grantee
        FROM pg_database d, aclexplode(d.datacl) a
        WHERE d.datname = $1 AND a.grantee <> d.datdba""",
        template,
    )
    if acl:
        await conn.execute(f"REVOKE ALL ON DATABASE {_quoted(copy)} FROM PUBLIC")
        for grant in acl:
            grantee = "PUBLIC" if grant["grantee"] is None else _quoted(grant["grantee"])
            option = " WITH GRANT OPTION" if grant["is_grantable"] else ""
            await conn.execute(
                f"GRANT {grant['privilege_type']} ON DATABASE {_quoted(copy)} TO {grantee}{option}"
            )
    settings = await conn.fetch(
        """
        SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END AS role,
               split_part(c.setting, '=', 1) AS name,
               substr(c.setting, strpos(c.setting, '=') + 1) AS value
        FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase,
             unnest(s.setconfig) AS c(setting)
        WHERE d.datname = $1""",
        template,
    )
    for setting in settings:
        value = await conn.fetchval("SELECT quote_literal($1::text)", setting["value"])
        target = (
            f"DATABASE {_quoted(copy)}"
            if setting["role"] is None
            else f"ROLE {_quoted(setting['role'])} IN DATABASE {_quoted(copy)}"
        )
        await conn.execute(f"ALTER {target} SET {_quoted(setting['name'])} = {value}")
