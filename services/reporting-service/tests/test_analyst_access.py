"""Analysts read the documented views and nothing else, and cannot write."""

from urllib.parse import urlsplit
from uuid import uuid4

import asyncpg
import pytest

from reporting_service.spec import SPEC


@pytest.fixture
async def analyst_conn(fresh_database):
    url = await fresh_database(SPEC.versions_dir)
    login = f"analyst_{uuid4().hex[:10]}"
    admin = await asyncpg.connect(url)
    await admin.execute(f'CREATE ROLE "{login}" LOGIN IN ROLE analyst')
    await admin.execute(
        "INSERT INTO ar_invoices (invoice_id, account_id, external_id, currency, total_minor, "
        "issue_date, due_date) VALUES ($1, $2, 'INV-1', 'USD', 500, current_date - 40, "
        "current_date - 10)", uuid4(), uuid4())
    parts = urlsplit(url)
    conn = await asyncpg.connect(host=parts.hostname, port=parts.port, user=login,
                                 database=parts.path.lstrip("/"))
    yield conn
    await conn.close()
    await admin.execute(f'DROP OWNED BY "{login}"')
    await admin.execute(f'DROP ROLE "{login}"')
    await admin.close()


async def test_the_analyst_reads_the_views(analyst_conn):
    row = await analyst_conn.fetchrow(
        "SELECT open_minor, days_past_due FROM reporting.open_invoices")
    assert (row["open_minor"], row["days_past_due"]) == (500, 10)
    assert await analyst_conn.fetchval("SELECT count(*) FROM reporting.invoices") == 1
    assert await analyst_conn.fetchval(
        "SELECT sum(open_minor) FROM reporting.open_invoices_as_of(current_date - 20)") == 500
    assert await analyst_conn.fetchval(
        "SELECT count(*) FROM reporting.open_invoices_as_of(current_date - 41)") == 0


async def test_the_analyst_reads_every_view(analyst_conn):
    views = await analyst_conn.fetch(
        "SELECT table_name FROM information_schema.views WHERE table_schema = 'reporting'")
    assert len(views) >= 8
    for view in views:
        await analyst_conn.fetch(f'SELECT * FROM reporting."{view["table_name"]}" LIMIT 1')


@pytest.mark.parametrize("statement", [
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
])
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
