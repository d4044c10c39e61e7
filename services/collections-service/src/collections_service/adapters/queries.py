"""Reads the use cases decide on: an account's situation, its policy, what already fired."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from uuid import UUID

import asyncpg

from collections_service.adapters.reads import one
from collections_service.domain.cadence import (
    AccountSituation,
    OpenInvoice,
    Policy,
    Step,
    TaskPlan,
)
from collections_service.domain.commitments import Payment
from collections_service.domain.dunning import CatchUp
from receivables_platform.contracts.collections import Channel
from receivables_platform.money import NO_CURRENCY

BROKEN_LOOKBACK = timedelta(days=180)

_OPEN_INVOICES = """
SELECT b.invoice_id, b.external_id, b.next_due_date AS due_date, b.balance_minor, b.currency,
       b.open_instalments,
       EXISTS (SELECT 1 FROM holds h WHERE h.account_id = b.account_id
               AND h.released_on IS NULL AND b.invoice_id = ANY (h.invoice_ids)) AS held,
       (SELECT max(c.deadline) FROM commitments c WHERE c.account_id = b.account_id
        AND c.status = 'open' AND b.invoice_id = ANY (c.invoice_ids)) AS paused_until
FROM invoice_balances b
WHERE b.account_id = $1 AND b.balance_minor > 0 AND b.closed IS NULL
ORDER BY b.next_due_date, b.invoice_id
"""


async def account_row(
    conn: asyncpg.Connection, account_id: UUID, *, field: str = "account_id"
) -> asyncpg.Record:
    return await one(
        conn,
        "SELECT * FROM accounts WHERE account_id = $1",
        account_id,
        what=f"account {account_id} (not yet seen from billing)",
        field=field,
    )


async def open_invoices(conn: asyncpg.Connection, account_id: UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(_OPEN_INVOICES, account_id))


def account_currency(account: asyncpg.Record, invoices: list[asyncpg.Record]) -> str:
    """Billing's account currency, else its invoices' (events arrive in any order), else
    ISO 4217's "no currency" for an account billing has not described, with no invoices."""
    return account["currency"] or (invoices[0]["currency"] if invoices else NO_CURRENCY)


async def situation(conn: asyncpg.Connection, account_id: UUID, today: date) -> AccountSituation:
    account = await account_row(conn, account_id)
    invoices = await open_invoices(conn, account_id)
    paused_until = await conn.fetchval(
        "SELECT max(deadline) FROM commitments WHERE account_id = $1 AND status = 'open' "
        "AND cardinality(invoice_ids) = 0",
        account_id,
    )
    broken = await conn.fetchval(
        "SELECT count(*) FROM commitments WHERE account_id = $1 AND status = 'broken' "
        "AND judged_on >= $2",
        account_id,
        today - BROKEN_LOOKBACK,
    )
    return AccountSituation(
        account_id=account_id,
        currency=account_currency(account, invoices),
        collector_id=account["collector_id"],
        invoices=tuple(open_invoice(r) for r in invoices),
        paused_until=paused_until,
        at_risk=account["at_risk_since"] is not None,
        broken_commitments=int(broken),
    )


def open_invoice(row: asyncpg.Record) -> OpenInvoice:
    """A row of `open_invoices` as the domain reads it, with its open instalments."""
    return OpenInvoice(
        row["invoice_id"],
        row["due_date"],
        row["balance_minor"],
        row["held"],
        row["paused_until"],
        tuple(
            (date.fromisoformat(str(i["due_date"])), int(str(i["open_minor"])))
            for i in row["open_instalments"]
        ),
    )


async def accounts_with_open_invoices(conn: asyncpg.Connection) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT DISTINCT account_id FROM invoice_balances "
        "WHERE balance_minor > 0 AND closed IS NULL ORDER BY account_id"
    )
    return [r["account_id"] for r in rows]


def policy_of(row: asyncpg.Record) -> Policy:
    steps = row["steps"]
    return Policy(
        row["policy_id"],
        row["version"],
        row["segment"],
        row["name"],
        tuple(
            Step(
                s["step_id"], s["offset_days"], Channel(s["channel"]), s["template"], s["escalates"]
            )
            for s in steps
        ),
        CatchUp(row["catch_up"]),
    )


