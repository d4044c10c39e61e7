"""docs/operations/configuration.md is what tools/config_reference.py generates from the code."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_tool(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_configuration_reference_is_up_to_date() -> None:
    reference = load_tool("config_reference")
    assert reference.TARGET.read_text() == reference.render(), \
        "docs/operations/configuration.md is out of date: run `make docs`"


def test_it_names_the_variables_of_every_settings_class_and_direct_read() -> None:
    text = load_tool("config_reference").render()
    for variable in ("DATABASE_POOL_SIZE", "HTTP_ROOT_PATH", "KAFKA_MIN_INSYNC_REPLICAS",
                     "STRIPE_WEBHOOK_SECRET", "COLLECTIONS_ESCALATION_SUPERVISOR",
                     "INBOUND_EMAIL_MAX_ATTACHMENTS", "CONSOLE_SESSION_SECRET",
                     "BUSINESS_DATE_MIN", "ANALYST_STATEMENT_TIMEOUT", "OTEL_SERVICE_NAME"):
        assert f"`{variable}`" in text, variable


def test_the_enum_reference_is_up_to_date_and_lists_payment_methods() -> None:
    reference = load_tool("enum_reference")
    text = reference.render()
    assert reference.TARGET.read_text() == text, \
        "docs/integrators/enums.md is out of date: run `make docs`"
    assert "| `PaymentMethod` | `card`, `ach`, `wire`, `check`, `cash`, `direct_debit`" in text


def test_the_readme_is_short_and_every_link_in_the_docs_resolves() -> None:
    readme = ROOT / "README.md"
    assert len(readme.read_text().splitlines()) <= 150
    documents = [readme, *sorted((ROOT / "docs").rglob("*.md")), ROOT / "clients" / "README.md",
                 ROOT / "deploy" / "README.md"]
    broken = []
    for document in documents:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", document.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (document.parent / target).exists():
                broken.append(f"{document.relative_to(ROOT)} -> {target}")
    assert not broken, broken
