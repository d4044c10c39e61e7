"""The figures behind each KPI, gathered in SQL per collector, team or for everyone.

Each function returns `{group key: figures}`; the formulas live in
`domain.kpis`. A collector's AR is the AR of the accounts assigned to them
now (the assignment is not dated back into the past); tasks, contacts and
promises carry the collector they were credited to when they happened. Money
figures are for one currency. Instants are dated in the team's time zone (TEAM_TIMEZONE).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

import asyncpg

from reporting_service.domain.kpis import ArFigures, Period, PromiseFigures

ALL = "all"


class KpiGroup(StrEnum):
    collector = "collector"
    team = "team"
    all = "all"


def _key(group: KpiGroup, collector_column: str) -> str:
    """SQL for the group key; `ct` is collector_teams joined on that collector column."""
    return {
        KpiGroup.collector: f"coalesce({collector_column}, 'unassigned')",
        KpiGroup.team: "coalesce(ct.team, 'no team')",
        KpiGroup.all: f"'{ALL}'",
    }[group]


def _ar_figures(rows: list[asyncpg.Record]) -> dict[str, ArFigures]:
    return {
        r["key"]: ArFigures(
            int(r["opening_ar"]),
            int(r["credit_sales"]),
            int(r["closing_ar"]),
            int(r["closing_current_ar"]),
        )
        for r in rows
    }


async def ar_figures(
    conn: asyncpg.Connection, period: Period, currency: str, group: KpiGroup
) -> dict[str, ArFigures]:
    """Opening AR is aging as of the day before the period, closing AR (and its current
    part) aging as of its end, both read from the sums kept per collector and due date
    (`ar_aging_by_collector`: the totals over every day, less the sums dated after the
    day); credit sales from the invoice totals kept per collector and issue date
    (`ar_sales_by_collector`). A group appears when it had an invoice issued by the
    period's end, as a scan of the invoices would find it."""
    rows = await conn.fetch(
        f"""
        WITH later AS (
            SELECT collector_id, due_date, effective_date, open_minor
            FROM ar_aging_by_collector
            WHERE currency = $3 AND effective_date >= $1::date
        ), figures AS (
            SELECT collector_id, sum(open_minor) AS opening, sum(open_minor) AS closing,
                   coalesce(sum(open_minor) FILTER (WHERE due_date >= $2::date), 0)
                       AS closing_current,
                   0 AS credit_sales, 0 AS issued
            FROM ar_aging_by_collector_total WHERE currency = $3 GROUP BY collector_id
            UNION ALL
            SELECT collector_id, -sum(open_minor),
                   -coalesce(sum(open_minor) FILTER (WHERE effective_date > $2::date), 0),
                   -coalesce(sum(open_minor) FILTER (WHERE effective_date > $2::date
                                                     AND due_date >= $2::date), 0),
                   0, 0
            FROM later GROUP BY collector_id
            UNION ALL
            SELECT collector_id, 0, 0, 0, 0, invoices
            FROM ar_sales_by_collector_total WHERE currency = $3
            UNION ALL
            SELECT collector_id, 0, 0, 0,
                   coalesce(sum(total_minor) FILTER (WHERE issue_date <= $2::date), 0),
                   -coalesce(sum(invoices) FILTER (WHERE issue_date > $2::date), 0)
            FROM ar_sales_by_collector WHERE currency = $3 AND issue_date >= $1::date
            GROUP BY collector_id
        )
        SELECT {_key(group, "f.collector_id")} AS key,
               sum(opening) AS opening_ar, sum(credit_sales) AS credit_sales,
               sum(closing) AS closing_ar, sum(closing_current) AS closing_current_ar
        FROM figures f LEFT JOIN collector_teams ct ON ct.collector_id = f.collector_id
        GROUP BY 1 HAVING sum(issued) > 0""",  # noqa: S608
        period.start,
        period.end,
        currency,
    )
    return _ar_figures(rows)


