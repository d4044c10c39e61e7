"""What a profile edit changed: the audit trail of what collectors know about a customer.

The profile decides whether the customer may be emailed and when to call, so an
edit is recorded as which fields went from what to what, and nothing when an edit
changed nothing (a save of the same profile is no event).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from receivables_platform.contracts.collections import ProfileFieldChange

PROFILE_FIELDS = (
    "tags",
    "preferred_channel",
    "contact_hours",
    "language",
    "do_not_contact",
    "email_opt_out",
)


@dataclass(frozen=True)
class CustomerProfile:
    """How to reach the customer, as a collector last saved it."""

    tags: tuple[str, ...]
    preferred_channel: str | None
    contact_hours: str | None
    language: str
    do_not_contact: bool
    email_opt_out: bool


def profile_changes(before: Mapping[str, Any], after: CustomerProfile) -> list[ProfileFieldChange]:
    """The fields whose value differs, in the profile's own order; tags compare as lists."""
    now = asdict(after)
    return [
        ProfileFieldChange(field=name, before=_plain(before[name]), after=_plain(now[name]))
        for name in PROFILE_FIELDS
        if _plain(before[name]) != _plain(now[name])
    ]


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value
