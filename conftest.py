"""Every test's kind, read from what it needs, so the fast targets pick their tests.

A marker set by hand rots: a test gains a database fixture and still says unit.
What a test needs is in its fixture closure, so the kind is derived from it:

- `faults`: the long fault runs under load (`slow`, `make test-faults`);
- `system`: a broker, or the services as processes (tests/integration, the dev stack);
- `db`: a PostgreSQL server and nothing more;
- `unit`: neither (domain, contracts, pure logic: `make test-unit`);
- `fuzz`: generated-input suites over a server (schemathesis, hypothesis against a
  database, the import fuzzers): their own target, `make test-fuzz`. Pure hypothesis
  properties of a domain stay unit tests: they run in a second.

Tests that need the whole system run in one xdist group, so one worker starts the
four services once instead of every worker starting its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).parent

BROKER_FIXTURES = frozenset({"kafka_bootstrap", "own_broker", "system"})
POSTGRES_FIXTURES = frozenset({"postgres_server_url", "fresh_database", "own_postgres"})
SYSTEM_FOLDERS = (ROOT / "tests" / "integration",)
# start the dev stack or other processes without naming a fixture for them
SYSTEM_MODULES = frozenset({"test_devstack.py"})


def _kind(item: pytest.Item) -> str:
    needs = set(getattr(item, "fixturenames", ()))
    path = Path(str(item.path))
    if item.get_closest_marker("slow"):
        return "faults"
    if (
        needs & BROKER_FIXTURES
        or path.name in SYSTEM_MODULES
        or any(path.is_relative_to(folder) for folder in SYSTEM_FOLDERS)
    ):
        return "system"
    if needs & POSTGRES_FIXTURES:
        return "db"
    return "unit"


def _is_fuzz(item: pytest.Item, kind: str) -> bool:
    if Path(str(item.path)).stem.endswith("_fuzz"):
        return True
    generated = getattr(getattr(item, "obj", None), "is_hypothesis_test", False)
    return bool(generated) and kind != "unit"


# First among the hooks: xdist's worker reads `xdist_group` in its own
# pytest_collection_modifyitems, registered after this conftest and so called before it;
# a mark added later leaves every worker starting its own four services.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        kind = _kind(item)
        item.add_marker(kind)
        if _is_fuzz(item, kind):
            item.add_marker("fuzz")
        if "system" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("system"))