async def ar_figures_by_scan(
    conn: asyncpg.Connection, period: Period, currency: str, group: KpiGroup
) -> dict[str, ArFigures]:
    """The same figures computed from every invoice and balance change: what the sums are
    checked against, too slow to serve (seconds at a million invoices)."""
    key = _key(group, "ca.collector_id")
    rows = await conn.fetch(
        f"""
        WITH balances AS (
            SELECT i.invoice_id, i.account_id, i.issue_date, i.due_date, i.total_minor,
                   i.instalments,
                   i.total_minor + coalesce(sum(c.amount_minor)
                       FILTER (WHERE c.effective_date <= $1::date - 1), 0) AS opening,
                   i.total_minor + coalesce(sum(c.amount_minor)
                       FILTER (WHERE c.effective_date <= $2::date), 0) AS closing
            FROM ar_invoices i
            LEFT JOIN ar_balance_changes c ON c.invoice_id = i.invoice_id
            WHERE i.currency = $3 AND i.issue_date <= $2::date
            GROUP BY i.invoice_id
        ), dated AS (
            -- current AR at the close is what aging calls current: of an invoice in
            -- instalments, the open instalments not yet due
            SELECT b.*, CASE WHEN b.closing > 0 THEN (
                       SELECT coalesce(sum(o.open_minor), 0)
                       FROM ar_open_instalments(b.instalments, b.due_date, b.total_minor,
                                                b.closing::bigint) o
                       WHERE o.due_date >= $2::date) ELSE 0 END AS closing_current
            FROM balances b
        )
        SELECT {key} AS key,
               coalesce(sum(opening) FILTER (WHERE issue_date < $1::date AND opening > 0), 0)
                   AS opening_ar,
               coalesce(sum(total_minor) FILTER (WHERE issue_date >= $1::date), 0)
                   AS credit_sales,
               coalesce(sum(closing) FILTER (WHERE closing > 0), 0) AS closing_ar,
               coalesce(sum(closing_current), 0) AS closing_current_ar
        FROM dated b
        LEFT JOIN col_assignments ca ON ca.account_id = b.account_id
        LEFT JOIN collector_teams ct ON ct.collector_id = ca.collector_id
        GROUP BY 1""",  # noqa: S608
        period.start,
        period.end,
        currency,
    )
    return _ar_figures(rows)


@dataclass(frozen=True)
class Counted:
    done: int
    of: int


async def cadence(conn: asyncpg.Connection, period: Period, group: KpiGroup) -> dict[str, Counted]:
    """Task-days due in the period (not cancelled by then) and those done by that day."""
    rows = await conn.fetch(
        f"""
        SELECT {_key(group, "t.collector_id")} AS key, count(*) AS due,
               count(*) FILTER (WHERE t.completed_on <= d.due_date) AS completed
        FROM col_task_due_days d JOIN col_tasks t ON t.task_id = d.task_id
        LEFT JOIN collector_teams ct ON ct.collector_id = t.collector_id
        WHERE d.due_date BETWEEN $1 AND $2
          AND (t.cancelled_on IS NULL OR t.cancelled_on > d.due_date)
        GROUP BY 1""",  # noqa: S608
        period.start,
        period.end,
    )
    return {r["key"]: Counted(r["completed"], r["due"]) for r in rows}


async def promises(
    conn: asyncpg.Connection, period: Period, currency: str, group: KpiGroup
) -> dict[str, PromiseFigures]:
    rows = await conn.fetch(
        f"""
        SELECT {_key(group, "m.collector_id")} AS key,
               count(*) FILTER (WHERE status = 'kept') AS kept,
               count(*) FILTER (WHERE status = 'partially_kept') AS partially_kept,
               count(*) FILTER (WHERE status = 'broken') AS broken,
               coalesce(sum(amount_minor), 0) AS promised, coalesce(sum(paid_minor), 0) AS paid
        FROM col_commitments m
        LEFT JOIN collector_teams ct ON ct.collector_id = m.collector_id
        WHERE m.judged_on BETWEEN $1 AND $2 AND m.currency = $3
          AND m.status IN ('kept', 'partially_kept', 'broken')
        GROUP BY 1""",  # noqa: S608
        period.start,
        period.end,
        currency,
    )
    return {
        r["key"]: PromiseFigures(
            r["kept"], r["partially_kept"], r["broken"], int(r["promised"]), int(r["paid"])
        )
        for r in rows
    }