async def policy_for_segment(conn: asyncpg.Connection, segment: str | None) -> Policy | None:
    """The newest version of the segment's policy, else of the default (segment-less) one."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (policy_id) * FROM cadence_policies "
        "WHERE segment IS NOT DISTINCT FROM $1 OR segment IS NULL "
        "ORDER BY policy_id, version DESC",
        segment,
    )
    chosen = sorted(rows, key=lambda r: r["segment"] is None)
    return policy_of(chosen[0]) if chosen else None


async def fired_steps(
    conn: asyncpg.Connection, account_id: UUID, policy_id: UUID
) -> set[tuple[UUID, str]]:
    """The steps that fired for each invoice's current due date (its oldest open
    instalment's): once that is paid, the next instalment's cadence starts afresh."""
    rows = await conn.fetch(
        "SELECT f.invoice_id, f.step_id FROM cadence_fired f "
        "JOIN invoice_balances b USING (invoice_id) "
        "WHERE f.account_id = $1 AND f.policy_id = $2 "
        "AND f.due_date = b.next_due_date",
        account_id,
        policy_id,
    )
    return {(r["invoice_id"], r["step_id"]) for r in rows}


async def portfolio(
    conn: asyncpg.Connection, collector_id: str, after: tuple[str | None, UUID | None], limit: int
) -> list[asyncpg.Record]:
    """A collector's accounts by name (unnamed first), after the (name, id) key of a page."""
    name, account_id = after
    return list(
        await conn.fetch(
            "SELECT a.account_id, a.name, a.segment, a.currency, "
            "coalesce(b.open_balance_minor, 0) AS open_balance_minor FROM accounts a "
            "LEFT JOIN account_balances b USING (account_id) WHERE a.collector_id = $1 "
            "AND ($2::text IS NULL OR (coalesce(a.name, ''), a.account_id) > ($2, $3)) "
            "ORDER BY coalesce(a.name, ''), a.account_id LIMIT $4",
            collector_id,
            name,
            account_id,
            limit,
        )
    )


async def task_account(conn: asyncpg.Connection, task_id: UUID) -> UUID | None:
    """The account a task is about, to lock before loading the task."""
    account_id: UUID | None = await conn.fetchval(
        "SELECT account_id FROM tasks WHERE task_id = $1", task_id
    )
    return account_id


async def open_escalation(conn: asyncpg.Connection, account_id: UUID) -> UUID | None:
    task_id: UUID | None = await conn.fetchval(
        "SELECT task_id FROM tasks WHERE account_id = $1 AND kind = 'escalation' "
        "AND status = 'open'",
        account_id,
    )
    return task_id


async def accounts_with_promises_to_judge(conn: asyncpg.Connection, today: date) -> list[UUID]:
    """Accounts with an open promise past its deadline, or a plan (an instalment may be)."""
    rows = await conn.fetch(
        "SELECT DISTINCT account_id FROM commitments WHERE status = 'open' "
        "AND (deadline < $1 OR instalments <> '[]') ORDER BY account_id",
        today,
    )
    return [r["account_id"] for r in rows]


async def invoices_of_account(conn: asyncpg.Connection, account_id: UUID) -> set[UUID]:
    """Every invoice the account has, open or not: what a hold may name."""
    rows = await conn.fetch("SELECT invoice_id FROM invoices WHERE account_id = $1", account_id)
    return {row["invoice_id"] for row in rows}


async def hold_account(
    conn: asyncpg.Connection, hold_id: UUID, *, field: str | None = "hold_id"
) -> UUID:
    """Whose hold it is: the stream a release is decided on."""
    row = await one(
        conn,
        "SELECT account_id FROM holds WHERE hold_id = $1",
        hold_id,
        what=f"hold {hold_id}",
        field=field,
    )
    account_id: UUID = row["account_id"]
    return account_id


async def accounts_held_for_case(conn: asyncpg.Connection, case_id: str) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT DISTINCT account_id FROM holds WHERE case_id = $1 "
        "AND released_on IS NULL ORDER BY account_id",
        case_id,
    )
    return [row["account_id"] for row in rows]


async def expired_holds(conn: asyncpg.Connection, today: date) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT hold_id FROM holds WHERE released_on IS NULL "
        "AND ends_on IS NOT NULL AND ends_on <= $1",
        today,
    )
    return [row["hold_id"] for row in rows]


