"""Aging buckets: docs/architecture.md#metrics (<=0 current, then 1-30 ... 120+)."""

import pytest

from reporting_service.domain.aging import InvalidBuckets, bucket_for, buckets, parse_bounds


@pytest.mark.parametrize(
    ("days", "key"),
    [
        (-10, "current"),
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "91-120"),
        (120, "91-120"),
        (121, "120+"),
        (4000, "120+"),
    ],
)
def test_default_buckets(days: int, key: str):
    assert bucket_for(days, buckets()).key == key


def test_custom_bounds():
    assert [b.key for b in buckets(parse_bounds("0,15,45"))] == ["current", "1-15", "16-45", "45+"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "5,10",
        "0,30,30",
        "0,x",
        "\uff10,30",
        "0,\u0663\u0660",
        "0,99999999999999999999",
        "0,1e3",
        "0,+30",
        "0,-1",
    ],
)
def test_bad_bounds_are_refused(text: str):
    with pytest.raises(InvalidBuckets):
        parse_bounds(text)
