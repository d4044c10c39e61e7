"""Only a service's composition root reads its environment: never its domain or use cases.

A setting read below the spec is read lazily, whenever a use case first runs, and is then
shared by everything in the process (two apps, or a test and its server, cannot differ).
So the domain and the service layer of every service, and the platform's domain, are
checked for what reads the environment or keeps process-wide state: `os.environ`,
`getenv`, pydantic-settings, a settings object constructed in place, `functools.cache` /
`lru_cache`, and `global`. They are handed what they need instead (`ServiceSpec.dependencies`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("domain", "service_layer")


def guarded_modules() -> list[Path]:
    found = [ROOT / "shared" / "src" / "receivables_platform" / "domain.py"]
    for package in sorted((ROOT / "services").glob("*/src/*")):
        for layer in LAYERS:
            found += sorted((package / layer).rglob("*.py"))
            if (package / f"{layer}.py").exists():
                found.append(package / f"{layer}.py")
    return found


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def environment_reads(source: str) -> list[str]:
    """What in `source` reads the environment or keeps state for the whole process."""
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "environb", "getenv"):
            found.append(f"{where}: {_name(node)}")
        elif isinstance(node, ast.ImportFrom) and (
            node.module == "pydantic_settings"
            or (node.module == "os" and {a.name for a in node.names} & {"environ", "getenv"})
        ):
            found.append(f"{where}: from {node.module} import ...")
        elif isinstance(node, ast.Import) and any(
            a.name == "pydantic_settings" for a in node.names
        ):
            found.append(f"{where}: import pydantic_settings")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and (node.func.id.endswith(("Settings", "Limits")))
        ):
            found.append(f"{where}: {node.func.id}() built in place")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [
                f"{where}: @{_name(d)} on {node.name}"
                for d in node.decorator_list
                if _name(d).rsplit(".", 1)[-1] in ("cache", "lru_cache", "cached")
            ]
        elif isinstance(node, ast.Global):
            found.append(f"{where}: global {', '.join(node.names)}")
    return found


def test_every_service_has_its_layers_guarded() -> None:
    modules = guarded_modules()
    for service in ("billing_adapter", "collections_service", "case_service", "reporting_service"):
        assert any(f"/{service}/domain" in str(m) for m in modules), service
        assert any(f"/{service}/service_layer" in str(m) for m in modules), service


@pytest.mark.parametrize("module", guarded_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_domain_and_use_cases_read_no_environment(module: Path) -> None:
    assert environment_reads(module.read_text()) == []


@pytest.mark.parametrize(
    "source",
    [
        "import os\nDAYS = int(os.environ.get('CASE_DAYS', '14'))",
        "import os\ndef days():\n    return os.getenv('CASE_DAYS')",
        "from os import environ",
        "from pydantic_settings import BaseSettings",
        "from functools import cache\n@cache\ndef policy():\n    return case_policy()",
        "import functools\n@functools.lru_cache(maxsize=1)\ndef limits():\n    return 1",
        "def sweep():\n    return StripeSettings().mapping",
        "_RUNTIME = None\ndef use(value):\n    global _RUNTIME\n    _RUNTIME = value",
    ],
)
def test_each_kind_of_environment_read_is_caught(source: str) -> None:
    assert environment_reads(source)


def test_what_a_use_case_is_handed_is_not_a_read() -> None:
    source = (
        "async def open_case(conn, command, policy: CasePolicy):\n"
        "    kafka = KafkaSettings.model_validate_json(order.kafka)\n"
        "    return policy.sla.target_days(command.type, command.priority)\n"
    )
    assert environment_reads(source) == []
