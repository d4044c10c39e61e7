"""The reporting database's functions, triggers and views come from one file each.

A database upgraded from any earlier revision must end with the schema of a fresh
install, and the files must hold what the database runs: reapplying them over a
migrated database changes nothing, so no migration defines such an object on its own.
"""

import asyncio
from datetime import date
from uuid import uuid4

import asyncpg
import pytest
from alembic import command

from receivables_devkit.infra.embedded_postgres import schema_of
from receivables_platform.db.migrate import alembic_config, upgrade_async
from receivables_platform.db.sql_files import statements
from reporting_service.spec import SPEC
from reporting_service.sql import CURRENT


async def _migrate(url: str, revision: str) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(url, SPEC.versions_dir), revision)


async def _schema(url: str) -> str:
    return await asyncio.to_thread(schema_of, url)


@pytest.mark.parametrize(
    "oldest", ["reporting_service_0001", "reporting_service_0009", "reporting_service_0018"]
)
async def test_an_upgrade_from_an_earlier_revision_ends_with_a_fresh_install_s_schema(
    fresh_database, oldest
):
    fresh = await fresh_database(SPEC.versions_dir)
    upgraded = await fresh_database()
    await _migrate(upgraded, oldest)
    await upgrade_async(upgraded, SPEC.versions_dir)
    assert await _schema(upgraded) == await _schema(fresh)


async def test_reapplying_the_files_over_a_migrated_database_changes_nothing(fresh_database):
    url = await fresh_database(SPEC.versions_dir)
    before = await _schema(url)
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            for path in CURRENT:
                for statement in statements(path.read_text(encoding="utf-8")):
                    await conn.execute(statement)
    finally:
        await conn.close()
    assert await _schema(url) == before


async def test_every_aging_function_trigger_and_analyst_view_is_defined_by_its_file(fresh_database):
    conn = await asyncpg.connect(await fresh_database(SPEC.versions_dir))
    try:
        functions = {
            r["name"]
            for r in await conn.fetch(
                "SELECT p.oid::regprocedure::text AS name FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE p.proname ~ '^ar_(aging|sales|autopay|past_due|secured)' "
                "OR n.nspname = 'reporting'"
            )
        }
        triggers = {
            r["tgname"]
            for r in await conn.fetch(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgname ~ '(aging|autopay|secured)'"
            )
        }
        views = {
            r["name"]
            for r in await conn.fetch(
                "SELECT 'reporting.' || viewname AS name FROM pg_views "
                "WHERE schemaname = 'reporting'"
            )
        }
    finally:
        await conn.close()
    text = "\n".join(path.read_text(encoding="utf-8") for path in CURRENT)
    assert len(functions) == 15 and len(triggers) == 31 and len(views) == 19
    assert {f for f in functions if f"FUNCTION {f.split('(')[0]}(" not in text} == set()
    assert {t for t in triggers if f"TRIGGER {t} " not in text} == set()
    assert {v for v in views if f"VIEW {v} AS" not in text} == set()


async def test_invoices_written_before_aging_was_kept_as_steps_are_stepped_on_upgrade(
    fresh_database,
):
    url = await fresh_database()
    await _migrate(url, "reporting_service_0007")
    invoice, account = uuid4(), uuid4()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO ar_invoices (invoice_id, account_id, currency, total_minor, issue_date,"
            " due_date) VALUES ($1, $2, 'EUR', 1000, $3, $4)",
            invoice,
            account,
            date(2026, 3, 1),
            date(2026, 3, 31),
        )
        await conn.execute(
            "INSERT INTO ar_balance_changes (event_id, invoice_id, kind, amount_minor,"
            " effective_date) VALUES ('e1', $1, 'payment', -400, $2)",
            invoice,
            date(2026, 4, 10),
        )
        await upgrade_async(url, SPEC.versions_dir)
        steps = await conn.fetch(
            "SELECT effective_date, open_minor FROM ar_aging_steps "
            "WHERE invoice_id = $1 ORDER BY effective_date",
            invoice,
        )
        by_due = await conn.fetchval(
            "SELECT sum(open_minor) FROM ar_aging_by_due_date "
            "WHERE currency = 'EUR' AND due_date = '2026-03-31'"
        )
    finally:
        await conn.close()
    assert [(s["effective_date"], s["open_minor"]) for s in steps] == [
        (date(2026, 3, 1), 1000),
        (date(2026, 4, 10), -400),
    ]
    assert by_due == 600
