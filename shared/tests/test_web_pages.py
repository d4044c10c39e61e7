"""Keyset cursors: what one page names comes back exactly, and a forged one is a 400."""

from datetime import date
from uuid import UUID, uuid4

import pytest

from receivables_platform.web.pages import decode_cursor, encode_cursor, page_of
from receivables_platform.web.problems import Problem


def test_a_cursor_gives_back_the_key_of_the_last_row() -> None:
    key = (date(2026, 11, 26), uuid4())
    assert decode_cursor(encode_cursor(*key), date.fromisoformat, UUID) == key


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64!",
        "bm90IGpzb24=",  # "not json"
        encode_cursor("2026-11-26"),  # one part, two wanted
        encode_cursor("yesterday", UUID(int=7)),
        "WzEsIDJd",
    ],
)  # [1, 2]: numbers, not strings
def test_a_cursor_this_list_did_not_give_out_is_a_400_naming_the_query(cursor: str) -> None:
    with pytest.raises(Problem) as refused:
        decode_cursor(cursor, date.fromisoformat, UUID)
    assert refused.value.status == 400
    assert refused.value.errors[0]["field"] == "query.cursor"


def test_a_page_has_a_cursor_only_when_more_rows_follow() -> None:
    rows = [(n, f"row-{n}") for n in range(3)]
    page, cursor = page_of(rows, 2, lambda r: r)
    assert page == rows[:2] and decode_cursor(cursor or "", int, str) == (1, "row-1")
    assert page_of(rows, 3, lambda r: r) == (rows, None)
    assert page_of([], 3, lambda r: r) == ([], None)
