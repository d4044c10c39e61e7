"""AR aging buckets.

An invoice's age as of D is `D - due_date` in days; zero or less is current.
Buckets are configurable as ascending upper bounds in days past due; the last
bucket is open-ended ("120+" by default).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

DEFAULT_UPPER_BOUNDS: tuple[int, ...] = (0, 30, 60, 90, 120)
_BOUND = re.compile(r"[0-9]{1,5}")


@dataclass(frozen=True)
class Bucket:
    key: str
    lower: int | None  # inclusive days past due, None for "any not yet due"
    upper: int | None  # inclusive, None for open-ended


class InvalidBuckets(ValueError):
    pass


def buckets(upper_bounds: tuple[int, ...] = DEFAULT_UPPER_BOUNDS) -> list[Bucket]:
    if not upper_bounds or upper_bounds[0] != 0:
        raise InvalidBuckets("bucket bounds start at 0 (the current bucket)")
    if any(b <= a for a, b in pairwise(upper_bounds)):
        raise InvalidBuckets("bucket bounds must be strictly ascending")
    result = [Bucket("current", None, 0)]
    for lower, upper in pairwise(upper_bounds):
        result.append(Bucket(f"{lower + 1}-{upper}", lower + 1, upper))
    result.append(Bucket(f"{upper_bounds[-1]}+", upper_bounds[-1] + 1, None))
    return result


def bucket_for(days_past_due: int, all_buckets: list[Bucket]) -> Bucket:
    for bucket in all_buckets:
        if bucket.upper is None or days_past_due <= bucket.upper:
            return bucket
    raise AssertionError("the last bucket is open-ended")


def parse_bounds(text: str) -> tuple[int, ...]:
    """`"0,30,60"` from a query string; errors name the problem for a 400.

    ASCII digits only, at most five of them: Python's `int` also reads fullwidth or
    Arabic-Indic digits, a sign, and numbers of thousands of digits, which no invoice
    in the business dates (at most 110 years apart) could ever be past due by.
    """
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not all(_BOUND.fullmatch(part) for part in parts):
        raise InvalidBuckets(
            "bucket bounds are whole numbers of days (at most 99999), comma separated"
        )
    bounds = tuple(int(part) for part in parts)
    buckets(bounds)
    return bounds