@dataclass(frozen=True)
class Secured:
    payments: int
    amount_minor: int


KEPT_ATTRIBUTION_WINDOW_DAYS = 14
"""The attribution window whose collector is kept with each payment past due
(`sql/functions/ar_secured_by.sql`): the KPI report's default reads it, any other
window is computed from the period's calls and promises."""


async def collections_secured(
    conn: asyncpg.Connection, period: Period, currency: str, group: KpiGroup, window_days: int
) -> dict[str, Secured]:
    """Payments applied in the period to invoices already past due, within `window_days`
    after a contact or a promise on the account; credited to the latest such touch's
    collector. A payment reversed by the period's end secured nothing. The payments applied
    past due are kept with their invoice's currency (`ar_past_due_payments`), so no
    payment's invoice is looked up here, and who secured each within the default window
    is kept with it (`secured_by`, credited again when an account's calls or promises
    change)."""
    if window_days == KEPT_ATTRIBUTION_WINDOW_DAYS:
        rows = await conn.fetch(
            f"""
            SELECT {_key(group, "c.secured_by")} AS key,
                   count(DISTINCT c.reference_id) AS payments, sum(-c.amount_minor) AS amount
            FROM ar_past_due_payments c
            LEFT JOIN ar_payments p ON p.payment_id = c.reference_id
            LEFT JOIN collector_teams ct ON ct.collector_id = c.secured_by
            WHERE c.currency = $3 AND c.effective_date BETWEEN $1 AND $2 AND c.secured
              AND (p.reversed_on IS NULL OR p.reversed_on > $2)
            GROUP BY 1""",  # noqa: S608
            period.start,
            period.end,
            currency,
        )
    else:
        rows = await _secured_within(conn, period, currency, group, window_days)
    return {r["key"]: Secured(r["payments"], int(r["amount"])) for r in rows}


async def _secured_within(
    conn: asyncpg.Connection, period: Period, currency: str, group: KpiGroup, window_days: int
) -> list[asyncpg.Record]:
    """Payments past due in the period met with the period's calls and promises in one
    join, for a window other than the one kept."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        WITH paid AS (
            SELECT c.event_id, c.invoice_id, c.account_id, c.reference_id, c.amount_minor,
                   c.effective_date
            FROM ar_past_due_payments c
            LEFT JOIN ar_payments p ON p.payment_id = c.reference_id
            WHERE c.currency = $3 AND c.effective_date BETWEEN $1 AND $2
              AND (p.reversed_on IS NULL OR p.reversed_on > $2)
        ), touches AS (
            SELECT account_id, collector_id, business_date AS day FROM col_contacts
            WHERE business_date BETWEEN $1::date - $4::int AND $2
            UNION ALL
            SELECT account_id, collector_id, made_on FROM col_commitments
            WHERE made_on BETWEEN $1::date - $4::int AND $2
        ), credited AS (
            SELECT DISTINCT ON (paid.event_id, paid.invoice_id) paid.reference_id,
                   paid.amount_minor, t.collector_id
            FROM paid JOIN touches t ON t.account_id = paid.account_id
             AND t.day BETWEEN paid.effective_date - $4::int AND paid.effective_date
            ORDER BY paid.event_id, paid.invoice_id, t.day DESC, t.collector_id
        )
        SELECT {_key(group, "c.collector_id")} AS key,
               count(DISTINCT c.reference_id) AS payments, sum(-c.amount_minor) AS amount
        FROM credited c LEFT JOIN collector_teams ct ON ct.collector_id = c.collector_id
        GROUP BY 1""",  # noqa: S608
        period.start,
        period.end,
        currency,
        window_days,
    )
    return rows


