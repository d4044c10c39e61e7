"""AR aging as of any date, computed in SQL from the read model.

Open balance as of D = total + balance changes effective by D (docs/architecture.md
#metrics); only invoices issued by D with a positive open balance count.
The projection keeps that as dated steps (`sql/functions/ar_aging_restep.sql`),
so aging as of D sums the steps dated by D: per due date for totals by currency,
per invoice or account (with the account's attributes joined) for anything finer.
Buckets come from the domain definition and are turned into a CASE here so
PostgreSQL aggregates without shipping every invoice to Python. Rows are
always per currency: amounts in two currencies are never summed. Invoices on
hold or in dispute as of D stay in their bucket and are counted beside it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

import asyncpg

from reporting_service.domain.aging import Bucket


class GroupBy(StrEnum):
    invoice = "invoice"
    account = "account"
    collector = "collector"
    team = "team"
    segment = "segment"
    currency = "currency"


@dataclass(frozen=True)
class AgingFilter:
    as_of: date
    account_id: UUID | None = None
    currency: str | None = None
    collector_id: str | None = None
    segment: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class Page:
    limit: int | None = None
    after: str | None = None  # opaque cursor from the previous page


class InvalidCursor(ValueError):
    pass


_GROUP_COLUMNS = {
    GroupBy.invoice: ["invoice_id", "account_id", "external_id", "due_date"],
    GroupBy.account: ["account_id"],
    GroupBy.collector: ["collector_id"],
    GroupBy.team: ["team"],
    GroupBy.segment: ["segment"],
    GroupBy.currency: [],
}
# the cursor orders on these (then currency); they identify a row of the group
_KEY_COLUMN = {GroupBy.invoice: ("invoice_id", "uuid"), GroupBy.account: ("account_id", "uuid")}


def bucket_case(all_buckets: list[Bucket]) -> str:
    arms = []
    for index, bucket in enumerate(all_buckets):
        if bucket.upper is None:
            arms.append(f"ELSE {index}")
        else:
            arms.append(f"WHEN days_past_due <= {int(bucket.upper)} THEN {index}")
    return "CASE " + " ".join(arms) + " END"


OPEN_INVOICES_SQL = """
    SELECT i.invoice_id, i.account_id, i.external_id, i.currency, i.due_date,
           ca.collector_id, ct.team, a.segment, i.instalments, i.total_minor,
           i.total_minor + coalesce(sum(c.amount_minor), 0) AS open_minor
    FROM ar_invoices i
    LEFT JOIN ar_accounts a ON a.account_id = i.account_id
    LEFT JOIN col_assignments ca ON ca.account_id = i.account_id
    LEFT JOIN collector_teams ct ON ct.collector_id = ca.collector_id
    LEFT JOIN ar_balance_changes c
           ON c.invoice_id = i.invoice_id AND c.effective_date <= $1::date
    WHERE i.issue_date <= $1::date
      AND ($2::uuid IS NULL OR i.account_id = $2::uuid)
      AND ($3::text IS NULL OR i.currency = $3::text)
      AND ($4::text IS NULL OR ca.collector_id = $4::text)
      AND ($5::text IS NULL OR a.segment = $5::text)
      AND ($6::text IS NULL OR ct.team = $6::text)
    GROUP BY i.invoice_id, a.account_id, ca.account_id, ct.collector_id
"""

# one row per open instalment, aged from its own due date; the invoice counted once, under
# its oldest open instalment (as the aging steps do)
_FLAG_SQL = """
    SELECT o.invoice_id, o.account_id, o.external_id, o.currency, o.collector_id, o.team,
           o.segment, p.open_minor, p.oldest::int AS invoices,
           ($1::date - p.due_date) AS days_past_due,
           EXISTS (SELECT 1 FROM ar_invoice_flags f
                   WHERE f.invoice_id = o.invoice_id AND f.flag = 'hold'
                     AND f.since_date <= $1::date
                     AND (f.until_date IS NULL OR f.until_date > $1::date)) AS on_hold,
           EXISTS (SELECT 1 FROM ar_invoice_flags f
                   WHERE f.invoice_id = o.invoice_id AND f.flag = 'dispute'
                     AND f.since_date <= $1::date
                     AND (f.until_date IS NULL OR f.until_date > $1::date)) AS in_dispute
    FROM open_invoices o
    CROSS JOIN LATERAL ar_open_instalments(o.instalments, o.due_date, o.total_minor,
                                           o.open_minor::bigint) p
    WHERE o.open_minor > 0 AND p.open_minor > 0
