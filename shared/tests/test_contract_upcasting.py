"""Old payloads are read as the newest contract, through every upcaster in between.

The family lives in a private `Registry` so nothing here leaks into the
process-wide catalogue other tests (and the schema export) read; the one test
of the module-level functions restores `REGISTRY` afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from receivables_platform.contracts import base
from receivables_platform.contracts.base import EventContract, Registry, UnknownEventType

THING = "test.thing.happened"


def thing_family() -> Registry:
    """v1 had `name`; v2 split it into `first`/`last`; v3 added a required `count`."""
    registry = Registry()

    @registry.contract(THING, 1, aggregate="thing")
    class ThingHappenedV1(EventContract):
        name: str

    @registry.contract(THING, 2, aggregate="thing")
    class ThingHappenedV2(EventContract):
        first: str
        last: str

    @registry.contract(THING, 3, aggregate="thing")
    class ThingHappened(EventContract):
        first: str
        last: str
        count: int

    @registry.upcaster(THING, 1)
    def split_name(payload: dict[str, Any]) -> dict[str, Any]:
        first, _, last = payload["name"].partition(" ")
        return {"first": first, "last": last}

    @registry.upcaster(THING, 2)
    def count_one(payload: dict[str, Any]) -> dict[str, Any]:
        return {**payload, "count": 1}

    return registry


def test_a_v1_payload_is_read_as_v3() -> None:
    registry = thing_family()
    event = registry.decode(THING, 1, {"name": "Ada Lovelace"})
    assert type(event) is registry.latest(THING)
    assert event.version == 3
    assert event.payload() == {"first": "Ada", "last": "Lovelace", "count": 1}


def test_each_version_is_upcast_from_where_it_is() -> None:
    registry = thing_family()
    assert registry.upcast(THING, 2, {"first": "A", "last": "B"}) == (
        3,
        {"first": "A", "last": "B", "count": 1},
    )
    assert registry.upcast(THING, 3, {"first": "A", "last": "B", "count": 5}) == (
        3,
        {"first": "A", "last": "B", "count": 5},
    )


def test_a_missing_upcaster_is_an_unknown_event_type() -> None:
    registry = thing_family()
    del registry.upcasters[(THING, 2)]
    missing = re.escape("no upcaster for test.thing.happened v2 -> v3")
    with pytest.raises(UnknownEventType, match=missing):
        registry.decode(THING, 1, {"name": "Ada Lovelace"})


def test_a_newer_version_than_known_is_an_unknown_event_type() -> None:
    with pytest.raises(UnknownEventType, match="newer than this service knows"):
        thing_family().decode(THING, 4, {"first": "A", "last": "B", "count": 1})


def test_an_unregistered_type_is_an_unknown_event_type() -> None:
    with pytest.raises(UnknownEventType, match="no contract"):
        thing_family().decode("test.other.happened", 1, {})


def test_an_upcast_payload_is_still_validated() -> None:
    with pytest.raises(ValidationError):
        thing_family().decode(THING, 2, {"first": "A"})


def test_reading_ignores_properties_added_after_this_code_was_built() -> None:
    """A producer may add an optional property within a version before its consumers deploy."""
    registry = thing_family()
    event = registry.decode(THING, 3, {"first": "A", "last": "B", "count": 2, "colour": "red"})
    assert event.payload() == {"first": "A", "last": "B", "count": 2}


def test_building_a_contract_in_code_still_forbids_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        thing_family().latest(THING).model_validate(
            {"first": "A", "last": "B", "count": 1, "colour": "red"}
        )


def test_registering_another_class_under_a_taken_version_is_refused() -> None:
    registry = thing_family()
    with pytest.raises(ValueError, match="registered twice"):

        @registry.contract(THING, 3, aggregate="thing")
        class Impostor(EventContract):
            pass


@pytest.fixture
def global_registry() -> Iterator[Registry]:
    """The process-wide registry, restored to exactly what it held before the test."""
    contracts, upcasters = dict(base.REGISTRY.contracts), dict(base.REGISTRY.upcasters)
    newest = dict(base.REGISTRY.newest)
    try:
        yield base.REGISTRY
    finally:
        base.REGISTRY.newest.clear()
        base.REGISTRY.newest.update(newest)
        base.REGISTRY.contracts.clear()
        base.REGISTRY.contracts.update(contracts)
        base.REGISTRY.upcasters.clear()
        base.REGISTRY.upcasters.update(upcasters)


def test_module_level_functions_use_the_global_registry(global_registry: Registry) -> None:
    @base.contract_for(THING, 1, aggregate="thing")
    class V1(EventContract):
        name: str

    @base.contract_for(THING, 2, aggregate="thing")
    class V2(EventContract):
        name: str
        shouted: bool

    @base.upcaster(THING, 1)
    def quiet(payload: dict[str, Any]) -> dict[str, Any]:
        return {**payload, "shouted": False}

    assert global_registry.latest(THING) is V2
    assert base.upcast(THING, 1, {"name": "x"}) == (2, {"name": "x", "shouted": False})
    assert base.decode(THING, 1, {"name": "x"}) == V2(name="x", shouted=False)


def test_the_global_registry_was_left_clean() -> None:
    assert THING not in base.REGISTRY.event_types()
