"""Why collections refuses a command, as kinds the domain knows, not HTTP statuses.

The domain says *what kind* of refusal it is (no such thing, already closed,
someone else's, not possible right now); the API maps each kind to a status in
one place (`receivables_platform.web.refusals.HTTP_STATUS`). The kinds are the
platform's; a refusal without a kind is invalid input.
"""

from __future__ import annotations

from receivables_platform.domain import RefusalKind, Refused

__all__ = ["Refusal", "RefusalKind", "conflict", "forbidden", "not_found"]


class Refusal(Refused):
    """A collections refusal: a kind, a detail naming what is wrong, and the field it is about."""

    def __init__(
        self,
        kind: RefusalKind,
        detail: str,
        *,
        field: str | None = None,
        title: str = "Command refused",
    ) -> None:
        super().__init__(detail, field=field, title=title, kind=kind)


def not_found(what: str, *, field: str | None) -> Refusal:
    return Refusal(RefusalKind.NOT_FOUND, what, field=field, title="Not found")


def conflict(detail: str, *, field: str | None, title: str) -> Refusal:
    return Refusal(RefusalKind.CONFLICT, detail, field=field, title=title)


def forbidden(detail: str, *, field: str | None, title: str) -> Refusal:
    return Refusal(RefusalKind.NOT_PERMITTED, detail, field=field, title=title)
