"""Keyset pages: an opaque cursor naming the last row seen, and the page shape every list returns.

A list that can grow (a collector's portfolio, an account's invoices, case
search) is read a page at a time in a stable order, and the cursor is that
order's key of the last row, so a row added or removed meanwhile shifts no
page (unlike OFFSET). Cursors are base64url JSON, opaque to clients: one this
service did not give out is a 400 naming `query.cursor`, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from receivables_platform.web.problems import Problem, problem_type

T = TypeVar("T")

CursorQuery = Annotated[
    str | None, Query(max_length=500, description="next_cursor of the previous page")
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )


def encode_cursor(*key: object) -> str:
    """The cursor after a row whose sort key is `key` (strings, numbers, dates, UUIDs)."""
    return base64.urlsafe_b64encode(json.dumps([str(part) for part in key]).encode()).decode()


def decode_cursor(cursor: str, *parts: Callable[[str], Any]) -> tuple[Any, ...]:
    """The key a cursor names, each part read back by its converter (`date.fromisoformat`,
    `UUID`, `int`, ...); anything else is the client's mistake."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if (
            not isinstance(raw, list)
            or len(raw) != len(parts)
            or not all(isinstance(part, str) for part in raw)
        ):
            raise ValueError("not this list's cursor")
        return tuple(convert(part) for convert, part in zip(parts, raw, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeError) as exc:
        raise Problem(
            400,
            "Malformed cursor",
            "pass back a next_cursor this API returned",
            type=problem_type("malformed-cursor"),
            field="query.cursor",
        ) from exc


def page_of(
    rows: Sequence[T], limit: int, key: Callable[[T], Sequence[object]]
) -> tuple[list[T], str | None]:
    """The first `limit` of `limit + 1` fetched rows, and the cursor after them if more follow."""
    page = list(rows[:limit])
    more = len(rows) > limit
    return page, encode_cursor(*key(page[-1])) if more and page else None
