"""PNG charts of the weekly review, drawn with matplotlib's Agg backend (no display needed).

Each function takes the review's JSON sections and returns the figure;
`render` turns one into PNG bytes and closes it at once, so a long-running
service does not accumulate them. Amounts are drawn in the currency's major
unit (a yen is not a hundredth), category labels are wrapped rather than
cut off at the image's edge, and a chart with nothing to show says so.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from reporting_service.domain.money import major_units


def _major(amount_minor: int, currency: str) -> float:
    """A chart's axis is a float: exact Decimal amounts are for the tables."""
    return float(major_units(amount_minor, currency))


CHARTS = ("aging-trend", "pareto-count", "pareto-amount", "week-over-week")


LABEL_WIDTH = 14
"""Characters per line of a category label: a taxonomy code can be a sentence long."""


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=100)
    finally:
        plt.close(figure)
    return buffer.getvalue()


def _wrapped(labels: Sequence[str]) -> list[str]:
    return [textwrap.fill(label, LABEL_WIDTH, break_long_words=True) or " " for label in labels]


def _categories(figure: Figure, ax: Axes, labels: Sequence[str]) -> None:
    """Label the bars with wrapped category names, on a figure tall enough to hold them."""
    wrapped = _wrapped(labels)
    ax.set_xticks(range(len(wrapped)), wrapped, fontsize=8)
    lines = max((label.count("\n") + 1 for label in wrapped), default=1)
    figure.set_figheight(4 + 0.15 * lines)
    figure.set_figwidth(max(8.0, 1.1 * len(wrapped)))


def _nothing(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=12)


def _fitted(figure: Figure) -> Figure:
    figure.tight_layout()
    return figure


def aging_trend(points: list[dict[str, Any]], currency: str) -> Figure:
    figure, ax = plt.subplots(figsize=(8, 4))
    dates = [str(p["date"]) for p in points]
    ax.set_title(f"Aging trend ({currency})")
    if not points:
        _nothing(ax, "No snapshots in these weeks")
        return _fitted(figure)
    ax.plot(
        dates, [_major(p["past_due_minor"], currency) for p in points], marker="o", label="Past due"
    )
    ax.plot(
        dates, [_major(p["over_60_minor"], currency) for p in points], marker="o", label="61+ days"
    )
    ax.set_ylabel(currency)
    ax.tick_params(axis="x", labelrotation=45)
    ax.legend()
    return _fitted(figure)


def pareto(rows: list[dict[str, Any]], title: str, currency: str | None = None) -> Figure:
    """Bars per root cause, largest first, with the cumulative share; `currency` when the
    values are amounts in minor units."""
    figure, ax = plt.subplots(figsize=(8, 4))
    ax.set_title(title)
    if not rows:
        _nothing(ax, "No cases closed this week")
        return _fitted(figure)
    positions = list(range(len(rows)))
    ax.bar(
        positions,
        [r["value"] if currency is None else _major(r["value"], currency) for r in rows],
        color="#4a7ab0",
    )
    if currency is not None:
        ax.set_ylabel(currency)
    _categories(figure, ax, [r["code"] for r in rows])
    cumulative = ax.twinx()
    cumulative.plot(positions, [r["cumulative_pct"] for r in rows], color="#c0504d", marker="o")
    cumulative.set_ylim(0, 105)
    cumulative.set_ylabel("cumulative %")
    return _fitted(figure)


def week_over_week(rows: list[dict[str, Any]]) -> Figure:
    figure, ax = plt.subplots(figsize=(8, 4))
    ax.set_title("Cases closed by root cause, week over week")
    if not rows:
        _nothing(ax, "No cases closed this week or last")
        return _fitted(figure)
    positions = range(len(rows))
    ax.bar(
        [p - 0.2 for p in positions],
        [r["cases_last_week"] for r in rows],
        width=0.4,
        label="last week",
        color="#a6a6a6",
    )
    ax.bar(
        [p + 0.2 for p in positions],
        [r["cases_this_week"] for r in rows],
        width=0.4,
        label="this week",
        color="#4a7ab0",
    )
    _categories(figure, ax, [r["code"] for r in rows])
    ax.legend()
    return _fitted(figure)


def figure(chart: str, review: dict[str, Any]) -> Figure:
    """The chart's figure, open: `render` for its PNG."""
    currency = review["currency"]
    if chart == "aging-trend":
        return aging_trend(review["aging_trend"]["points"], currency)
    if chart == "pareto-count":
        return pareto(review["root_causes"]["pareto_by_count"], "Root causes by cases")
    if chart == "pareto-amount":
        return pareto(
            review["root_causes"]["pareto_by_amount"],
            f"Root causes by amount ({currency})",
            currency,
        )
    if chart == "week-over-week":
        return week_over_week(review["root_causes"]["week_over_week"])
    raise KeyError(chart)


def render(chart: str, review: dict[str, Any]) -> bytes:
    return _png(figure(chart, review))
