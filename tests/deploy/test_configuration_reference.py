"""docs/operations/configuration.md is what tools/config_reference.py generates from the code."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("config_reference",
                                                  ROOT / "tools" / "config_reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_configuration_reference_is_up_to_date() -> None:
    reference = generator()
    assert reference.TARGET.read_text() == reference.render(), \
        "docs/operations/configuration.md is out of date: run `make docs`"


def test_it_names_the_variables_of_every_settings_class_and_direct_read() -> None:
    text = generator().render()
    for variable in ("DATABASE_POOL_SIZE", "HTTP_ROOT_PATH", "KAFKA_MIN_INSYNC_REPLICAS",
                     "STRIPE_WEBHOOK_SECRET", "COLLECTIONS_ESCALATION_SUPERVISOR",
                     "INBOUND_EMAIL_MAX_ATTACHMENTS", "CONSOLE_SESSION_SECRET",
                     "BUSINESS_DATE_MIN", "ANALYST_STATEMENT_TIMEOUT", "OTEL_SERVICE_NAME"):
        assert f"`{variable}`" in text, variable
