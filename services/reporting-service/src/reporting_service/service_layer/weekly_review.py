"""The weekly root-cause review: aging trend, root-cause Pareto, week over week, KPI table.

One JSON document is the review; CSV and HTML are renderings of it, and the
charts are drawn from it, so every format tells the same story.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import asyncpg

from receivables_platform.spreadsheet import FormulaSafeWriter
from reporting_service.adapters import charts
from reporting_service.adapters.kpi_query import KpiGroup
from reporting_service.adapters.review_query import most_invoiced_currency, root_causes
from reporting_service.domain.kpis import iso_week
from reporting_service.domain.money import format_money
from reporting_service.domain.review import pareto, sop_candidates, week_over_week
from reporting_service.service_layer.kpis import KpiQuery, case_kpis, group_kpis
from reporting_service.service_layer.snapshots import aging_trend

# (label, path into a KPI row or the case KPIs)
KPI_TABLE: list[tuple[str, tuple[str, ...]]] = [
    ("DSO (days)", ("group", "dso")),
    ("Best possible DSO (days)", ("group", "best_possible_dso")),
    ("ADD (days)", ("group", "add")),
    ("CEI (%)", ("group", "cei")),
    ("Cadence completion (%)", ("group", "cadence", "completion_pct")),
    ("Collections secured (payments)", ("group", "collections_secured", "payments")),
    ("Collections secured (minor units)", ("group", "collections_secured", "amount_minor")),
    ("Promise-kept rate by count (%)", ("group", "promises", "kept_rate_by_count_pct")),
    ("Promise-kept rate by amount (%)", ("group", "promises", "kept_rate_by_amount_pct")),
    ("Auto-pay conversion (%)", ("group", "autopay", "conversion_pct")),
    ("Auto-pay penetration (%)", ("group", "autopay", "penetration_pct")),
    ("Follow-up timeliness (%)", ("group", "follow_up_timeliness", "on_time_pct")),
    ("Cases opened", ("cases", "opened")),
    ("Cases closed", ("cases", "closed")),
    ("Investigations completed", ("cases", "investigations_completed")),
    ("Cases open over 14 days", ("cases", "open_over_14_days")),
    ("Mean days to resolution", ("cases", "mean_days_to_resolution")),
    ("Median days to resolution", ("cases", "median_days_to_resolution")),
    ("Documentation completeness (%)", ("cases", "documentation_completeness_pct")),
    ("Customer satisfaction (mean of 1-5)", ("cases", "satisfaction", "mean")),
]
MONEY_KPIS = frozenset({"Collections secured (minor units)"})
"""KPI rows in minor units: the page shows them as money, under a label without the unit."""

ESCALATION_CAUSES = {"delay": "Delay", "documentation_gap": "Documentation gap", "other": "Other"}
AGING_CHANGES = {"past_due": "Past due", "over_60": "61+ days past due", "total": "Total"}


def _pick(source: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = source
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


async def _kpis(conn: asyncpg.Connection, query: KpiQuery) -> dict[str, Any]:
    groups = await group_kpis(conn, query)
    return {"group": groups[0] if groups else {}, "cases": await case_kpis(conn, query.period)}


async def default_currency(conn: asyncpg.Connection) -> str:
    """The currency most invoices are in: a review is for one currency at a time."""
    return await most_invoiced_currency(conn) or "USD"


async def weekly_review(
    conn: asyncpg.Connection,
    week: str,
    currency: str,
    sop_threshold: int,
    attribution_window_days: int,
) -> dict[str, Any]:
    period = iso_week(week)
    previous = period.previous()
    this_causes = await root_causes(conn, period, currency)
    last_causes = await root_causes(conn, previous, currency)
    this_kpis = await _kpis(conn, KpiQuery(period, currency, KpiGroup.all, attribution_window_days))
    last_kpis = await _kpis(
        conn, KpiQuery(previous, currency, KpiGroup.all, attribution_window_days)
    )
    candidates = sop_candidates(this_causes, sop_threshold)
    return {
        "week": week,
        "period": {"start": period.start, "end": period.end},
        "previous_period": {"start": previous.start, "end": previous.end},
        "currency": currency,
        "aging_trend": await aging_trend(conn, currency, period),
        "root_causes": {
            "this_week": [{**c, "sop_candidate": c["code"] in candidates} for c in this_causes],
            "last_week": last_causes,
            "pareto_by_count": pareto(this_causes, "cases"),
            "pareto_by_amount": pareto(this_causes, "amount_minor"),
            "week_over_week": week_over_week(this_causes, last_causes),
            "sop_threshold": sop_threshold,
            "sop_candidates": candidates,
        },
        "kpis": [
            {"kpi": label, "this_week": _pick(this_kpis, path), "last_week": _pick(last_kpis, path)}
            for label, path in KPI_TABLE
        ],
        "escalations_by_cause": this_kpis["cases"]["escalations_by_cause"],
    }


def review_csv(review: dict[str, Any]) -> str:
    """One table: section, item, this week, last week (and the SOP flag for root causes).

    Codes and causes are text people typed; the writer keeps them from running as
    formulas, and numbers go in as numbers so a negative change stays summable."""
    out = io.StringIO()
    writer = FormulaSafeWriter(out, lineterminator="\n")
    writer.writerow(["section", "item", "this_week", "last_week", "sop_candidate"])
    for row in review["kpis"]:
        writer.writerow(["kpi", row["kpi"], row["this_week"], row["last_week"], ""])
    causes = review["root_causes"]
    for row in causes["week_over_week"]:
        flag = "yes" if row["code"] in causes["sop_candidates"] else "no"
        writer.writerow(
            ["root_cause_cases", row["code"], row["cases_this_week"], row["cases_last_week"], flag]
        )
        writer.writerow(
            [
                "root_cause_amount_minor",
                row["code"],
                row["amount_this_week_minor"],
                row["amount_last_week_minor"],
                flag,
            ]
        )
    for key in ("past_due", "over_60", "total"):
        change = review["aging_trend"][key]
        writer.writerow(
            [
                f"aging_{key}_minor",
                review["currency"],
                change["this_period_minor"],
                change["last_period_minor"],
                "",
            ]
        )
    for cause, counts in review["escalations_by_cause"].items():
        writer.writerow(
            ["escalations", cause, counts["this_period"], counts["previous_period"], ""]
        )
    return out.getvalue()


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kpi_rows(review: dict[str, Any]) -> list[list[Any]]:
    currency = review["currency"]
    rows = []
    for k in review["kpis"]:
        if k["kpi"] in MONEY_KPIS:
            rows.append(
                [
                    k["kpi"].replace(" (minor units)", ""),
                    format_money(k["this_week"], currency),
                    format_money(k["last_week"], currency),
                ]
            )
        else:
            rows.append([k["kpi"], k["this_week"], k["last_week"]])
    return rows


def _escalation_rows(review: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            ESCALATION_CAUSES.get(cause, cause),
            c["this_period"],
            c["previous_period"],
            f"{c['change']:+d}",
            "" if c["change_pct"] is None else f"{c['change_pct']:+.2f}%",
        ]
        for cause, c in review["escalations_by_cause"].items()
    ]


def _aging_rows(review: dict[str, Any]) -> list[list[Any]]:
    currency, trend = review["currency"], review["aging_trend"]
    rows = []
    for key, label in AGING_CHANGES.items():
        c = trend[key]
        reduction = c["reduction_pct"]
        rows.append(
            [
                label,
                format_money(c["this_period_minor"], currency),
                format_money(c["last_period_minor"], currency),
                format_money(c["change_minor"], currency),
                "" if reduction is None else f"{reduction:.2f}%",
            ]
        )
    return rows


def review_html(review: dict[str, Any]) -> str:
    """A self-contained page: the charts are inline PNGs, so it can be mailed or archived.
    Amounts are shown as money in the review's currency, never as minor units."""
    images = "".join(
        f'<figure><img alt="{name}" src="data:image/png;base64,'
        f'{base64.b64encode(charts.render(name, review)).decode()}"></figure>'
        for name in charts.CHARTS
    )
    causes = review["root_causes"]
    currency = review["currency"]
    cause_rows = [
        [
            c["code"],
            c["name"],
            c["cases"],
            format_money(c["amount_minor"], currency),
            "SOP candidate" if c["sop_candidate"] else "",
        ]
        for c in causes["this_week"]
    ]
    title = html.escape(f"Weekly review {review['week']} ({currency})")
    aging = _table(
        ["Balance", "This week", "Last week", "Change", "Reduction"], _aging_rows(review)
    )
    escalations = _table(
        ["Cause", "This week", "Last week", "Change", "Change %"], _escalation_rows(review)
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}"
        "img{max-width:100%}</style></head><body>"
        f"<h1>{title}</h1><p>{review['period']['start']} to {review['period']['end']}</p>"
        f"<h2>KPIs</h2>{_table(['KPI', 'This week', 'Last week'], _kpi_rows(review))}"
        f"<h2>Aging change</h2>{aging}<h2>Escalations by cause</h2>{escalations}"
        f"<h2>Root causes (SOP threshold {causes['sop_threshold']})</h2>"
        f"{_table(['Code', 'Category', 'Cases', 'Amount', 'Flag'], cause_rows)}"
        f"<h2>Charts</h2>{images}</body></html>"
    )