async def past_due_minor(conn: asyncpg.Connection, account_id: UUID, today: date) -> int:
    """What the account owes from before today, by billing's view."""
    total = await conn.fetchval(
        "SELECT coalesce(sum(balance_minor), 0) FROM invoice_balances WHERE account_id = $1 "
        "AND closed IS NULL AND next_due_date < $2",
        account_id,
        today,
    )
    return int(total)


async def unconverted_offers(conn: asyncpg.Connection, account_id: UUID) -> list[UUID]:
    """The account's auto-pay offers an enrolment could still be credited to."""
    rows = await conn.fetch(
        "SELECT offer_id FROM autopay_offers WHERE account_id = $1 "
        "AND converted_on IS NULL ORDER BY offered_on, offer_id",
        account_id,
    )
    return [row["offer_id"] for row in rows]


_PAYMENTS_TOWARDS = """
SELECT effective_on, -amount_minor AS paid FROM invoice_ledger
WHERE account_id = $1 AND (entry_key LIKE 'applied:%' OR entry_key LIKE 'reversed:%')
  AND effective_on >= $2 AND (cardinality($3::uuid[]) = 0 OR invoice_id = ANY ($3::uuid[]))
"""


async def payments_towards(
    conn: asyncpg.Connection, account_id: UUID, made_on: date, invoice_ids: Sequence[UUID]
) -> list[Payment]:
    """Money applied (or reversed) since a promise was made, on the invoices it names (none
    named: the account's)."""
    rows = await conn.fetch(_PAYMENTS_TOWARDS, account_id, made_on, list(invoice_ids))
    return [Payment(r["effective_on"], r["paid"]) for r in rows]


async def open_commitments(conn: asyncpg.Connection, account_id: UUID) -> list[UUID]:
    """The account's promises not judged yet, oldest first (the order they are judged in)."""
    rows = await conn.fetch(
        "SELECT commitment_id FROM commitments WHERE account_id = $1 "
        "AND status = 'open' ORDER BY made_on, commitment_id",
        account_id,
    )
    return [row["commitment_id"] for row in rows]


async def external_ids(conn: asyncpg.Connection, account_id: UUID) -> dict[UUID, str | None]:
    """Billing's numbers for the account's invoices: what a statement calls them."""
    rows = await conn.fetch(
        "SELECT invoice_id, external_id FROM invoices WHERE account_id = $1", account_id
    )
    return {r["invoice_id"]: r["external_id"] for r in rows}


async def mark_fired(
    conn: asyncpg.Connection,
    plan: TaskPlan,
    *,
    policy_id: UUID,
    task_id: UUID,
    due_dates: Mapping[UUID, date],
) -> None:
    """Each step of the plan fired for each invoice on the due date it counted from: it never
    fires again for that due date (the next instalment falling overdue starts it anew)."""
    await conn.executemany(
        "INSERT INTO cadence_fired (invoice_id, step_id, policy_id, account_id, task_id, "
        "fired_on, due_date) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [
            (
                invoice_id,
                s.step.step_id,
                policy_id,
                plan.account_id,
                task_id,
                plan.business_date,
                due_dates[invoice_id],
            )
            for s in plan.steps
            for invoice_id in s.invoice_ids
        ],
    )


async def open_cadence_tasks_before(
    conn: asyncpg.Connection, account_id: UUID, day: date
) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT task_id FROM tasks WHERE account_id = $1 AND status = 'open' "
        "AND kind = 'cadence' AND business_date < $2",
        account_id,
        day,
    )
    return [row["task_id"] for row in rows]


async def open_tasks_due_before(conn: asyncpg.Connection, day: date) -> list[UUID]:
    """Open tasks whose day has passed: the day's run carries each over or lets it go."""
    rows = await conn.fetch(
        "SELECT task_id FROM tasks WHERE status = 'open' AND due_on < $1 ORDER BY due_on, task_id",
        day,
    )
    return [row["task_id"] for row in rows]


async def cadence_task_on(conn: asyncpg.Connection, account_id: UUID, day: date) -> bool:
    """Whether the account has its cadence task for `day` already (one a day at most)."""
    taken = await conn.fetchval(
        "SELECT 1 FROM tasks WHERE account_id = $1 AND kind = 'cadence' AND business_date = $2",
        account_id,
        day,
    )
    return taken is not None
