"""Write docs/integrators/enums.md: the allowed values of every enum in the services' APIs.

Read from the OpenAPI documents the services build (no server needed), so an integrator
sees every payment method, case status or channel the API accepts, and the list cannot
drift: `make docs` rewrites it, a test fails when it differs.

    python tools/enum_reference.py [--check]
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from generated_doc import write_or_check

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "integrators" / "enums.md"
SERVICES = ("billing_adapter", "collections_service", "case_service", "reporting_service")


def document(package: str) -> dict[str, Any]:
    from receivables_platform.settings import ServiceSettings
    from receivables_platform.web.app import create_app

    spec = importlib.import_module(f"{package}.spec").SPEC
    app = create_app(ServiceSettings(jwt_secret="-" * 32), title=spec.title, routers=spec.routers)
    return app.openapi()


def enums(schema: dict[str, Any]) -> Iterator[tuple[str, list[Any], str]]:
    """Named enums, and the ones written inline on a field (`Literal[...]`) as Model.field."""
    for name, model in sorted(schema.get("components", {}).get("schemas", {}).items()):
        if "enum" in model:
            yield name, model["enum"], " ".join(model.get("description", "").split())
        for field, prop in sorted(model.get("properties", {}).items()):
            for alternative in [prop, *prop.get("anyOf", []), prop.get("items", {})]:
                if "enum" in alternative:
                    yield (
                        f"{name}.{field}",
                        alternative["enum"],
                        " ".join(prop.get("description", "").split()),
                    )


def render() -> str:
    lines = [
        "# Allowed values",
        "",
        "Every enumeration in the services' APIs, from their OpenAPI documents "
        "(`tools/enum_reference.py`, `make docs`). A value not listed is refused with 422 "
        "naming the field.",
        "",
    ]
    for package in SERVICES:
        found = list(enums(document(package)))
        if not found:
            continue
        lines += [
            f"## {package.replace('_', '-')}",
            "",
            "| type | values | meaning |",
            "|---|---|---|",
        ]
        for name, values, meaning in found:
            shown = ", ".join(f"`{v}`" for v in values)
            lines.append(f"| `{name}` | {shown} | {meaning.replace('|', '/')} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    return write_or_check(TARGET, render, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