async def collections_secured_by_scan(
    conn: asyncpg.Connection, period: Period, currency: str, group: KpiGroup, window_days: int
) -> dict[str, Secured]:
    """The same figures looking every payment's invoice up: what the payments kept past
    due are checked against."""
    rows = await conn.fetch(
        f"""
        SELECT {_key(group, "touch.collector_id")} AS key,
               count(DISTINCT c.reference_id) AS payments, sum(-c.amount_minor) AS amount
        FROM ar_balance_changes c
        JOIN ar_invoices i ON i.invoice_id = c.invoice_id
        LEFT JOIN ar_payments p ON p.payment_id = c.reference_id
        CROSS JOIN LATERAL (
            SELECT collector_id FROM (
                SELECT collector_id, business_date AS day FROM col_contacts
                WHERE account_id = c.account_id
                UNION ALL
                SELECT collector_id, made_on FROM col_commitments
                WHERE account_id = c.account_id AND made_on IS NOT NULL) touches
            WHERE day BETWEEN c.effective_date - $4::int AND c.effective_date
            ORDER BY day DESC, collector_id LIMIT 1) touch
        LEFT JOIN collector_teams ct ON ct.collector_id = touch.collector_id
        WHERE c.kind = 'payment' AND c.effective_date BETWEEN $1 AND $2
          AND i.currency = $3 AND i.due_date < c.effective_date
          AND (p.reversed_on IS NULL OR p.reversed_on > $2)
        GROUP BY 1""",  # noqa: S608
        period.start,
        period.end,
        currency,
        window_days,
    )
    return {r["key"]: Secured(r["payments"], int(r["amount"])) for r in rows}


@dataclass(frozen=True)
class AutoPayFigures:
    not_on_autopay_at_start: int
    enrolled_in_period: int
    on_autopay_at_end: int
    accounts_at_end: int
    offers_converted: int


async def autopay(
    conn: asyncpg.Connection, period: Period, group: KpiGroup
) -> dict[str, AutoPayFigures]:
    """Accounts and those on auto-pay as of a day come from the sums kept per collector
    and day (`ar_autopay_by_collector`); the accounts enrolled in the period that were
    not on auto-pay at its start from the period's enrolments, a few rows. A group
    appears when it has an account, as a scan of the accounts would find it."""
    rows = await conn.fetch(
        f"""
        WITH figures AS (
            SELECT collector_id, sum(accounts) AS accounts,
                   coalesce(sum(on_autopay) FILTER (WHERE day < $1::date), 0) AS at_start,
                   coalesce(sum(on_autopay) FILTER (WHERE day <= $2::date), 0) AS at_end,
                   0 AS enrolled
            FROM ar_autopay_by_collector GROUP BY collector_id
            UNION ALL
            SELECT ca.collector_id, 0, 0, 0, count(*)
            FROM (SELECT DISTINCT h.account_id FROM ar_autopay_history h
                  WHERE h.enrolled AND h.effective_date BETWEEN $1 AND $2) e
            JOIN ar_accounts a ON a.account_id = e.account_id
            LEFT JOIN col_assignments ca ON ca.account_id = e.account_id
            WHERE NOT coalesce((SELECT h.enrolled FROM ar_autopay_history h
                                WHERE h.account_id = e.account_id AND h.effective_date < $1
                                ORDER BY h.effective_date DESC, h.enrolled LIMIT 1), false)
            GROUP BY ca.collector_id
        )
        SELECT {_key(group, "f.collector_id")} AS key,
               sum(accounts) - sum(at_start) AS base, sum(enrolled) AS enrolled,
               sum(at_end) AS on_end, sum(accounts) AS accounts
        FROM figures f LEFT JOIN collector_teams ct ON ct.collector_id = f.collector_id
        GROUP BY 1 HAVING sum(accounts) > 0""",  # noqa: S608
        period.start,
        period.end,
    )
    offers = await _offers_converted(conn, period, group)
    return {
        r["key"]: AutoPayFigures(
            int(r["base"]),
            int(r["enrolled"]),
            int(r["on_end"]),
            int(r["accounts"]),
            offers.get(r["key"], 0),
        )
        for r in rows
    }


