"""Promises to pay: taken by a collector, judged from billing's payments and the calendar.

`evaluate` runs after every payment event for the account (a promise can be
kept the moment the money is applied) and in the daily run (a deadline that
passed without it makes the promise partially kept or broken, which brings a
follow-up call the next business day and marks the account at risk).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

import asyncpg

from collections_service.adapters import queries, reads, streams
from collections_service.adapters.projections import project, project_commitment_made
from collections_service.domain import commitments as commitment_rules
from collections_service.domain.calendar import BusinessCalendar
from collections_service.domain.commitments import MakeCommitment, deadline
from collections_service.service_layer import lock_account, risk
from collections_service.service_layer.tasks import schedule_follow_up
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import Channel, RiskClearance
from receivables_platform.ids import new_id


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


async def make(
    conn: asyncpg.Connection,
    new: NewCommitment,
    calendar: BusinessCalendar,
    *,
    by: str,
    today: date,
    now: datetime,
    default_grace: int,
    correlation_id: str | None = None,
) -> UUID:
    command = MakeCommitment(
        commitment_id=new_id(),
        account_id=new.account_id,
        by=by,
        amount_minor=new.amount_minor,
        promised_date=new.promised_date,
        grace_days=default_grace if new.grace_days is None else new.grace_days,
        channel=new.channel,
        today=today,
        now=now,
        invoice_ids=new.invoice_ids,
        currency=new.currency,
        contact_id=new.contact_id,
        instalments=new.instalments,
    )
    commitment_rules.check_make(command)
    async with conn.transaction():
        await lock_account(conn, new.account_id)
        account = await queries.account_row(conn, new.account_id)
        owed = {r["invoice_id"] for r in await queries.open_invoices(conn, new.account_id)}
        made = await streams.commitments.execute(
            conn,
            command.commitment_id,
            lambda _: commitment_rules.make(
                command, account_currency=account["currency"], open_invoices=owed
            ),
            subject=lambda _: str(new.account_id),
            correlation_id=correlation_id,
        )
        await project_commitment_made(conn, made.history, deadline(made.state.promise(), calendar))
        return command.commitment_id


async def evaluate(
    conn: asyncpg.Connection,
    account_id: UUID,
    today: date,
    calendar: BusinessCalendar,
    *,
    final: bool,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> list[EventContract]:
    """Judge the account's open promises; only the daily run (`final`) may call one broken.

    Runs in the caller's transaction, with the account locked by the caller.
    """
    judged: list[EventContract] = []
    for commitment_id in await queries.open_commitments(conn, account_id):
        loaded = await streams.commitments.load(conn, commitment_id, history=False)
        promise = loaded.state
        payments = await queries.payments_towards(
            conn, account_id, promise.made_on, promise.invoice_ids
        )
        follow_up = new_id()
        judgement = commitment_rules.judge_commitment(
            promise, payments, today, calendar, final=final, follow_up_task_id=follow_up
        )
        if not judgement.events:
            continue
        if judgement.failed is not None:
            situation = await queries.situation(conn, account_id, today)
            await schedule_follow_up(
                conn,
                situation,
                commitment_id,
                calendar.on_or_after(today),
                task_id=follow_up,
                correlation_id=correlation_id,
            )
        recorded = await streams.commitments.save(
            conn,
            commitment_id,
            loaded.version,
            judgement.events,
            subject=str(account_id),
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        await project(conn, recorded)
        if judgement.kept:
            await risk.clear(
                conn,
                account_id,
                RiskClearance.COMMITMENT_KEPT,
                today,
                commitment_id=commitment_id,
                correlation_id=correlation_id,
                causation_id=causation_id,
            )
        if judgement.failed is not None:
            await risk.mark(
                conn,
                account_id,
                judgement.failed,
                today,
                collector_id=promise.collector_id,
                commitment_id=commitment_id,
                correlation_id=correlation_id,
            )
        if judgement.kept or judgement.failed is not None:
            judged.append(judgement.events[-1])
    return judged


async def get(conn: asyncpg.Connection, commitment_id: UUID) -> asyncpg.Record:
    return await reads.commitment(conn, commitment_id)


async def cancel(
    conn: asyncpg.Connection,
    commitment_id: UUID,
    *,
    by: str,
    reason: str,
    today: date,
    check: Callable[[int], object] | None = None,
    correlation_id: str | None = None,
) -> int:
    async with conn.transaction():
        row = await get(conn, commitment_id)
        await lock_account(conn, row["account_id"])
        loaded = await streams.commitments.load(conn, commitment_id)
        if check is not None:
            check(loaded.version)
        events = commitment_rules.cancel(loaded.state, by=by, reason=reason, today=today)
        recorded = await streams.append(
            conn,
            streams.stream("commitment", commitment_id),
            row["account_id"],
            events,
            expected_version=loaded.version,
            correlation_id=correlation_id,
        )
        await project(conn, recorded)
        return recorded[-1].version
