"""Published contracts stay readable: the committed schemas hold the code to its promises.

The first group reads `shared/schemas/` and fails when a contract changed
incompatibly, when one was never exported, or when an export is stale. The
rest pins down what the checker calls compatible, on small models.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import pytest
from pydantic import BaseModel, Field, create_model
from typer.testing import CliRunner

from receivables_platform.contracts import REGISTRY
from receivables_platform.contracts.base import EventContract, Registry
from receivables_platform.contracts.cli import app as contracts_cli
from receivables_platform.contracts.compatibility import check_compatible
from receivables_platform.contracts.schemas import (
    SCHEMA_ROOT,
    IncompatibleSchemaChange,
    export_schemas,
    load_committed,
    plan_export,
    schema_of,
    schema_path,
)
from receivables_platform.store import RecordedEvent

COMMITTED = load_committed()
EXPORT_HINT = "run: python -m receivables_platform.contracts export"


# -- the committed schemas ----------------------------------------------------------------------


def test_schemas_are_committed_at_all() -> None:
    assert COMMITTED, f"no schemas under {SCHEMA_ROOT}"


def test_every_registered_contract_has_a_committed_schema() -> None:
    missing = [
        f"{t} v{v}" for (t, v) in sorted(REGISTRY.contracts) if not schema_path(t, v).exists()
    ]
    assert not missing, f"contracts never exported: {missing}; {EXPORT_HINT}"


def test_no_published_version_has_lost_its_contract() -> None:
    """Stored events of every published version must stay decodable (by upcasting)."""
    orphans = [f"{t} v{v}" for (t, v) in sorted(COMMITTED) if (t, v) not in REGISTRY.contracts]
    assert not orphans, f"published schemas without a registered contract: {orphans}"


@pytest.mark.parametrize("key", sorted(COMMITTED), ids=lambda k: f"{k[0]}-v{k[1]}")
def test_current_contract_is_compatible_with_its_committed_schema(key: tuple[str, int]) -> None:
    contract = REGISTRY.contracts.get(key)
    assert contract is not None, f"{key} is published but no longer registered"
    problems = check_compatible(COMMITTED[key], schema_of(contract))
    assert not problems, (
        f"{key[0]} v{key[1]} changed incompatibly: {[str(p) for p in problems]}. "
        "Keep this version as it is and register the change as a new version with an upcaster."
    )


def test_committed_schemas_are_the_exported_ones() -> None:
    """A compatible change still has to be exported, or the next check compares with stale files."""
    plan = plan_export(SCHEMA_ROOT, REGISTRY)
    assert not plan.changes, f"out of date: {[str(p) for p in plan.changes]}; {EXPORT_HINT}"


def test_schema_id_is_the_dataschema_events_carry() -> None:
    stored = RecordedEvent(
        position=1,
        event_id=UUID(int=1),
        stream_id="invoice-1",
        stream_type="invoice",
        version=1,
        type="billing.invoice.issued",
        schema_version=1,
        source="billing-adapter",
        subject="acct",
        partition_key="acct",
        data={},
        correlation_id=None,
        causation_id=None,
        traceparent=None,
        recorded_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    assert stored.cloud_event().dataschema == COMMITTED[("billing.invoice.issued", 1)]["$id"]


# -- the checker -------------------------------------------------------------------------------


class Status(StrEnum):
    OPEN = "open"
    PAID = "paid"
    VOIDED = "voided"


class NarrowStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"


class Amount(BaseModel):
    minor: int
    currency: str


class NarrowAmount(BaseModel):
    minor: str
    currency: str


class V1(BaseModel):
    invoice_id: UUID
    total_minor: int = Field(gt=0)
    due: date
    status: Status
    note: str | None = None
    kind: Literal["standard", "credit"] = "standard"
    amount: Amount
    lines: list[Amount] = []


def problems(old: type[BaseModel], new: type[BaseModel]) -> list[str]:
    return [str(p) for p in check_compatible(old.model_json_schema(), new.model_json_schema())]


def test_the_same_model_is_compatible() -> None:
    assert problems(V1, V1) == []


def test_adding_an_optional_property_is_compatible() -> None:
    class Added(V1):
        reference: str | None = None
        channel: Literal["email", "post"] = "email"

    assert problems(V1, Added) == []


def test_removing_a_property_is_caught() -> None:
    class Removed(BaseModel):
        invoice_id: UUID
        total_minor: int = Field(gt=0)
        status: Status
        note: str | None = None
        kind: Literal["standard", "credit"] = "standard"
        amount: Amount
        lines: list[Amount] = []

    assert problems(V1, Removed) == ["due: property removed"]


def test_changing_a_property_type_is_caught() -> None:
    class Changed(V1):
        total_minor: str  # type: ignore[assignment]
        due: datetime

    assert problems(V1, Changed) == [
        "due: type changed from string (date) to string (date-time)",
        "total_minor: type changed from integer to string",
    ]


def test_making_a_property_nullable_is_a_type_change() -> None:
    """Consumers still on the old version would reject the nulls."""

    class Nullable(V1):
        total_minor: int | None = Field(gt=0)  # type: ignore[assignment]

    assert problems(V1, Nullable) == ["total_minor: type changed from integer to integer | null"]


def test_a_new_required_property_is_caught() -> None:
    class Required(V1):
        collector: str

    assert problems(V1, Required) == ["collector: new property is required"]


def test_an_optional_property_becoming_required_is_caught() -> None:
    class NowRequired(V1):
        note: str | None

    assert problems(V1, NowRequired) == ["note: optional property became required"]


def test_narrowing_an_enum_is_caught() -> None:
    class Narrowed(V1):
        status: NarrowStatus  # type: ignore[assignment]

    assert problems(V1, Narrowed) == ["status: enum values removed: ['voided']"]


def test_narrowing_a_literal_is_caught() -> None:
    class Narrowed(V1):
        kind: Literal["standard"] = "standard"

    assert problems(V1, Narrowed) == ["kind: enum values removed: ['credit']"]


def test_widening_an_enum_is_compatible() -> None:
    class Widened(V1):
        kind: Literal["standard", "credit", "proforma"] = "standard"  # type: ignore[assignment]

    assert problems(V1, Widened) == []


def test_constraining_a_free_value_to_an_enum_is_caught() -> None:
    class Free(BaseModel):
        channel: str

    class Constrained(BaseModel):
        channel: Literal["email", "phone"]

    assert problems(Free, Constrained) == ["channel: values narrowed to ['email', 'phone']"]


def test_tightened_bounds_are_caught_and_loosened_ones_allowed() -> None:
    class Tight(V1):
        total_minor: int = Field(gt=100)

    class Loose(V1):
        total_minor: int = Field(ge=0)

    assert problems(V1, Tight) == ["total_minor: lower bound tightened from >= 1 to >= 101"]
    assert problems(Tight, V1) == []
    assert problems(V1, Loose) == []

    class Short(V1):
        note: str | None = Field(default=None, max_length=20)

    class Capped(V1):
        total_minor: int = Field(gt=0, lt=1_000_000)

    assert problems(V1, Short) == ["note: maxLength tightened from None to 20"]
    assert problems(V1, Capped) == ["total_minor: upper bound tightened from none to <= 999999"]


def test_changes_inside_nested_models_and_lists_are_caught() -> None:
    class Nested(V1):
        amount: NarrowAmount  # type: ignore[assignment]
        lines: list[NarrowAmount] = []  # type: ignore[assignment]

    assert problems(V1, Nested) == [
        "amount.minor: type changed from integer to string",
        "lines[].minor: type changed from integer to string",
    ]


def test_a_recursive_model_is_compared_without_looping() -> None:
    class Node(BaseModel):
        name: str
        children: list[Node] = []

    assert problems(Node, Node) == []


# -- export ------------------------------------------------------------------------------------


def a_registry(**fields: Any) -> Registry:
    """A private registry with one contract, so export tests never touch the real one."""
    registry = Registry()
    model = create_model("ThingHappened", __base__=EventContract, **fields)
    registry.contract("test.thing.happened", 1, aggregate="thing")(model)
    return registry


def test_export_writes_stable_sorted_files_with_one_trailing_newline(tmp_path: Path) -> None:
    plan = export_schemas(tmp_path, a_registry(b=(int, ...), a=(str, ...)))
    path = tmp_path / "test.thing.happened" / "v1.json"
    assert plan.created == [path]
    text = path.read_text()
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert json.loads(text)["$id"] == "urn:receivables:schema:test.thing.happened:v1"
    assert export_schemas(tmp_path, a_registry(b=(int, ...), a=(str, ...))).changes == []


def test_export_takes_a_compatible_change(tmp_path: Path) -> None:
    export_schemas(tmp_path, a_registry(a=(str, ...)))
    plan = export_schemas(tmp_path, a_registry(a=(str, ...), b=(int | None, None)))
    assert plan.updated == [tmp_path / "test.thing.happened" / "v1.json"]


def test_export_refuses_to_overwrite_a_published_schema_incompatibly(tmp_path: Path) -> None:
    export_schemas(tmp_path, a_registry(a=(str, ...)))
    before = (tmp_path / "test.thing.happened" / "v1.json").read_text()
    with pytest.raises(IncompatibleSchemaChange, match="a: type changed"):
        export_schemas(tmp_path, a_registry(a=(int, ...)))
    assert (tmp_path / "test.thing.happened" / "v1.json").read_text() == before


def test_export_check_fails_on_a_missing_schema_and_writes_nothing(tmp_path: Path) -> None:
    result = CliRunner().invoke(contracts_cli, ["export", "--root", str(tmp_path), "--check"])
    assert result.exit_code == 1
    assert "out of date" in result.output
    assert list(tmp_path.iterdir()) == []


def test_export_check_passes_on_the_committed_schemas() -> None:
    result = CliRunner().invoke(contracts_cli, ["export", "--check"])
    assert result.exit_code == 0, result.output
