"""The rows the API answers with: every read the routes make, and the one get-by-id-or-404.

Routes never hold SQL; what they show is read here, so a change of table is
one module's change.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from collections_service.domain.refusals import not_found


async def one(
    conn: asyncpg.Connection, sql: str, *args: Any, what: str, field: str | None
) -> asyncpg.Record:
    """The one row `sql` finds, or a not-found refusal naming `what` and the `field` at fault."""
    row = await conn.fetchrow(sql, *args)
    if row is None:
        raise not_found(f"no {what}", field=field)
    return row


async def autopay_offer(conn: asyncpg.Connection, offer_id: UUID) -> asyncpg.Record:
    return await one(
        conn,
        "SELECT * FROM autopay_offers WHERE offer_id = $1",
        offer_id,
        what=f"auto-pay offer {offer_id}",
        field="offer_id",
    )


async def portfolio_rule(conn: asyncpg.Connection, rule_id: UUID) -> asyncpg.Record:
    return await one(
        conn,
        "SELECT * FROM portfolio_rules WHERE rule_id = $1",
        rule_id,
        what=f"portfolio rule {rule_id}",
        field="rule_id",
    )


_TASK = (
    "SELECT t.*, a.name AS account_name FROM tasks t JOIN accounts a USING (account_id) "
    "WHERE task_id = $1"
)

_WORKLIST = """
WITH listed AS MATERIALIZED (
  SELECT t.*, a.name AS account_name FROM tasks t JOIN accounts a USING (account_id)
  WHERE t.collector_id IS NOT DISTINCT FROM $1 AND t.status = 'open' AND t.due_on <= $2
)
SELECT n.total, page.* FROM (SELECT count(*) AS total FROM listed) n
LEFT JOIN LATERAL (
  SELECT * FROM listed
  ORDER BY priority_score DESC, amount_past_due_minor DESC, account_id, task_id
  LIMIT $3 OFFSET $4
) page ON true
ORDER BY page.priority_score DESC, page.amount_past_due_minor DESC, page.account_id,
  page.task_id
"""


async def task(
    conn: asyncpg.Connection, task_id: UUID, *, field: str | None = "path.task_id"
) -> asyncpg.Record:
    return await one(conn, _TASK, task_id, what=f"task {task_id}", field=field)


async def worklist(
    conn: asyncpg.Connection,
    collector_id: str | None,
    day: date,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[asyncpg.Record], int]:
    """A page of the worklist in its stable order (all of it when `limit` is None) and how
    many tasks the whole list has, in one statement: the count row comes back even for a
    page past the end, so a pager always knows where the list stops."""
    rows = await conn.fetch(_WORKLIST, collector_id, day, limit, offset)
    return [r for r in rows if r["task_id"] is not None], rows[0]["total"]


async def hold(
    conn: asyncpg.Connection, hold_id: UUID, *, field: str | None = "path.hold_id"
) -> asyncpg.Record:
    return await one(
        conn, "SELECT * FROM holds WHERE hold_id = $1", hold_id, what=f"hold {hold_id}", field=field
    )


async def holds_of(conn: asyncpg.Connection, account_id: UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT * FROM holds WHERE account_id = $1 ORDER BY placed_on DESC, hold_id DESC",
            account_id,
        )
    )


async def contact(conn: asyncpg.Connection, contact_id: UUID) -> asyncpg.Record:
    return await one(
        conn,
        "SELECT * FROM contacts WHERE contact_id = $1",
        contact_id,
        what=f"contact {contact_id}",
        field="path.contact_id",
    )


async def contacts_of(conn: asyncpg.Connection, account_id: UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT * FROM contacts WHERE account_id = $1 "
            "ORDER BY attempted_at DESC, contact_id DESC",
            account_id,
        )
    )


async def commitment(
    conn: asyncpg.Connection, commitment_id: UUID, *, field: str | None = "commitment_id"
) -> asyncpg.Record:
    return await one(
        conn,
        "SELECT * FROM commitments WHERE commitment_id = $1",
        commitment_id,
        what=f"commitment {commitment_id}",
        field=field,
    )


async def commitments_of(conn: asyncpg.Connection, account_id: UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT * FROM commitments WHERE account_id = $1 "
            "ORDER BY made_on DESC, commitment_id DESC",
            account_id,
        )
    )


async def current_policies(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT DISTINCT ON (policy_id) * FROM cadence_policies "
            "ORDER BY policy_id, version DESC"
        )
    )


async def policy_version(conn: asyncpg.Connection, policy_id: UUID, version: int) -> asyncpg.Record:
    return await one(
        conn,
        "SELECT * FROM cadence_policies WHERE policy_id = $1 AND version = $2",
        policy_id,
        version,
        what=f"version {version} of policy {policy_id}",
        field="query.version",
    )


async def portfolio_rules(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch("SELECT * FROM portfolio_rules ORDER BY rank, created_at"))


async def notes_of(conn: asyncpg.Connection, account_id: UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT * FROM account_notes WHERE account_id = $1 "
            "ORDER BY created_at DESC, note_id DESC",
            account_id,
        )
    )


async def open_commitments(
    conn: asyncpg.Connection,
    collector_id: str,
    due_before: date | None,
    after: tuple[date | None, UUID | None],
    limit: int,
) -> list[asyncpg.Record]:
    """A collector's open promises by promised date, after the (date, id) key of a page."""
    day, commitment_id = after
    return list(
        await conn.fetch(
            "SELECT * FROM commitments WHERE collector_id = $1 AND status = 'open' "
            "AND ($2::date IS NULL OR promised_date < $2) "
            "AND ($3::date IS NULL OR (promised_date, commitment_id) > ($3, $4)) "
            "ORDER BY promised_date, commitment_id LIMIT $5",
            collector_id,
            due_before,
            day,
            commitment_id,
            limit,
        )
    )