"""


def flagged_sql() -> str:
    """The open instalments of the `open_invoices` CTE's invoices, with their days past due
    and the invoice's hold and dispute flags as of $1."""
    return _FLAG_SQL


# where each group and filter comes from: the aging steps `s`, or the account's attributes
_GROUP_EXPRESSIONS = {
    # an invoice in instalments has steps under each due date: one row, its money spread
    # over the buckets, and the invoice's own (last) due date read with its number
    GroupBy.invoice: {"invoice_id": "s.invoice_id", "account_id": "s.account_id"},
    GroupBy.account: {"account_id": "s.account_id"},
    GroupBy.collector: {"collector_id": "ca.collector_id"},
    GroupBy.team: {"team": "ct.team"},
    GroupBy.segment: {"segment": "a.segment"},
    GroupBy.currency: {},
}
_FILTER_EXPRESSIONS = {
    "account_id": ("s.account_id", "uuid"),
    "currency": ("s.currency", "text"),
    "collector_id": ("ca.collector_id", "text"),
    "segment": ("a.segment", "text"),
    "team": ("ct.team", "text"),
}
_ACCOUNT_ATTRIBUTES = """
    LEFT JOIN ar_accounts a ON a.account_id = s.account_id
    LEFT JOIN col_assignments ca ON ca.account_id = s.account_id
    LEFT JOIN collector_teams ct ON ct.collector_id = ca.collector_id"""
_MEASURES = (
    "open_minor",
    "invoices",
    "on_hold_minor",
    "on_hold_invoices",
    "in_dispute_minor",
    "in_dispute_invoices",
)


_BY_SEGMENT = "ar_aging_by_segment s"
_BY_COLLECTOR = "ar_aging_by_collector_book s"
# what the sums per segment or collector carry themselves: no account to join
_OWN = {
    _BY_SEGMENT: {"segment": "s.segment"},
    _BY_COLLECTOR: {"collector_id": "s.collector_id", "team": "ct.team"},
}


def _source(group_by: GroupBy, flt: AgingFilter) -> str:
    """Per-currency totals need only the sums per due date; per segment, collector or team
    (or filtered by one of them) the sums per segment or collector and due date; anything
    finer, or a mix of segment and collector, reads the steps."""
    if flt.account_id is None and group_by not in (GroupBy.invoice, GroupBy.account):
        by_segment = group_by is GroupBy.segment or flt.segment is not None
        by_collector = (
            group_by in (GroupBy.collector, GroupBy.team)
            or flt.collector_id is not None
            or flt.team is not None
        )
        if by_segment and not by_collector:
            return _BY_SEGMENT
        if by_collector and not by_segment:
            return _BY_COLLECTOR
        if not by_segment and not by_collector:
            return "ar_aging_by_due_date s"
        return "ar_aging_steps s" + _ACCOUNT_ATTRIBUTES
    by_attribute = any(getattr(flt, f) is not None for f in ("collector_id", "segment", "team"))
    if by_attribute or group_by in (GroupBy.collector, GroupBy.team, GroupBy.segment):
        return "ar_aging_steps s" + _ACCOUNT_ATTRIBUTES
    return "ar_aging_steps s"


