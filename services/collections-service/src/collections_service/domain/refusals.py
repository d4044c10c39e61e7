"""Why collections refuses a command, as kinds the domain knows, not HTTP statuses.

The domain says *what kind* of refusal it is (no such thing, already closed,
someone else's, not possible right now); the API maps each kind to a status in
one place (`api/refusals.py`). A refusal without a kind is invalid input.
"""

from __future__ import annotations

from enum import StrEnum

from receivables_platform.domain import Refused


class RefusalKind(StrEnum):
    INVALID = "invalid"
    """The command names something it may not: a date gone by, a foreign invoice."""
    NOT_FOUND = "not_found"
    """The task, promise, hold or account it is about does not exist (here)."""
    CONFLICT = "conflict"
    """The thing exists but its state forbids the command: already closed, already running."""
    FORBIDDEN = "forbidden"
    """It belongs to another collector."""
    UNAVAILABLE = "unavailable"
    """A dependency the command needs is not configured (no mail server)."""


class Refusal(Refused):
    """A collections refusal: a kind, a detail naming what is wrong, and the field it is about."""

    def __init__(self, kind: RefusalKind, detail: str, *, field: str | None = None,
                 title: str = "Command refused") -> None:
        super().__init__(detail, field=field, title=title)
        self.kind = kind


def not_found(what: str, *, field: str | None) -> Refusal:
    return Refusal(RefusalKind.NOT_FOUND, what, field=field, title="Not found")


def conflict(detail: str, *, field: str | None, title: str) -> Refusal:
    return Refusal(RefusalKind.CONFLICT, detail, field=field, title=title)


def forbidden(detail: str, *, field: str | None, title: str) -> Refusal:
    return Refusal(RefusalKind.FORBIDDEN, detail, field=field, title=title)
