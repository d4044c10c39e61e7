"""The weekly root-cause review's arithmetic: Pareto ordering and SOP candidates, pure.

A Pareto lists categories from the largest down with each one's share and the
cumulative share, so the review sees which few causes make most of the
cases (or most of the money). A category that recurs at least `threshold`
times in the week is a candidate for a standard operating procedure: the
same fix is being worked out case by case.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

DEFAULT_SOP_THRESHOLD = 3


def pareto(categories: list[dict[str, Any]], measure: str) -> list[dict[str, Any]]:
    ordered = sorted(categories, key=lambda c: (-c[measure], c["code"]))
    total = sum(c[measure] for c in ordered)
    running = 0
    result = []
    for category in ordered:
        running += category[measure]
        share = Fraction(category[measure], total) if total else Fraction(0)
        cumulative = Fraction(running, total) if total else Fraction(0)
        result.append(
            {
                "code": category["code"],
                "name": category["name"],
                "value": category[measure],
                "share_pct": round(float(share * 100), 2),
                "cumulative_pct": round(float(cumulative * 100), 2),
            }
        )
    return result


def week_over_week(
    this_week: list[dict[str, Any]], last_week: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every category seen in either week, with both weeks' counts and amounts."""
    before = {c["code"]: c for c in last_week}
    now = {c["code"]: c for c in this_week}
    rows = []
    for code in sorted(set(now) | set(before)):
        a, b = now.get(code), before.get(code)
        rows.append(
            {
                "code": code,
                "name": (a or b or {}).get("name", code),
                "cases_this_week": a["cases"] if a else 0,
                "cases_last_week": b["cases"] if b else 0,
                "amount_this_week_minor": a["amount_minor"] if a else 0,
                "amount_last_week_minor": b["amount_minor"] if b else 0,
            }
        )
    return sorted(rows, key=lambda r: (-r["cases_this_week"], r["code"]))


def sop_candidates(this_week: list[dict[str, Any]], threshold: int) -> list[str]:
    return sorted(
        c["code"] for c in this_week if c["code"] != "unidentified" and c["cases"] >= threshold
    )
