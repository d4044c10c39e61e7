"""A projection's tables built again beside the live ones, then swapped in by one transaction.

The new tables live in a schema of their own, made from the live ones' own
definitions (columns, defaults, checks, keys and indexes under the same names,
and the live tables' triggers), so a session whose search_path puts that
schema first writes the new tables with the projection's unchanged SQL while
every other session keeps reading and writing the live ones.

The swap moves the live tables out and the new ones in (`ALTER TABLE ... SET
SCHEMA`, so no row is copied), then re-points the views that read them: a view
is bound to the tables it was created on, so each is created again from its
own definition, which keeps its comments and grants. Rows of a table the
projection shares with others are carried over into the new table first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import asyncpg

# catalog text (index, trigger and view definitions) with every name schema-qualified
_QUALIFIED = "SET LOCAL search_path = pg_catalog"


def _quoted(schema: str) -> str:
    return '"' + schema.replace('"', '""') + '"'


async def prepare(
    conn: asyncpg.Connection, schema: str, tables: Sequence[str], shared: Sequence[str]
) -> None:
    """Empty copies of `tables` (with their triggers) and of `shared` (without) in `schema`.

    A shared table's triggers are left behind: they keep derived tables of
    other projections, which the copy must not touch while it is being filled.
    """
    into = _quoted(schema)
    async with conn.transaction():
        await conn.execute(_QUALIFIED)
        await conn.execute(f"CREATE SCHEMA {into}")
        for table in [*tables, *shared]:
            await conn.execute(
                f"CREATE TABLE {into}.{table} (LIKE public.{table} INCLUDING ALL EXCLUDING INDEXES)"
            )
            for statement in await _keys_and_indexes(conn, table, into):
                await conn.execute(statement)
        for table in tables:
            for statement in await _triggers(conn, table, into):
                await conn.execute(statement)


async def swap(
    conn: asyncpg.Connection,
    schema: str,
    retired: str,
    tables: Sequence[str],
    shared: Sequence[tuple[str, str]],
) -> None:
    """Move the live tables to `retired` and the new ones into `public`, in the caller's
    transaction, which must hold every one of them locked."""
    new, old = _quoted(schema), _quoted(retired)
    for table, mine in shared:
        await conn.execute(
            f"INSERT INTO {new}.{table} SELECT * FROM public.{table} "  # noqa: S608
            f"WHERE ({mine}) IS NOT TRUE"
        )
    moved = [*tables, *(table for table, _ in shared)]
    await conn.execute(_QUALIFIED)
    views = await _views_reading(conn, moved)
    await conn.execute(f"CREATE SCHEMA {old}")
    for table in moved:
        await conn.execute(f"ALTER TABLE public.{table} SET SCHEMA {old}")
        await conn.execute(f"ALTER TABLE {new}.{table} SET SCHEMA public")
    for name, definition in views:
        await conn.execute(f"CREATE OR REPLACE VIEW {name} AS {definition}")
    await conn.execute("RESET search_path")


async def drop(conn: asyncpg.Connection, *schemas: str) -> None:
    for schema in schemas:
        await conn.execute(f"DROP SCHEMA IF EXISTS {_quoted(schema)} CASCADE")


async def _keys_and_indexes(conn: asyncpg.Connection, table: str, into: str) -> list[str]:
    """Primary keys, unique and exclusion constraints, then the other indexes, named as live."""
    keys = await conn.fetch(
        "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
        "WHERE conrelid = ('public.' || $1)::regclass AND contype IN ('p', 'u', 'x') "
        "ORDER BY conname",
        table,
    )
    indexes = await conn.fetch(
        "SELECT pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i "
        "WHERE i.indrelid = ('public.' || $1)::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
        "ORDER BY i.indexrelid",
        table,
    )
    return [
        f'ALTER TABLE {into}.{table} ADD CONSTRAINT "{k["conname"]}" {k["definition"]}'
        for k in keys
    ] + [_retarget(i["definition"], table, into) for i in indexes]


async def _triggers(conn: asyncpg.Connection, table: str, into: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT pg_get_triggerdef(oid) AS definition FROM pg_trigger "
        "WHERE tgrelid = ('public.' || $1)::regclass AND NOT tgisinternal ORDER BY tgname",
        table,
    )
    return [_retarget(r["definition"], table, into) for r in rows]


def _retarget(definition: str, table: str, into: str) -> str:
    live = f" ON public.{table} "
    if live not in definition:
        raise ValueError(f"unexpected definition for {table}: {definition}")
    return definition.replace(live, f" ON {into}.{table} ", 1)


async def _views_reading(conn: asyncpg.Connection, tables: Iterable[str]) -> list[tuple[str, str]]:
    """Every view that reads one of the tables directly, with its definition."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT v.oid::regclass::text AS name, pg_get_viewdef(v.oid) AS definition
        FROM pg_depend d
        JOIN pg_rewrite r ON r.oid = d.objid
        JOIN pg_class v ON v.oid = r.ev_class
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
          AND d.refobjid = ANY (SELECT ('public.' || t)::regclass FROM unnest($1::text[]) t)
          AND v.oid <> d.refobjid AND v.relkind = 'v'
        ORDER BY 1
        """,
        list(tables),
    )
    return [(r["name"], r["definition"]) for r in rows]