def _query(
    flt: AgingFilter, group_by: GroupBy, all_buckets: list[Bucket], page: Page
) -> tuple[str, list[Any]]:
    """Aging as of $1: the steps dated by then, summed per group and bucket of the due date."""
    source = _source(group_by, flt)
    if source == _BY_COLLECTOR:
        return _by_collector_query(flt, group_by, all_buckets)
    args: list[Any] = [flt.as_of]
    conditions = ["s.effective_date <= $1::date"]
    own = _OWN.get(source, {})
    for field, (expression, cast) in _FILTER_EXPRESSIONS.items():
        if (value := getattr(flt, field)) is not None:
            args.append(value)
            conditions.append(f"{own.get(field, expression)} = ${len(args)}::{cast}")
    groups = {
        name: own.get(name, expression) for name, expression in _GROUP_EXPRESSIONS[group_by].items()
    }
    if group_by in _KEY_COLUMN and page.after is not None:
        key, cast = _KEY_COLUMN[group_by]
        args.extend(_decode_cursor(page.after))
        conditions.append(
            f"({groups[key]}, s.currency) > (${len(args) - 1}::{cast}, ${len(args)}::text)"
        )
    names = [*groups, "currency"]
    keys = [*(f"{e} AS {n}" for n, e in groups.items()), "s.currency"]
    if source.startswith("ar_aging_steps"):  # one row a due date
        picked = ", ".join([*keys, *(f"s.{m}" for m in _MEASURES)])
        per_due_date = ""
    else:  # already summed: sum again per due date first, so each is bucketed once
        picked = ", ".join([*keys, *(f"sum(s.{m}) AS {m}" for m in _MEASURES)])
        per_due_date = "GROUP BY " + ", ".join([*groups.values(), "s.currency", "s.due_date"])
    sums = ", ".join(
        f"sum(open_minor) FILTER (WHERE bucket = {i})::bigint AS b{i}"
        for i in range(len(all_buckets))
    )
    limit = f"LIMIT {int(page.limit)}" if page.limit is not None else ""
    # only column names and integer bounds are interpolated, never input text
    sql = f"""
    SELECT {", ".join(names)}, sum(open_minor)::bigint AS total_minor,
           sum(invoices) AS invoices, {sums},
           sum(on_hold_minor)::bigint AS on_hold_minor,
           sum(in_dispute_minor)::bigint AS in_dispute_minor,
           sum(on_hold_invoices) AS on_hold_invoices,
           sum(in_dispute_invoices) AS in_dispute_invoices
    FROM (SELECT *, {bucket_case(all_buckets)} AS bucket
          FROM (SELECT {picked}, $1::date - s.due_date AS days_past_due
                FROM {source}
                WHERE {" AND ".join(conditions)} {per_due_date}) dated) bucketed
    GROUP BY {", ".join(names)}
    HAVING sum(invoices) > 0
    ORDER BY {", ".join(names)}
    {limit}
    """  # noqa: S608
    if group_by is GroupBy.invoice:  # the billing system's number, for the page's rows only
        sql = f"""SELECT g.*, i.external_id, i.due_date
                  FROM ({sql}) g JOIN ar_invoices i USING (invoice_id)
                  ORDER BY g.invoice_id, g.currency"""  # noqa: S608
    return sql, args


