"""JSON Schemas of the registered contracts, as committed under `shared/schemas/`.

The committed files are the published promise of each (type, version): other
teams read them, the AsyncAPI document points at them, and the compatibility
test holds the code to them. So the export is byte-stable (sorted keys, one
trailing newline) to keep diffs to real changes, and it refuses to overwrite a
published schema with an incompatible one: that change needs a new version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from receivables_platform.contracts.base import REGISTRY, EventContract, Registry
from receivables_platform.contracts.compatibility import Incompatibility, check_compatible

Schema = dict[str, Any]
SHARED_ROOT = Path(__file__).resolve().parents[3]
SCHEMA_ROOT = SHARED_ROOT / "schemas"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class IncompatibleSchemaChange(Exception):
    """A contract changed in a way its published schema does not allow."""

    def __init__(self, problems: dict[tuple[str, int], list[Incompatibility]]) -> None:
        self.problems = problems
        lines = [f"{t} v{v}: {p}" for (t, v), found in sorted(problems.items()) for p in found]
        super().__init__(
            "incompatible change to a published contract; keep the old version "
            "and add a new one with an upcaster:\n  " + "\n  ".join(lines)
        )


def schema_id(event_type: str, version: int) -> str:
    """The `dataschema` the event store stamps on every event of this contract."""
    return f"urn:receivables:schema:{event_type}:v{version}"


def schema_path(event_type: str, version: int, root: Path = SCHEMA_ROOT) -> Path:
    return root / event_type / f"v{version}.json"


def schema_of(contract: type[EventContract]) -> Schema:
    schema = contract.model_json_schema(mode="validation")
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": schema_id(contract.event_type, contract.version),
        "x-event-type": contract.event_type,
        "x-event-version": contract.version,
        "x-aggregate": contract.aggregate,
        **schema,
    }


def render(schema: Schema) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load_committed(root: Path = SCHEMA_ROOT) -> dict[tuple[str, int], Schema]:
    """Every schema file under `root`, keyed by the (type, version) its path names."""
    found: dict[tuple[str, int], Schema] = {}
    for path in sorted(root.glob("*/v*.json")):
        version = path.stem[1:]
        if not version.isdigit():
            raise ValueError(f"{path}: schema files are named v<N>.json")
        found[(path.parent.name, int(version))] = json.loads(path.read_text(encoding="utf-8"))
    return found


@dataclass
class ExportPlan:
    """What an export would write: new files, changed files, and the breaking changes."""

    root: Path
    rendered: dict[tuple[str, int], str] = field(default_factory=dict)
    created: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    incompatible: dict[tuple[str, int], list[Incompatibility]] = field(default_factory=dict)

    @property
    def changes(self) -> list[Path]:
        return sorted(self.created + self.updated)


def plan_export(root: Path = SCHEMA_ROOT, registry: Registry = REGISTRY) -> ExportPlan:
    plan = ExportPlan(root)
    for (event_type, version), contract in sorted(registry.contracts.items()):
        schema = schema_of(contract)
        text = render(schema)
        plan.rendered[(event_type, version)] = text
        path = schema_path(event_type, version, root)
        if not path.exists():
            plan.created.append(path)
            continue
        committed = path.read_text(encoding="utf-8")
        if committed == text:
            continue
        plan.updated.append(path)
        problems = check_compatible(json.loads(committed), schema)
        if problems:
            plan.incompatible[(event_type, version)] = problems
    return plan


def export_schemas(
    root: Path = SCHEMA_ROOT, registry: Registry = REGISTRY, *, force: bool = False
) -> ExportPlan:
    """Write every registered contract's schema; nothing is written if one would break."""
    plan = plan_export(root, registry)
    if plan.incompatible and not force:
        raise IncompatibleSchemaChange(plan.incompatible)
    for (event_type, version), text in plan.rendered.items():
        path = schema_path(event_type, version, root)
        if path in plan.created or path in plan.updated:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return plan
