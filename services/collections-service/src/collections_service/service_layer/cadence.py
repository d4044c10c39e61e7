"""The daily run: everything that happens to the worklist at the start of a business day.

In order: manual holds past their end lift themselves; promises whose
deadline passed are judged; unassigned accounts get a collector by rule;
yesterday's open tasks are counted missed and carried over (or cancelled when
paid, held or promised); then each account with open invoices gets at most
one consolidated task from its segment's policy. Each account is its own
transaction under its lock, and every part is idempotent, so the run can be
repeated (a retry, a second scheduler) for the same day without doubling
anything. One run at a time: a second concurrent call is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg

from collections_service.adapters import queries
from collections_service.domain.cadence import plan_day
from collections_service.domain.refusals import conflict
from collections_service.runtime import Runtime
from collections_service.service_layer import (
    SYSTEM,
    commitments,
    holds,
    lock_account,
    portfolios,
)
from collections_service.service_layer import tasks as task_cases
from receivables_platform.db.locks import one_holder_at_a_time


@dataclass
class RunSummary:
    business_date: date
    business_day: bool
    holds_released: int = 0
    commitments_judged: int = 0
    accounts_assigned: int = 0
    tasks_missed: int = 0
    tasks_cancelled: int = 0
    tasks_scheduled: int = 0


async def run_day(
    pool: asyncpg.Pool, today: date, runtime: Runtime, *, correlation_id: str | None = None
) -> RunSummary:
    async with (
        pool.acquire() as guard,
        one_holder_at_a_time(guard, "collections.daily_run") as ours,
    ):
        if not ours:
            raise conflict(
                "a daily run is already in progress; try again when it ends",
                field=None,
                title="Run in progress",
            )
        async with pool.acquire() as conn:
            return await _run(conn, today, runtime, correlation_id)


async def _run(
    conn: asyncpg.Connection, today: date, runtime: Runtime, correlation_id: str | None
) -> RunSummary:
    calendar = runtime.calendar
    summary = RunSummary(today, calendar.is_business_day(today))
    summary.holds_released = await holds.release_expired(conn, today, correlation_id=correlation_id)
    if not summary.business_day:
        return summary
    for account_id in await queries.accounts_with_promises_to_judge(conn, today):
        async with conn.transaction():
            await lock_account(conn, account_id)
            judged = await commitments.evaluate(
                conn, account_id, today, calendar, final=True, correlation_id=correlation_id
            )
            summary.commitments_judged += len(judged)
    summary.accounts_assigned = await portfolios.apply_rules(
        conn, by=SYSTEM, today=today, correlation_id=correlation_id
    )
    for task_id in await queries.open_tasks_due_before(conn, today):
        outcome = await task_cases.carry_over(conn, task_id, today, correlation_id=correlation_id)
        summary.tasks_missed += outcome == "missed"
        summary.tasks_cancelled += outcome == "cancelled"
    for account_id in await queries.accounts_with_open_invoices(conn):
        summary.tasks_scheduled += await _schedule(conn, account_id, today, runtime, correlation_id)
    return summary


async def _schedule(
    conn: asyncpg.Connection,
    account_id: UUID,
    today: date,
    runtime: Runtime,
    correlation_id: str | None,
) -> int:
    async with conn.transaction():
        await lock_account(conn, account_id)
        account = await queries.account_row(conn, account_id)
        policy = await queries.policy_for_segment(conn, account["segment"])
        if policy is None:
            return 0
        if await queries.cadence_task_on(conn, account_id, today):
            return 0
        situation = await queries.situation(conn, account_id, today)
        fired = await queries.fired_steps(conn, account_id, policy.policy_id)
        plan = plan_day(situation, policy, fired, today, runtime.calendar)
        if plan is None:
            return 0
        await task_cases.supersede(conn, account_id, today, correlation_id=correlation_id)
        await task_cases.schedule_plan(
            conn,
            plan,
            situation,
            policy.policy_id,
            policy.version,
            runtime.calendar,
            supervisor_id=runtime.settings.escalation_supervisor,
            correlation_id=correlation_id,
        )
        return 1
