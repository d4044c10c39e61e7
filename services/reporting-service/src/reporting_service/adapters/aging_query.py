"""AR aging as of any date, computed in SQL from the read model.

Open balance as of D = total + balance changes effective by D (DESIGN.md
section 6); only invoices issued by D with a positive open balance count.
Buckets come from the domain definition and are turned into a CASE here so
PostgreSQL aggregates without shipping every invoice to Python.
"""

from __future__ import annotations

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
    currency = "currency"


@dataclass(frozen=True)
class AgingFilter:
    as_of: date
    account_id: UUID | None = None
    currency: str | None = None


_GROUP_COLUMNS = {
    GroupBy.invoice: ["invoice_id", "account_id", "external_id", "due_date"],
    GroupBy.account: ["account_id"],
    GroupBy.currency: [],
}


def _bucket_case(all_buckets: list[Bucket]) -> str:
    arms = []
    for index, bucket in enumerate(all_buckets):
        if bucket.upper is None:
            arms.append(f"ELSE {index}")
        else:
            arms.append(f"WHEN days_past_due <= {int(bucket.upper)} THEN {index}")
    return "CASE " + " ".join(arms) + " END"


def _sql(group_by: GroupBy, all_buckets: list[Bucket]) -> str:
    group_cols = _GROUP_COLUMNS[group_by]
    select_cols = ", ".join([*group_cols, "currency"])
    sums = ", ".join(
        f"sum(open_minor) FILTER (WHERE bucket = {i}) AS b{i}" for i in range(len(all_buckets)))
    # only column names and integer bounds are interpolated, never input text
    return f"""
    WITH open_invoices AS (
        SELECT i.invoice_id, i.account_id, i.external_id, i.currency, i.due_date,
               i.total_minor + coalesce(sum(c.amount_minor), 0) AS open_minor,
               ($1::date - i.due_date) AS days_past_due
        FROM ar_invoices i
        LEFT JOIN ar_balance_changes c
               ON c.invoice_id = i.invoice_id AND c.effective_date <= $1::date
        WHERE i.issue_date <= $1::date
          AND ($2::uuid IS NULL OR i.account_id = $2::uuid)
          AND ($3::text IS NULL OR i.currency = $3::text)
        GROUP BY i.invoice_id
    ), bucketed AS (
        SELECT *, {_bucket_case(all_buckets)} AS bucket
        FROM open_invoices WHERE open_minor > 0
    )
    SELECT {select_cols}, sum(open_minor) AS total_minor, count(*) AS invoices, {sums}
    FROM bucketed
    GROUP BY {select_cols}
    ORDER BY {select_cols}
    """  # noqa: S608


async def aging(conn: asyncpg.Connection, flt: AgingFilter, group_by: GroupBy,
                all_buckets: list[Bucket]) -> list[dict[str, Any]]:
    rows = await conn.fetch(_sql(group_by, all_buckets), flt.as_of, flt.account_id, flt.currency)
    result = []
    for row in rows:
        item: dict[str, Any] = {col: row[col] for col in _GROUP_COLUMNS[group_by]}
        item["currency"] = row["currency"]
        item["total_minor"] = int(row["total_minor"])
        item["invoices"] = int(row["invoices"])
        item["buckets"] = {b.key: int(row[f"b{i}"] or 0) for i, b in enumerate(all_buckets)}
        result.append(item)
    return result