def _by_collector_query(
    flt: AgingFilter, group_by: GroupBy, all_buckets: list[Bucket]
) -> tuple[str, list[Any]]:
    """Aging per collector, team or currency (of one collector or team) as of $1, reading a
    few rows a collector rather than every due date of their book.

    A due date older than $1 less the largest finite bound is in the last bucket whatever
    its day, so due dates are read one by one only from there on. The collector's whole
    book (`ar_aging_by_collector_book`) less the sums dated after $1 is the total as of $1;
    the recent due dates' sums less those dated after $1 are every bucket but the last; the
    last is the rest. Custom bounds only move where "recent" starts: the answer is the same,
    a far bound just reads more due dates. Each part is summed per bucket before the parts
    meet, so the final sums see a few rows a collector.
    """
    last = len(all_buckets) - 1
    uppers = [int(b.upper) for b in all_buckets if b.upper is not None]
    # bucket i holds days past due up to uppers[i]: width_bucket counts the bounds passed
    bucket = (
        f"width_bucket($1::date - due_date, '{{{','.join(str(u + 1) for u in uppers)}}}'::int[])"
    )
    args: list[Any] = [flt.as_of]
    conditions = ["true"]
    for field in ("currency", "collector_id", "team"):
        if (value := getattr(flt, field)) is not None:
            args.append(value)
            conditions.append(
                f"{_OWN[_BY_COLLECTOR].get(field, f's.{field}')} = ${len(args)}::text"
            )
    groups = {name: _OWN[_BY_COLLECTOR][name] for name in _GROUP_EXPRESSIONS[group_by]}
    names = [*groups, "currency"]
    keys = [*(f"{e} AS {n}" for n, e in groups.items()), "s.currency"]
    measures = ", ".join(_MEASURES)
    undone = ", ".join(f"-sum({m})" for m in _MEASURES)
    zeros = ", ".join("0" for _ in _MEASURES)
    sums = ", ".join(
        f"sum(dated_minor) FILTER (WHERE bucket = {i})::bigint AS b{i}" for i in range(last)
    )
    # only column names and integer bounds are interpolated, never input text
    sql = f"""
    SELECT {", ".join(keys)}, sum(s.open_minor)::bigint AS total_minor,
           sum(s.invoices) AS invoices, {sums},
           (sum(s.open_minor)
            - coalesce(sum(dated_minor) FILTER (WHERE bucket < {last}), 0))::bigint AS b{last},
           sum(s.on_hold_minor)::bigint AS on_hold_minor,
           sum(s.in_dispute_minor)::bigint AS in_dispute_minor,
           sum(s.on_hold_invoices) AS on_hold_invoices,
           sum(s.in_dispute_invoices) AS in_dispute_invoices
    FROM (SELECT collector_id, currency, NULL::int AS bucket, 0::bigint AS dated_minor,
                 {measures}
          FROM ar_aging_by_collector_book
          UNION ALL
          SELECT collector_id, currency, {bucket}, sum(open_minor), {zeros}
          FROM ar_aging_by_collector_total WHERE due_date >= $1::date - {max(uppers)}
          GROUP BY 1, 2, 3
          UNION ALL
          SELECT collector_id, currency, {bucket}, -sum(open_minor), {undone}
          FROM ar_aging_by_collector WHERE effective_date > $1::date
          GROUP BY 1, 2, 3) s
    LEFT JOIN collector_teams ct ON ct.collector_id = s.collector_id
    WHERE {" AND ".join(conditions)}
    GROUP BY {", ".join([*groups.values(), "s.currency"])}
    HAVING sum(s.invoices) > 0
    ORDER BY {", ".join(names)}
    """  # noqa: S608
    return sql, args


def encode_cursor(group_by: GroupBy, row: dict[str, Any]) -> str | None:
    if group_by not in _KEY_COLUMN:
        return None
    key = _KEY_COLUMN[group_by][0]
    raw = json.dumps([str(row[key]), row["currency"]]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> tuple[UUID, str]:
    try:
        key, currency = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return UUID(key), str(currency)
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("not a cursor this API returned") from exc


async def aging(
    conn: asyncpg.Connection,
    flt: AgingFilter,
    group_by: GroupBy,
    all_buckets: list[Bucket],
    page: Page | None = None,
) -> list[dict[str, Any]]:
    sql, args = _query(flt, group_by, all_buckets, page or Page())
    rows = await conn.fetch(sql, *args)
    result = []
    for row in rows:
        item: dict[str, Any] = {col: row[col] for col in _GROUP_COLUMNS[group_by]}
        item["currency"] = row["currency"]
        item["total_minor"] = int(row["total_minor"])
        item["invoices"] = int(row["invoices"])
        item["buckets"] = {b.key: int(row[f"b{i}"] or 0) for i, b in enumerate(all_buckets)}
        item["on_hold_minor"] = int(row["on_hold_minor"])
        item["in_dispute_minor"] = int(row["in_dispute_minor"])
        item["on_hold_invoices"] = int(row["on_hold_invoices"])
        item["in_dispute_invoices"] = int(row["in_dispute_invoices"])
        result.append(item)
    return result
