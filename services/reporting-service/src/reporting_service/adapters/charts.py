"""PNG charts of the weekly review, drawn with matplotlib's Agg backend (no display needed).

Each function takes the review's JSON sections and returns PNG bytes; a
figure is closed as soon as it is rendered so a long-running service does
not accumulate them.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

CHARTS = ("aging-trend", "pareto-count", "pareto-amount", "week-over-week")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    try:
        figure.tight_layout()
        figure.savefig(buffer, format="png", dpi=100)
    finally:
        plt.close(figure)
    return buffer.getvalue()


def aging_trend(points: list[dict[str, Any]], currency: str) -> bytes:
    figure, ax = plt.subplots(figsize=(8, 4))
    dates = [str(p["date"]) for p in points]
    ax.plot(dates, [p["past_due_minor"] / 100 for p in points], marker="o", label="Past due")
    ax.plot(dates, [p["over_60_minor"] / 100 for p in points], marker="o", label="61+ days")
    ax.set_title(f"Aging trend ({currency})")
    ax.set_ylabel(currency)
    ax.tick_params(axis="x", labelrotation=45)
    ax.legend()
    if not points:
        ax.text(0.5, 0.5, "no snapshots in these weeks", ha="center", transform=ax.transAxes)
    return _png(figure)


def pareto(rows: list[dict[str, Any]], title: str, scale: float = 1.0) -> bytes:
    figure, ax = plt.subplots(figsize=(8, 4))
    labels = [r["code"] for r in rows]
    ax.bar(labels, [r["value"] / scale for r in rows], color="#4a7ab0")
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=30)
    cumulative = ax.twinx()
    cumulative.plot(labels, [r["cumulative_pct"] for r in rows], color="#c0504d", marker="o")
    cumulative.set_ylim(0, 105)
    cumulative.set_ylabel("cumulative %")
    if not rows:
        ax.text(0.5, 0.5, "no cases closed this week", ha="center", transform=ax.transAxes)
    return _png(figure)


def week_over_week(rows: list[dict[str, Any]]) -> bytes:
    figure, ax = plt.subplots(figsize=(8, 4))
    positions = range(len(rows))
    ax.bar([p - 0.2 for p in positions], [r["cases_last_week"] for r in rows], width=0.4,
           label="last week", color="#a6a6a6")
    ax.bar([p + 0.2 for p in positions], [r["cases_this_week"] for r in rows], width=0.4,
           label="this week", color="#4a7ab0")
    ax.set_xticks(list(positions), [r["code"] for r in rows], rotation=30)
    ax.set_title("Cases closed by root cause, week over week")
    ax.legend()
    return _png(figure)


def render(chart: str, review: dict[str, Any]) -> bytes:
    currency = review["currency"]
    if chart == "aging-trend":
        return aging_trend(review["aging_trend"]["points"], currency)
    if chart == "pareto-count":
        return pareto(review["root_causes"]["pareto_by_count"], "Root causes by cases")
    if chart == "pareto-amount":
        return pareto(review["root_causes"]["pareto_by_amount"],
                      f"Root causes by amount ({currency})", scale=100)
    if chart == "week-over-week":
        return week_over_week(review["root_causes"]["week_over_week"])
    raise KeyError(chart)
