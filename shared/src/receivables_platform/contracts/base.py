"""Versioned pydantic event contracts and the upcaster chain.

A contract is identified by (`type`, `version`). Old versions stay registered
so their stored schemas can be checked; reading an old payload upcasts it step
by step to the newest version before validation, so handlers only ever see the
current shape.

Reading is tolerant of properties this code does not know yet: a producer that
deployed a compatible addition (a new optional property) before this consumer
must not send its events to the dead-letter topic. Building a contract in code
still forbids unknown fields, so a producer's typo fails where it is made.

The module-level functions act on the process-wide `REGISTRY`; a separate
`Registry` gives tests (or tools) the same behaviour without touching it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]


class UnknownEventType(LookupError):
    """No contract (or no upcaster path) for a type/version: a permanent failure."""


class EventContract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    version: ClassVar[int] = 1
    aggregate: ClassVar[str]

    def payload(self) -> Payload:
        return self.model_dump(mode="json")

    def payload_json(self) -> str:
        """The payload as JSON text in one pass of pydantic's serialiser (what the store writes)."""
        return self.model_dump_json()


class Part(BaseModel):
    """A value inside an event payload: frozen and strict like the contracts themselves."""

    model_config = ConfigDict(frozen=True, extra="forbid")


C = TypeVar("C", bound=type[EventContract])


@dataclass
class Registry:
    contracts: dict[tuple[str, int], type[EventContract]] = field(default_factory=dict)
    upcasters: dict[tuple[str, int], Upcaster] = field(default_factory=dict)
    # every consumed event asks for its type's newest version: kept, not searched for
    newest: dict[str, int] = field(default_factory=dict)

    def contract(self, event_type: str, version: int = 1, *, aggregate: str) -> Callable[[C], C]:
        """Class decorator: register a contract under its type and version."""

        def register(cls: C) -> C:
            key = (event_type, version)
            if key in self.contracts and self.contracts[key] is not cls:
                raise ValueError(f"contract {event_type} v{version} registered twice")
            cls.event_type = event_type
            cls.version = version
            cls.aggregate = aggregate
            self.contracts[key] = cls
            self.newest[event_type] = max(version, self.newest.get(event_type, version))
            return cls

        return register

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register the step that turns a `from_version` payload into `from_version + 1`."""

        def register(fn: Upcaster) -> Upcaster:
            self.upcasters[(event_type, from_version)] = fn
            return fn

        return register

    def event_types(self) -> list[str]:
        return sorted({t for (t, _) in self.contracts})

    def latest_version(self, event_type: str) -> int:
        if event_type not in self.newest:
            raise UnknownEventType(f"no contract for event type {event_type!r}")
        return self.newest[event_type]

    def latest(self, event_type: str) -> type[EventContract]:
        return self.contracts[(event_type, self.latest_version(event_type))]

    def upcast(self, event_type: str, version: int, payload: Payload) -> tuple[int, Payload]:
        target = self.latest_version(event_type)
        if version > target:
            raise UnknownEventType(
                f"{event_type} v{version} is newer than this service knows (v{target})"
            )
        while version < target:
            step = self.upcasters.get((event_type, version))
            if step is None:
                raise UnknownEventType(f"no upcaster for {event_type} v{version} -> v{version + 1}")
            payload = step(payload)
            version += 1
        return version, payload

    def decode(self, event_type: str, version: int, payload: Payload) -> EventContract:
        """Upcast then validate; pydantic's ValidationError means the payload is invalid."""
        version, payload = self.upcast(event_type, version, payload)
        return self.contracts[(event_type, version)].model_validate(payload, extra="ignore")


REGISTRY = Registry()


def contract_for(event_type: str, version: int = 1, *, aggregate: str) -> Callable[[C], C]:
    """Class decorator: register a contract under its type and version."""
    return REGISTRY.contract(event_type, version, aggregate=aggregate)


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register the step that turns a `from_version` payload into `from_version + 1`."""
    return REGISTRY.upcaster(event_type, from_version)


def upcast(event_type: str, version: int, payload: Payload) -> tuple[int, Payload]:
    return REGISTRY.upcast(event_type, version, payload)


def decode(event_type: str, version: int, payload: Payload) -> EventContract:
    """Upcast then validate; pydantic's ValidationError means the payload is invalid."""
    return REGISTRY.decode(event_type, version, payload)
