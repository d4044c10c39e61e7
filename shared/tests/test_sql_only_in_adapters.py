"""SQL lives in each service's adapters: never in its API, use cases or domain.

A query written in a route or a use case is one a reader cannot find beside the others on
the same table, and one an in-memory fake cannot stand in for. So every module of a
service's `api`, `service_layer` and `domain` is checked for database calls on a
connection (`conn.fetch`, `execute`, ...) and for SQL statements written as text.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("api", "service_layer", "domain")
CALLS = frozenset(
    {"fetch", "fetchrow", "fetchval", "execute", "executemany", "copy_records_to_table"}
)
STATEMENT = re.compile(r"\s*(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|WITH \w+ AS)\b")


def layered_modules() -> list[Path]:
    found: list[Path] = []
    for package in sorted((ROOT / "services").glob("*/src/*")):
        for layer in LAYERS:
            found += sorted((package / layer).rglob("*.py"))
    return found


def sql_in(source: str) -> list[str]:
    """Where `source` talks to the database itself or writes a statement."""
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"line {getattr(node, 'lineno', '?')}"
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("conn", "connection", "pool", "tx")
        ):
            found.append(f"{where}: {node.func.value.id}.{node.func.attr}()")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and STATEMENT.match(node.value)
        ):
            found.append(f"{where}: {node.value.strip()[:40]!r}")
    return found


def test_every_service_is_checked() -> None:
    modules = {str(m) for m in layered_modules()}
    for service in ("billing_adapter", "collections_service", "case_service", "reporting_service"):
        assert any(f"/{service}/api/" in m for m in modules), service
        assert any(f"/{service}/service_layer/" in m for m in modules), service


@pytest.mark.parametrize("module", layered_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_sql_outside_the_adapters(module: Path) -> None:
    assert sql_in(module.read_text()) == []


@pytest.mark.parametrize(
    "source",
    [
        "async def get(conn, i):\n    return await conn.fetchrow('x', i)",
        "async def go(conn):\n    await conn.execute(SQL)",
        "SQL = 'SELECT * FROM tasks WHERE task_id = $1'",
        "Q = (\n    'INSERT INTO notes (body) VALUES ($1)'\n)",
        "Q = 'UPDATE accounts SET version = version + 1'",
    ],
)
def test_each_kind_of_sql_is_caught(source: str) -> None:
    assert sql_in(source)


def test_words_in_prose_are_not_sql() -> None:
    assert sql_in("TITLE = 'Select a category'\nHINT = 'update the profile, then save'") == []
