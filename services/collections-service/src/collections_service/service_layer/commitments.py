"""Promises to pay: taken by a collector, judged from billing's payments and the calendar.

`evaluate` runs after every payment event for the account (a promise can be
kept the moment the money is applied) and in the daily run (a deadline that
passed without it makes the promise partially kept or broken, which brings a
follow-up call the next business day and marks the account at risk).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

import asyncpg

from collections_service.adapters import queries, reads, streams
from collections_service.adapters.projections import project
from collections_service.domain import commitments as commitment_rules
from collections_service.domain.calendar import BusinessCalendar
from collections_service.domain.commitments import (
    Broken,
    InstalmentVerdict,
    Kept,
    PartiallyKept,
    Payment,
    Promise,
    Verdict,
    check_new,
    check_plan,
    deadline,
    judge,
    judge_plan,
)
from collections_service.service_layer import lock_account, risk
from collections_service.service_layer.tasks import schedule_follow_up
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import (
    Channel,
    CommitmentBroken,
    CommitmentInstalmentJudged,
    CommitmentKept,
    CommitmentMade,
    CommitmentPartiallyKept,
    Instalment,
    RiskClearance,
    RiskReason,
)
from receivables_platform.domain import Refused
from receivables_platform.ids import new_id

_PAYMENTS = """
SELECT effective_on, -amount_minor AS paid FROM invoice_ledger
WHERE account_id = $1 AND (entry_key LIKE 'applied:%' OR entry_key LIKE 'reversed:%')
  AND effective_on >= $2 AND (cardinality($3::uuid[]) = 0 OR invoice_id = ANY ($3::uuid[]))
"""


@dataclass(frozen=True)
class NewCommitment:
    account_id: UUID
    amount_minor: int
    promised_date: date
    channel: Channel
    invoice_ids: tuple[UUID, ...] = ()
    grace_days: int | None = None
    currency: str | None = None
    contact_id: UUID | None = None
    instalments: tuple[tuple[date, int], ...] = ()


async def _check_invoices(conn: asyncpg.Connection, account_id: UUID,
                          invoice_ids: Sequence[UUID]) -> None:
    owed = {r["invoice_id"] for r in await queries.open_invoices(conn, account_id)}
    for index, invoice_id in enumerate(invoice_ids):
        if invoice_id not in owed:
            raise Refused(f"invoice {invoice_id} is not an open invoice of this account",
                          field=f"invoice_ids.{index}")


async def make(conn: asyncpg.Connection, new: NewCommitment, calendar: BusinessCalendar, *,
               by: str, today: date, now: datetime, default_grace: int,
               correlation_id: str | None = None) -> UUID:
    grace = default_grace if new.grace_days is None else new.grace_days
    check_new(new.amount_minor, new.promised_date, grace, today)
    check_plan(new.instalments, new.amount_minor, new.promised_date, today)
    async with conn.transaction():
        await lock_account(conn, new.account_id)
        account = await queries.account_row(conn, new.account_id)
        currency = account["currency"]
        if new.currency is not None and currency is not None and new.currency != currency:
            raise Refused(f"the account is billed in {currency}", field="currency")
        await _check_invoices(conn, new.account_id, new.invoice_ids)
        currency = currency or new.currency
        if currency is None:
            raise Refused("the account's currency is not known yet; send it", field="currency")
        commitment_id = new_id()
        event = CommitmentMade(
            commitment_id=commitment_id, account_id=new.account_id, collector_id=by,
            amount_minor=new.amount_minor, currency=currency, promised_date=new.promised_date,
            grace_days=grace, invoice_ids=list(new.invoice_ids), channel=new.channel,
            made_on=today, made_at=now, contact_id=new.contact_id,
            instalments=[Instalment(due_date=d, amount_minor=a) for d, a in new.instalments])
        recorded = await streams.append(conn, streams.stream("commitment", commitment_id),
                                        new.account_id, [event], expected_version=0,
                                        correlation_id=correlation_id)
        promise = Promise(commitment_id, new.amount_minor, new.promised_date, grace, today,
                          new.invoice_ids)
        await conn.execute(
            "INSERT INTO commitments (commitment_id, account_id, collector_id, amount_minor, "
            "currency, promised_date, grace_days, deadline, invoice_ids, channel, made_on, "
            "version, instalments) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
            "$13)",
            commitment_id, new.account_id, by, new.amount_minor, currency, new.promised_date,
            grace, deadline(promise, calendar), list(new.invoice_ids), new.channel.value, today,
            recorded[-1].version, [i.model_dump(mode="json") for i in event.instalments])
        return commitment_id


def _promise(row: asyncpg.Record) -> Promise:
    return Promise(row["commitment_id"], row["amount_minor"], row["promised_date"],
                   row["grace_days"], row["made_on"], tuple(row["invoice_ids"]))


async def payments_towards(conn: asyncpg.Connection, row: asyncpg.Record) -> list[Payment]:
    rows = await conn.fetch(_PAYMENTS, row["account_id"], row["made_on"], row["invoice_ids"])
    return [Payment(r["effective_on"], r["paid"]) for r in rows]


def _judged(row: asyncpg.Record, verdict: Verdict, today: date,
            follow_up: UUID | None) -> EventContract | None:
    common = {"commitment_id": row["commitment_id"], "account_id": row["account_id"],
              "collector_id": row["collector_id"], "amount_minor": row["amount_minor"],
              "currency": row["currency"], "promised_date": row["promised_date"]}
    match verdict:
        case Kept():
            return CommitmentKept(**common, paid_minor=verdict.paid_minor,
                                  kept_on=verdict.kept_on)
        case PartiallyKept():
            return CommitmentPartiallyKept(**common, paid_minor=verdict.paid_minor,
                                           shortfall_minor=verdict.shortfall_minor,
                                           evaluated_on=today, follow_up_task_id=follow_up)
        case Broken():
            return CommitmentBroken(**common, paid_minor=verdict.paid_minor, broken_on=today,
                                    follow_up_task_id=follow_up)
    return None


async def evaluate(conn: asyncpg.Connection, account_id: UUID, today: date,
                   calendar: BusinessCalendar, *, final: bool,
                   correlation_id: str | None = None,
                   causation_id: str | None = None) -> list[EventContract]:
    """Judge the account's open promises; only the daily run (`final`) may call one broken.

    Runs in the caller's transaction, with the account locked by the caller.
    """
    judged: list[EventContract] = []
    rows = await conn.fetch("SELECT * FROM commitments WHERE account_id = $1 AND status = 'open' "
                            "ORDER BY made_on, commitment_id", account_id)
    for row in rows:
        payments = await payments_towards(conn, row)
        verdict = judge(_promise(row), payments, today, calendar)
        steps = _instalments_judged(row, payments, today, calendar, final=final)
        broken = next((v for v in steps if not v.kept), None)
        if broken is not None:
            verdict = (PartiallyKept(broken.paid_minor, row["amount_minor"] - broken.paid_minor)
                       if broken.paid_minor > 0 else Broken(0))
        if not isinstance(verdict, Kept) and not final:
            if steps:
                await _append(conn, row, steps_events(row, steps), correlation_id,
                              causation_id)
            continue
        follow_up = None
        if isinstance(verdict, PartiallyKept | Broken):
            situation = await queries.situation(conn, account_id, today)
            follow_up = await schedule_follow_up(
                conn, situation, row["commitment_id"], calendar.on_or_after(today),
                correlation_id=correlation_id)
        event = _judged(row, verdict, today, follow_up)
        if event is None:
            if steps:
                await _append(conn, row, steps_events(row, steps), correlation_id,
                              causation_id)
            continue
        await _append(conn, row, [*steps_events(row, steps), event], correlation_id,
                      causation_id)
        if isinstance(verdict, Kept):
            await risk.clear(conn, account_id, RiskClearance.COMMITMENT_KEPT, today,
                             commitment_id=row["commitment_id"], correlation_id=correlation_id,
                             causation_id=causation_id)
        if follow_up is not None:
            reason = (RiskReason.COMMITMENT_BROKEN if isinstance(verdict, Broken)
                      else RiskReason.COMMITMENT_PARTIALLY_KEPT)
            await risk.mark(conn, account_id, reason, today, collector_id=row["collector_id"],
                            commitment_id=row["commitment_id"], correlation_id=correlation_id)
        judged.append(event)
    return judged


def _instalments_judged(row: asyncpg.Record, payments: list[Payment], today: date,
                        calendar: BusinessCalendar, *, final: bool) -> list[InstalmentVerdict]:
    """A plan's instalments newly decided: kept as soon as paid, broken only by the daily run."""
    plan = [(date.fromisoformat(i["due_date"]), i["amount_minor"]) for i in row["instalments"]]
    decided = judge_plan(_promise(row), plan, payments, today, calendar)
    return [v for v in decided[row["instalments_judged"]:] if v.kept or final]


