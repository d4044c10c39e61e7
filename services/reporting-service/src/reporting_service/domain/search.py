"""What a search may match and who may see which kind of result: pure rules, no IO.

A representative on the phone types what the customer says: part of a company
name (often misspelt), an invoice number read off paper ("inv 0012345"), an
email, a phone number in any punctuation, a case number or just its digits. The
query is read once here into the forms each kind of match needs, so the SQL only
compares prepared values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MIN_LENGTH, MAX_LENGTH = 2, 200
KINDS = ("account", "invoice", "case", "contact")

_PEOPLE = frozenset({"collector", "case_agent", "supervisor", "admin", "receivables_rep"})
VISIBLE_TO: dict[str, frozenset[str]] = {
    "account": _PEOPLE | {"integration"},
    "invoice": _PEOPLE | {"integration"},
    "case": _PEOPLE | {"integration"},
    # names, emails and phone numbers are personal data: for people who talk to customers,
    # not for machine clients, which find accounts by their external ids
    "contact": _PEOPLE,
}

_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]+")
_CASE_NUMBER = re.compile(r"(?:case)?[\s#:\-]*0*(\d{1,12})", re.IGNORECASE)
MIN_PHONE_DIGITS = 4


class InvalidQuery(ValueError):
    """The text cannot be searched for; the message says why."""


@dataclass(frozen=True)
class SearchText:
    text: str  # trimmed, as typed
    lowered: str
    prefix: str  # a LIKE pattern: starts with the lowered text, wildcards escaped
    phone_digits: str | None  # only when the text reads as a phone number
    case_number: str | None  # CASE-000042 for "42", "case 42", "CASE-000042"
    fuzzy: bool  # worth matching names by likeness: words, not a number or an email address


def read_query(raw: str) -> SearchText:
    text = unicodedata.normalize("NFC", raw).strip()
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in text):
        raise InvalidQuery("q must not contain control characters")
    if not MIN_LENGTH <= len(text) <= MAX_LENGTH:
        raise InvalidQuery(
            f"q must be {MIN_LENGTH} to {MAX_LENGTH} characters after trimming "
            f"spaces, got {len(text)}"
        )
    lowered = text.lower()
    digits = re.sub(r"\D", "", text)
    phone = digits if _PHONE_LIKE.fullmatch(text) and len(digits) >= MIN_PHONE_DIGITS else None
    number = _CASE_NUMBER.fullmatch(text)
    return SearchText(
        text=text,
        lowered=lowered,
        prefix=escape_like(lowered) + "%",
        phone_digits=phone,
        case_number=f"case-{number.group(1).zfill(6)}" if number else None,
        fuzzy=any(c.isalpha() for c in text) and "@" not in text and number is None,
    )


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def phone_digits(phone: str | None) -> str | None:
    """What a phone number is compared by: its digits, however it was punctuated."""
    digits = re.sub(r"\D", "", phone or "")
    return digits or None


def visible_kinds(roles: Iterable[str]) -> tuple[str, ...]:
    held = frozenset(roles)
    return tuple(kind for kind in KINDS if not VISIBLE_TO[kind].isdisjoint(held))


def ranked(
    results: Iterable[dict[str, Any]], limit: int, kinds: Sequence[str] = KINDS
) -> list[dict[str, Any]]:
    """Best first; on a tie accounts before what belongs to them, then by title."""
    order = {kind: position for position, kind in enumerate(kinds)}
    return sorted(
        results,
        key=lambda r: (-r["score"], order.get(r["kind"], len(order)), r["title"].lower(), r["id"]),
    )[:limit]
