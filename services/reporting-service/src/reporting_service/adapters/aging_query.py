"""AR aging as of any date, computed in SQL from the read model.

Open balance as of D = total + balance changes effective by D (DESIGN.md
section 6); only invoices issued by D with a positive open balance count.
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
           ca.collector_id, ct.team, a.segment,
           i.total_minor + coalesce(sum(c.amount_minor), 0) AS open_minor,
           ($1::date - i.due_date) AS days_past_due
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

_FLAG_SQL = """
    SELECT o.*,
           EXISTS (SELECT 1 FROM ar_invoice_flags f
                   WHERE f.invoice_id = o.invoice_id AND f.flag = 'hold'
                     AND f.since_date <= $1::date
                     AND (f.until_date IS NULL OR f.until_date > $1::date)) AS on_hold,
           EXISTS (SELECT 1 FROM ar_invoice_flags f
                   WHERE f.invoice_id = o.invoice_id AND f.flag = 'dispute'
                     AND f.since_date <= $1::date
                     AND (f.until_date IS NULL OR f.until_date > $1::date)) AS in_dispute
    FROM open_invoices o WHERE o.open_minor > 0
"""


def flagged_sql() -> str:
    """Open invoices of the `open_invoices` CTE with their hold and dispute flags as of $1."""
    return _FLAG_SQL


def _sql(group_by: GroupBy, all_buckets: list[Bucket], page: Page) -> str:
    group_cols = _GROUP_COLUMNS[group_by]
    select_cols = ", ".join([*group_cols, "currency"])
    sums = ", ".join(
        f"sum(open_minor) FILTER (WHERE bucket = {i}) AS b{i}" for i in range(len(all_buckets)))
    having = limit = ""
    if group_by in _KEY_COLUMN and page.after is not None:
        key, cast = _KEY_COLUMN[group_by]
        having = f"HAVING ({key}, currency) > ($7::{cast}, $8::text)"
    if page.limit is not None:
        limit = f"LIMIT {int(page.limit)}"
    # only column names and integer bounds are interpolated, never input text
    return f"""
    WITH open_invoices AS ({OPEN_INVOICES_SQL}),
    flagged AS ({flagged_sql()}),
    bucketed AS MATERIALIZED (SELECT *, {bucket_case(all_buckets)} AS bucket FROM flagged)
    SELECT {select_cols}, sum(open_minor) AS total_minor, count(*) AS invoices, {sums},
           coalesce(sum(open_minor) FILTER (WHERE on_hold), 0) AS on_hold_minor,
           coalesce(sum(open_minor) FILTER (WHERE in_dispute), 0) AS in_dispute_minor,
           count(*) FILTER (WHERE on_hold) AS on_hold_invoices,
           count(*) FILTER (WHERE in_dispute) AS in_dispute_invoices
    FROM bucketed
    GROUP BY {select_cols}
    {having}
    ORDER BY {select_cols}
    {limit}
    """  # noqa: S608


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


async def aging(conn: asyncpg.Connection, flt: AgingFilter, group_by: GroupBy,
                all_buckets: list[Bucket], page: Page | None = None) -> list[dict[str, Any]]:
    page = page or Page()
    args: list[Any] = [flt.as_of, flt.account_id, flt.currency, flt.collector_id, flt.segment,
                       flt.team]
    if group_by in _KEY_COLUMN and page.after is not None:
        args.extend(_decode_cursor(page.after))
    rows = await conn.fetch(_sql(group_by, all_buckets, page), *args)
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