def steps_events(row: asyncpg.Record, steps: list[InstalmentVerdict]) -> list[EventContract]:
    return [CommitmentInstalmentJudged(
        commitment_id=row["commitment_id"], account_id=row["account_id"],
        collector_id=row["collector_id"], number=v.number, due_date=v.due_date,
        amount_minor=v.amount_minor, currency=row["currency"], kept=v.kept, paid_minor=v.paid_minor,
        judged_on=v.judged_on) for v in steps]


async def _append(conn: asyncpg.Connection, row: asyncpg.Record, events: list[EventContract],
                  correlation_id: str | None, causation_id: str | None) -> int:
    recorded = await streams.append(conn, streams.stream("commitment", row["commitment_id"]),
                                    row["account_id"], events, expected_version=row["version"],
                                    correlation_id=correlation_id, causation_id=causation_id)
    await project(conn, recorded)
    return recorded[-1].version


async def get(conn: asyncpg.Connection, commitment_id: UUID) -> asyncpg.Record:
    return await reads.commitment(conn, commitment_id)


async def cancel(conn: asyncpg.Connection, commitment_id: UUID, *, by: str, reason: str,
                 today: date, check: Callable[[int], object] | None = None,
                 correlation_id: str | None = None) -> int:
    async with conn.transaction():
        row = await get(conn, commitment_id)
        await lock_account(conn, row["account_id"])
        loaded = await streams.commitments.load(conn, commitment_id)
        if check is not None:
            check(loaded.version)
        events = commitment_rules.cancel(loaded.state, by=by, reason=reason, today=today)
        recorded = await streams.append(conn, streams.stream("commitment", commitment_id),
                                        row["account_id"], events,
                                        expected_version=loaded.version,
                                        correlation_id=correlation_id)
        await project(conn, recorded)
        return recorded[-1].version