_BRIEFS = """
SELECT a.account_id, a.contacts, a.preferred_channel, a.contact_hours, a.language, a.tags,
  (SELECT to_jsonb(c) FROM (SELECT channel, outcome, attempted_at, business_date, notes
                            FROM contacts WHERE account_id = a.account_id
                            ORDER BY attempted_at DESC, contact_id DESC LIMIT 1) c
  ) AS last_contact,
  (SELECT coalesce(jsonb_agg(p ORDER BY p.promised_date, p.commitment_id), '[]')
   FROM (SELECT commitment_id, amount_minor, currency, promised_date, deadline, invoice_ids
         FROM commitments WHERE account_id = a.account_id AND status = 'open') p
  ) AS open_promises,
  (SELECT coalesce(jsonb_agg(i ORDER BY i.due_date, i.invoice_id), '[]')
   FROM (SELECT invoice_id, external_id, next_due_date AS due_date, balance_minor, currency
         FROM invoice_balances WHERE account_id = a.account_id AND balance_minor > 0
           AND closed IS NULL) i
  ) AS invoices
FROM accounts a WHERE a.account_id = ANY ($1::uuid[])
"""


async def account_briefs(
    conn: asyncpg.Connection, account_ids: list[UUID]
) -> dict[UUID, asyncpg.Record]:
    """What a collector needs before calling, per account: who to ask for and how, the last
    contact, open promises and the open invoices (one query for a whole worklist)."""
    rows = await conn.fetch(_BRIEFS, list(set(account_ids)))
    return {r["account_id"]: r for r in rows}


_AUTOPAY_CANDIDATES = """
SELECT a.account_id, a.name, a.collector_id, count(DISTINCT l.invoice_id) AS late_payments
FROM accounts a
JOIN invoice_ledger l ON l.account_id = a.account_id AND l.entry_key LIKE 'applied:%'
JOIN invoices i ON i.invoice_id = l.invoice_id AND l.effective_on > i.due_date
WHERE NOT a.autopay AND l.effective_on > $1 AND ($2::text IS NULL OR a.collector_id = $2)
GROUP BY a.account_id
HAVING count(DISTINCT l.invoice_id) >= $3
"""
_AUTOPAY_PAGE = f"""
SELECT * FROM ({_AUTOPAY_CANDIDATES}) c
WHERE $4::int IS NULL OR c.late_payments < $4 OR (c.late_payments = $4 AND c.account_id > $5)
ORDER BY c.late_payments DESC, c.account_id
LIMIT $6
"""  # noqa: S608 - a constant query inside a constant query


async def autopay_candidates(
    conn: asyncpg.Connection,
    *,
    since: date,
    min_late_payments: int,
    collector_id: str | None,
    after: tuple[int, UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Accounts not on auto-pay that paid `min_late_payments` invoices late after `since`,
    most late payments first, after the cursor `after`."""
    late, account_id = after or (None, None)
    return list(
        await conn.fetch(
            _AUTOPAY_PAGE, since, collector_id, min_late_payments, late, account_id, limit
        )
    )
