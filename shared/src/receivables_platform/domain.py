"""What every aggregate shares: `decide(command, state) -> events`, `evolve(state, event) -> state`.

Aggregates are pure; a refusal is an exception carrying the field it is about,
so the HTTP layer can answer problem+json naming that field without the domain
knowing about HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from receivables_platform.contracts.base import EventContract

S = TypeVar("S")


class Refused(Exception):
    """The command is well-formed but the aggregate will not accept it."""

    def __init__(self, detail: str, *, field: str | None = None, title: str = "Command refused",
                 status: int = 422) -> None:
        super().__init__(detail)
        self.detail, self.field, self.title, self.status = detail, field, title, status


class NotFound(Refused):
    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail, field=field, title="Not found", status=404)


def fold(evolve: Callable[[S, EventContract], S], initial: S, events: Iterable[EventContract]) -> S:
    state = initial
    for event in events:
        state = evolve(state, event)
    return state