async def _offers_converted(
    conn: asyncpg.Connection, period: Period, group: KpiGroup
) -> dict[str, int]:
    converted = await conn.fetch(
        f"""
        SELECT {_key(group, "o.collector_id")} AS key, count(*) AS n
        FROM col_autopay_offers o LEFT JOIN collector_teams ct ON ct.collector_id = o.collector_id
        WHERE o.enrolled_on BETWEEN $1 AND $2 GROUP BY 1""",  # noqa: S608
        period.start,
        period.end,
    )
    return {r["key"]: r["n"] for r in converted}


async def autopay_by_scan(
    conn: asyncpg.Connection, period: Period, group: KpiGroup
) -> dict[str, AutoPayFigures]:
    """The same figures from every account's auto-pay history: what the sums are checked
    against, too slow to serve."""
    rows = await conn.fetch(
        f"""
        WITH status AS (
            SELECT a.account_id, {_key(group, "ca.collector_id")} AS key,
                   coalesce((SELECT h.enrolled FROM ar_autopay_history h
                             WHERE h.account_id = a.account_id
                               AND h.effective_date < $1
                             ORDER BY h.effective_date DESC, h.enrolled LIMIT 1), false)
                       AS at_start,
                   coalesce((SELECT h.enrolled FROM ar_autopay_history h
                             WHERE h.account_id = a.account_id
                               AND h.effective_date <= $2
                             ORDER BY h.effective_date DESC, h.enrolled LIMIT 1), false)
                       AS at_end,
                   EXISTS (SELECT 1 FROM ar_autopay_history h
                           WHERE h.account_id = a.account_id AND h.enrolled
                             AND h.effective_date BETWEEN $1 AND $2) AS enrolled_in_period
            FROM ar_accounts a
            LEFT JOIN col_assignments ca ON ca.account_id = a.account_id
            LEFT JOIN collector_teams ct ON ct.collector_id = ca.collector_id
        )
        SELECT key, count(*) FILTER (WHERE NOT at_start) AS base,
               count(*) FILTER (WHERE NOT at_start AND enrolled_in_period) AS enrolled,
               count(*) FILTER (WHERE at_end) AS on_end, count(*) AS accounts
        FROM status GROUP BY key""",  # noqa: S608
        period.start,
        period.end,
    )
    offers = await _offers_converted(conn, period, group)
    return {
        r["key"]: AutoPayFigures(
            r["base"], r["enrolled"], r["on_end"], r["accounts"], offers.get(r["key"], 0)
        )
        for r in rows
    }


# a case's question is the internal team's to answer: the answer counts for that team (service,
# installation, ...) and the person who gave it, not for the collector of no one
_ANSWER_KEY = {
    KpiGroup.collector: "coalesce(e.collector_id, e.answered_by, 'unanswered')",
    KpiGroup.team: "coalesce(e.team, ct.team, 'no team')",
    KpiGroup.all: f"'{ALL}'",
}


async def follow_up_timeliness(
    conn: asyncpg.Connection, period: Period, group: KpiGroup
) -> dict[str, dict[str, Counted]]:
    """Tasks due in the period (on their first date, or the date they were last rescheduled
    to) done by that day; escalation answers due in the period given by their due date."""
    tasks = await conn.fetch(
        f"""
        SELECT {_key(group, "t.collector_id")} AS key, count(*) AS due,
               count(*) FILTER (WHERE t.completed_on <= coalesce(t.due_on, t.business_date))
                   AS on_time
        FROM col_tasks t LEFT JOIN collector_teams ct ON ct.collector_id = t.collector_id
        WHERE coalesce(t.due_on, t.business_date) BETWEEN $1 AND $2
          AND (t.cancelled_on IS NULL
               OR t.cancelled_on > coalesce(t.due_on, t.business_date))
        GROUP BY 1""",  # noqa: S608
        period.start,
        period.end,
    )
    answers = await conn.fetch(
        f"""
        SELECT {_ANSWER_KEY[group]} AS key, count(*) AS due,
               count(*) FILTER (WHERE e.answered_on <= e.due_date) AS on_time
        FROM escalations e LEFT JOIN collector_teams ct ON ct.collector_id = e.collector_id
        WHERE e.due_date BETWEEN $1 AND $2
        GROUP BY 1""",  # noqa: S608
        period.start,
        period.end,
    )
    result: dict[str, dict[str, Counted]] = defaultdict(dict)
    for kind, rows in (("tasks", tasks), ("escalation_answers", answers)):
        for r in rows:
            result[r["key"]][kind] = Counted(r["on_time"], r["due"])
    return dict(result)


