"""docs/operations/configuration.md is what tools/config_reference.py generates from the code."""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

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
    assert reference.TARGET.read_text() == reference.render(), (
        "docs/operations/configuration.md is out of date: run `make docs`"
    )


def test_it_names_the_variables_of_every_settings_class_and_direct_read() -> None:
    text = load_tool("config_reference").render()
    for variable in (
        "DATABASE_POOL_SIZE",
        "HTTP_ROOT_PATH",
        "KAFKA_MIN_INSYNC_REPLICAS",
        "STRIPE_WEBHOOK_SECRET",
        "COLLECTIONS_ESCALATION_SUPERVISOR",
        "INBOUND_EMAIL_MAX_ATTACHMENTS",
        "CONSOLE_SESSION_SECRET",
        "BUSINESS_DATE_MIN",
        "ANALYST_STATEMENT_TIMEOUT",
        "OTEL_SERVICE_NAME",
    ):
        assert f"`{variable}`" in text, variable


def test_every_variable_in_the_reference_has_a_meaning() -> None:
    """An operator reading the reference must learn what each variable does, not only its
    name: a settings field gets a docstring or description, a direct read an entry in its
    module's `...ENVIRONMENT` dict."""
    lacking = [v.name for v in load_tool("config_reference").variables() if not v.meaning.strip()]
    assert not lacking, f"no meaning for {lacking}: document them beside where they are read"


SPECS = (
    "billing_adapter.spec",
    "collections_service.spec",
    "case_service.spec",
    "reporting_service.spec",
)
SOURCES = (ROOT / "shared" / "src", ROOT / "services")


class RecordingEnvironment(dict[str, str]):
    """os.environ that remembers which names the platform's own code asked for (libraries'
    own reads, the OpenTelemetry SDK's say, are theirs to document)."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def _note(self, key: object) -> None:
        frame = sys._getframe(2)
        while frame is not None and frame.f_code.co_filename in (os.__file__, __file__):
            frame = frame.f_back  # type: ignore[assignment]
        if (
            frame is not None
            and isinstance(key, str)
            and frame.f_code.co_filename.startswith(tuple(map(str, SOURCES)))
        ):
            self.read.add(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self._note(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingEnvironment]:
    environment = RecordingEnvironment(dict(os.environ))
    monkeypatch.setattr(os, "environ", environment)
    yield environment


def test_every_variable_a_service_reads_at_start_is_in_the_reference(
    recorded: RecordingEnvironment,
) -> None:
    """Independent of how the tool finds reads: build each service as it starts (its
    composition root, logging, tracing, the console) with an environment that records what
    the platform's code asks for, and require every name in the reference."""
    from console_service.app import create_app as console_app
    from receivables_platform.observability.http import operation_spans_wanted
    from receivables_platform.observability.logging import configure_logging
    from receivables_platform.observability.tracing import build_tracer_provider
    from receivables_platform.service import build_app

    for name in SPECS:
        spec = importlib.import_module(name).SPEC
        build_app(spec, spec.settings(database_url="postgresql://reference/check"))
        build_tracer_provider(spec.name)
    configure_logging("reference-check")
    operation_spans_wanted()
    console_app()
    assert {
        "CASE_SLA_TARGETS",
        "NOTIFICATION_WEBHOOK_HOSTS",
        "OTEL_SDK_DISABLED",
    } <= recorded.read, "the recording missed reads it must see"
    text = load_tool("config_reference").render()
    missing = sorted(name for name in recorded.read if f"`{name}`" not in text)
    assert not missing, f"read by the code but not in the configuration reference: {missing}"


def test_the_enum_reference_is_up_to_date_and_lists_payment_methods() -> None:
    reference = load_tool("enum_reference")
    text = reference.render()
    assert reference.TARGET.read_text() == text, (
        "docs/integrators/enums.md is out of date: run `make docs`"
    )
    assert "| `PaymentMethod` | `card`, `ach`, `wire`, `check`, `cash`, `direct_debit`" in text


def test_the_readme_is_short_and_every_link_in_the_docs_resolves() -> None:
    readme = ROOT / "README.md"
    assert len(readme.read_text().splitlines()) <= 150
    documents = [
        readme,
        *sorted((ROOT / "docs").rglob("*.md")),
        ROOT / "clients" / "README.md",
        ROOT / "deploy" / "README.md",
    ]
    broken = []
    for document in documents:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", document.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (document.parent / target).exists():
                broken.append(f"{document.relative_to(ROOT)} -> {target}")
    assert not broken, broken
