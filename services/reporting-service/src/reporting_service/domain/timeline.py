"""The account timeline's vocabulary and its page cursor: pure rules, no IO.

Pages are keyed by the last entry shown (its instant and id), not by an offset,
so entries recorded while someone reads (a payment arriving mid-call) neither
repeat nor push an older entry off the next page. The cursor is opaque to
clients; a cursor that does not decode is the client's error, named as such.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

KINDS = (
    "invoice",
    "payment",
    "adjustment",
    "call",
    "email",
    "letter",
    "promise",
    "hold",
    "autopay",
    "case",
    "profile",
    "note",
    "approval",
)


class InvalidCursor(ValueError):
    """Not a cursor this service gave out."""


@dataclass(frozen=True)
class After:
    at: datetime
    entry_id: str


def encode_cursor(after: After) -> str:
    raw = json.dumps([after.at.isoformat(), after.entry_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> After:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, entry_id = json.loads(raw)
        moment = datetime.fromisoformat(at)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidCursor("cursor is not one this service gave out") from exc
    if (
        moment.tzinfo is None
        or not isinstance(entry_id, str)
        or not 0 < len(entry_id) <= 300
        or "\x00" in entry_id
    ):
        raise InvalidCursor("cursor is not one this service gave out")
    return After(moment, entry_id)