@dataclass(frozen=True)
class CaseFigures:
    opened: int
    closed: int
    investigations_completed: int
    open_over_14_days: int
    resolution_days: list[Fraction]
    documentation_complete: int
    documented_closed: int
    satisfaction: list[int]  # scores given with the confirmations recorded in the period


EMPTY_CASES = CaseFigures(0, 0, 0, 0, [], 0, 0, [])


def _case_key(group: KpiGroup) -> str:
    """A case counts for its owner (the case agent) and the owner's team; `k` is the case."""
    return {
        KpiGroup.collector: "coalesce(k.owner_id, 'unassigned')",
        KpiGroup.team: "coalesce(ct.team, 'no team')",
        KpiGroup.all: f"'{ALL}'",
    }[group]


async def case_figures(
    conn: asyncpg.Connection, period: Period, group: KpiGroup, zone: str
) -> dict[str, CaseFigures]:
    """Cases opened, closed, resolved (investigation completed) in the period; open more than
    14 days at its end; time to resolution of those resolved in it, in days. Instants are
    dated in the team's time zone `zone`."""
    day = "AT TIME ZONE $3)::date"
    key = _case_key(group)
    rows = await conn.fetch(
        f"""
        SELECT {key} AS key,
               count(*) FILTER (WHERE (k.opened_at {day} BETWEEN $1 AND $2) AS opened,
               count(*) FILTER (WHERE (k.closed_at {day} BETWEEN $1 AND $2) AS closed,
               count(*) FILTER (WHERE (k.resolved_at {day} BETWEEN $1 AND $2) AS resolved,
               count(*) FILTER (WHERE (k.opened_at {day} <= $2::date - 14
                                  AND (k.closed_at IS NULL OR (k.closed_at {day} > $2))
                   AS open_over_14,
               count(*) FILTER (WHERE (k.closed_at {day} BETWEEN $1 AND $2
                                  AND k.documentation_complete) AS complete,
               count(*) FILTER (WHERE (k.closed_at {day} BETWEEN $1 AND $2
                                  AND k.documentation_complete IS NOT NULL) AS documented,
               array_agg(extract(epoch FROM k.resolved_at - k.opened_at)::bigint
                         ORDER BY k.resolved_at - k.opened_at)
                   FILTER (WHERE (k.resolved_at {day} BETWEEN $1 AND $2
                             AND k.opened_at IS NOT NULL) AS seconds,
               array_agg(k.satisfaction ORDER BY k.confirmed_at)
                   FILTER (WHERE (k.confirmed_at {day} BETWEEN $1 AND $2
                             AND k.satisfaction IS NOT NULL) AS satisfaction
        FROM cases k LEFT JOIN collector_teams ct ON ct.collector_id = k.owner_id
        GROUP BY 1""",  # noqa: S608
        period.start,
        period.end,
        zone,
    )
    return {
        r["key"]: CaseFigures(
            opened=r["opened"],
            closed=r["closed"],
            investigations_completed=r["resolved"],
            open_over_14_days=r["open_over_14"],
            resolution_days=[Fraction(int(x), 86_400) for x in r["seconds"] or []],
            documentation_complete=r["complete"],
            documented_closed=r["documented"],
            satisfaction=list(r["satisfaction"] or []),
        )
        for r in rows
    }


async def satisfaction_comments(
    conn: asyncpg.Connection, period: Period, zone: str, limit: int = 20
) -> list[dict[str, object]]:
    """The customers' own words, lowest scores first: what a supervisor reads to act on."""
    rows = await conn.fetch(
        """
        SELECT case_id, case_number, owner_id, satisfaction, satisfaction_comment, confirmed_at
        FROM cases
        WHERE (confirmed_at AT TIME ZONE $3)::date BETWEEN $1 AND $2
          AND satisfaction_comment IS NOT NULL
        ORDER BY satisfaction NULLS LAST, confirmed_at DESC LIMIT $4""",
        period.start,
        period.end,
        zone,
        limit,
    )
    return [
        {
            "case_id": r["case_id"],
            "case_number": r["case_number"],
            "owner_id": r["owner_id"],
            "satisfaction": r["satisfaction"],
            "comment": r["satisfaction_comment"],
            "confirmed_at": r["confirmed_at"],
        }
        for r in rows
    ]


