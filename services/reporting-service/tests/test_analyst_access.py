"""Analysts read the documented views and nothing else, and cannot write."""

from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg
import pytest

from receivables_platform.db.migrate import upgrade_async
from reporting_service.spec import SPEC
from reporting_service.testing import analyst_login, connect_as


@pytest.fixture
async def reporting_url(fresh_database):
    return await fresh_database(SPEC.versions_dir)


@pytest.fixture
async def analyst_conn(reporting_url):
    admin = await asyncpg.connect(reporting_url)
    await admin.execute(
        "INSERT INTO ar_invoices (invoice_id, account_id, external_id, currency, total_minor, "
        "issue_date, due_date) VALUES ($1, $2, 'INV-1', 'USD', 500, current_date - 40, "
        "current_date - 10)",
        uuid4(),
        uuid4(),
    )
    await admin.close()
    async with analyst_login(reporting_url) as login:
        conn = await connect_as(login, reporting_url)
        yield conn
        await conn.close()


async def test_the_analyst_reads_the_views(analyst_conn):
    row = await analyst_conn.fetchrow(
        "SELECT open_minor, days_past_due FROM reporting.open_invoices"
    )
    assert (row["open_minor"], row["days_past_due"]) == (500, 10)
    assert await analyst_conn.fetchval("SELECT count(*) FROM reporting.invoices") == 1
    assert (
        await analyst_conn.fetchval(
            "SELECT sum(open_minor) FROM reporting.open_invoices_as_of(current_date - 20)"
        )
        == 500
    )
    assert (
        await analyst_conn.fetchval(
            "SELECT count(*) FROM reporting.open_invoices_as_of(current_date - 41)"
        )
        == 0
    )


async def test_the_analyst_reads_every_view(analyst_conn):
    views = await analyst_conn.fetch(
        "SELECT table_name FROM information_schema.views WHERE table_schema = 'reporting'"
    )
    assert len(views) >= 8
    for view in views:
        await analyst_conn.fetch(f'SELECT * FROM reporting."{view["table_name"]}" LIMIT 1')


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM public.ar_invoices",
        "SELECT * FROM public.events",
        "SELECT * FROM public.ar_payments",
        "SELECT * FROM public.ar_accounts",
        "SELECT * FROM public.ar_balance_changes",
        "UPDATE reporting.payments SET method = 'x'",
        "DELETE FROM reporting.payments",
        "DELETE FROM reporting.invoices",
        "INSERT INTO reporting.invoice_balance_changes "
        "VALUES ('e', gen_random_uuid(), 'x', 1, current_date)",
        "CREATE TABLE reporting.mine (x int)",
        "CREATE TABLE public.mine (x int)",
    ],
)
async def test_the_analyst_cannot_touch_anything_else(analyst_conn, statement: str):
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await analyst_conn.execute(statement)


async def test_every_view_and_column_is_documented(fresh_database):
    conn = await asyncpg.connect(await fresh_database(SPEC.versions_dir))
    try:
        undocumented = await conn.fetch("""
            SELECT c.relname, a.attname
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = 'reporting' AND c.relkind = 'v'
              AND (obj_description(c.oid, 'pg_class') IS NULL
                   OR col_description(c.oid, a.attnum) IS NULL)""")
        assert [tuple(r) for r in undocumented] == []
    finally:
        await conn.close()


ADVISORY_LOCK_CALLS = [
    f"SELECT {name}({args})"
    for name in (
        "pg_advisory_lock",
        "pg_advisory_lock_shared",
        "pg_try_advisory_lock",
        "pg_try_advisory_lock_shared",
        "pg_advisory_unlock",
        "pg_advisory_unlock_shared",
        "pg_advisory_xact_lock",
        "pg_advisory_xact_lock_shared",
        "pg_try_advisory_xact_lock",
        "pg_try_advisory_xact_lock_shared",
    )
    for args in ("7310001", "1, 2")
] + ["SELECT pg_advisory_unlock_all()"]


async def test_the_analyst_cannot_take_the_services_advisory_locks(analyst_conn, reporting_url):
    """A reader holding the relay's or the migrations' lock would stall the service."""
    for call in ADVISORY_LOCK_CALLS:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await analyst_conn.execute(call)
    service = await asyncpg.connect(reporting_url)
    try:
        assert await service.fetchval("SELECT pg_try_advisory_lock(7310001)")
    finally:
        await service.close()


async def test_the_analysts_statements_time_out_and_the_services_do_not(
    analyst_conn, reporting_url
):
    assert await analyst_conn.fetchval("SHOW statement_timeout") == "2min"
    service = await asyncpg.connect(reporting_url)
    try:
        assert await service.fetchval("SHOW statement_timeout") == "0"
    finally:
        await service.close()


async def test_the_analyst_statement_timeout_is_configurable(fresh_database, monkeypatch):
    monkeypatch.setenv("ANALYST_STATEMENT_TIMEOUT", "200ms")
    url = await fresh_database(SPEC.versions_dir)
    async with analyst_login(url) as login:
        conn = await connect_as(login, url)
        try:
            with pytest.raises(asyncpg.QueryCanceledError, match="statement timeout"):
                await conn.execute("SELECT pg_sleep(5)")
        finally:
            await conn.close()


async def test_a_malformed_statement_timeout_stops_the_migration(fresh_database, monkeypatch):
    monkeypatch.setenv("ANALYST_STATEMENT_TIMEOUT", "2min'; DROP TABLE events; --")
    with pytest.raises(ValueError, match="ANALYST_STATEMENT_TIMEOUT: a statement timeout is"):
        await fresh_database(SPEC.versions_dir)


async def test_only_analysts_and_the_service_connect(reporting_url):
    admin = await asyncpg.connect(reporting_url)
    outsider = f"outsider_{uuid4().hex[:10]}"
    await admin.execute(f'CREATE ROLE "{outsider}" LOGIN')
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="CONNECT"):
            await connect_as(outsider, reporting_url)
    finally:
        await admin.execute(f'DROP ROLE "{outsider}"')
        await admin.close()


async def test_a_service_role_that_owns_the_database_but_is_no_superuser_migrates_it(
    fresh_database, postgres_server_url
):
    """As on a managed server: the limits it may set are set, and what needs a superuser (the
    advisory-lock functions) is left with a warning rather than a failed deployment."""
    await fresh_database(SPEC.versions_dir)  # the analyst group exists on this server
    owner, name = f"svc_{uuid4().hex[:10]}", f"t_{uuid4().hex[:16]}"
    admin = await asyncpg.connect(postgres_server_url)
    await admin.execute(f'CREATE ROLE "{owner}" LOGIN')
    await admin.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
    parts = urlsplit(postgres_server_url)
    url = urlunsplit(
        parts._replace(netloc=f"{owner}@{parts.hostname}:{parts.port}", path=f"/{name}")
    )
    try:
        await upgrade_async(url, SPEC.versions_dir)
        async with analyst_login(urlunsplit(parts._replace(path=f"/{name}"))) as login:
            conn = await connect_as(login, url)
            assert await conn.fetchval("SHOW statement_timeout") == "2min"
            await conn.close()
        service = await asyncpg.connect(url)
        assert await service.fetchval("SHOW statement_timeout") == "0"
        await service.close()
        outsider = f"outsider_{uuid4().hex[:10]}"
        await admin.execute(f'CREATE ROLE "{outsider}" LOGIN')
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="CONNECT"):
            await connect_as(outsider, url)
        await admin.execute(f'DROP ROLE "{outsider}"')
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'DROP ROLE "{owner}"')
        await admin.close()