@dataclass(frozen=True)
class CauseCounts:
    this_period: int
    previous_period: int


async def escalations_by_cause(
    conn: asyncpg.Connection, period: Period, group: KpiGroup
) -> dict[str, dict[str, CauseCounts]]:
    """Case escalations by cause (delay, documentation gap, other) in the period and in the
    period of the same length before it, per owner or team of the case."""
    previous = period.previous()
    rows = await conn.fetch(
        f"""
        SELECT {_case_key(group)} AS key, coalesce(e.reason, 'other') AS cause,
               count(*) FILTER (WHERE e.escalated_on >= $1) AS now,
               count(*) FILTER (WHERE e.escalated_on < $1) AS before
        FROM escalations e
        LEFT JOIN cases k ON k.case_id = e.case_id
        LEFT JOIN collector_teams ct ON ct.collector_id = k.owner_id
        WHERE e.origin = 'case' AND e.escalated_on BETWEEN $3 AND $2
        GROUP BY 1, 2""",  # noqa: S608
        period.start,
        period.end,
        previous.start,
    )
    result: dict[str, dict[str, CauseCounts]] = defaultdict(dict)
    for r in rows:
        result[r["key"]][r["cause"]] = CauseCounts(r["now"], r["before"])
    return dict(result)


async def escalations_by_origin(conn: asyncpg.Connection, period: Period) -> dict[str, int]:
    """Every escalation of the period by where it came from and what it named: the team a
    case asked (`case:service`) or a collector's reason (`collections:final notice`)."""
    rows = await conn.fetch(
        "SELECT origin || ':' || cause AS cause, count(*) AS n FROM escalations "
        "WHERE escalated_on BETWEEN $1 AND $2 GROUP BY 1 ORDER BY 2 DESC, 1",
        period.start,
        period.end,
    )
    return {r["cause"]: r["n"] for r in rows}


@dataclass(frozen=True)
class CorrectedInvoices:
    code: str
    name: str
    invoices: int
    amount_minor: int


async def billing_accuracy(
    conn: asyncpg.Connection, period: Period, currency: str
) -> tuple[int, int, list[CorrectedInvoices]]:
    """Invoices issued in the period; those of them corrected or credited by a case
    (through billing) by the period's end, in total and by the case's root cause."""
    issued = await conn.fetchval(
        "SELECT count(*) FROM ar_invoices WHERE currency = $1 AND issue_date BETWEEN $2 AND $3",
        currency,
        period.start,
        period.end,
    )
    rows = await conn.fetch(
        """
        SELECT coalesce(k.root_cause_code, 'unidentified') AS code,
               coalesce(max(k.root_cause_name), 'No root cause identified') AS name,
               count(DISTINCT c.invoice_id) AS invoices, sum(c.amount_minor) AS amount
        FROM case_corrections c
        JOIN ar_invoices i ON i.invoice_id = c.invoice_id
        LEFT JOIN cases k ON k.case_id = c.case_id
        WHERE i.currency = $1 AND i.issue_date BETWEEN $2 AND $3 AND c.effective_date <= $3
        GROUP BY 1 ORDER BY 3 DESC, 1""",
        currency,
        period.start,
        period.end,
    )
    corrected = await conn.fetchval(
        """
        SELECT count(DISTINCT c.invoice_id) FROM case_corrections c
        JOIN ar_invoices i ON i.invoice_id = c.invoice_id
        WHERE i.currency = $1 AND i.issue_date BETWEEN $2 AND $3 AND c.effective_date <= $3""",
        currency,
        period.start,
        period.end,
    )
    return (
        issued,
        corrected,
        [CorrectedInvoices(r["code"], r["name"], r["invoices"], int(r["amount"])) for r in rows],
    )
