"""Tasks: scheduling one from a plan or a broken promise, completing, carrying over, cancelling."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import partial
from uuid import UUID

import asyncpg

from collections_service.adapters import queries, streams
from collections_service.adapters.projections import project
from collections_service.domain import account as account_domain
from collections_service.domain import tasks as task_domain
from collections_service.domain.account import Escalate
from collections_service.domain.cadence import AccountSituation, TaskPlan
from collections_service.domain.calendar import BusinessCalendar
from collections_service.domain.refusals import not_found
from collections_service.domain.tasks import HandSet, Task, TaskStatus
from collections_service.service_layer import SYSTEM, accounts, lock_account
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import (
    Channel,
    TaskCancellation,
    TaskCancelled,
    TaskKind,
    TaskOutcome,
)
from receivables_platform.domain import fold
from receivables_platform.ids import new_id
from receivables_platform.repository import Loaded


async def _save(
    conn: asyncpg.Connection,
    task_id: UUID,
    account_id: UUID,
    version: int,
    events: list[EventContract],
    correlation_id: str | None,
) -> int:
    recorded = await streams.append(
        conn,
        streams.stream("task", task_id),
        account_id,
        events,
        expected_version=version,
        correlation_id=correlation_id,
    )
    await project(conn, recorded)
    return recorded[-1].version if recorded else version


async def schedule_plan(
    conn: asyncpg.Connection,
    plan: TaskPlan,
    situation: AccountSituation,
    policy_id: UUID,
    policy_version: int,
    calendar: BusinessCalendar,
    *,
    supervisor_id: str | None = None,
    correlation_id: str | None = None,
) -> UUID:
    """The plan becomes a task; its steps are marked fired; an escalating step escalates the
    account to `supervisor_id` (unless an escalation of it is still open)."""
    task_id = new_id()
    events = task_domain.schedule_plan(
        task_id, plan, situation, policy_id=policy_id, policy_version=policy_version
    )
    await _save(conn, task_id, plan.account_id, 0, events, correlation_id)
    await queries.mark_fired(
        conn,
        plan,
        policy_id=policy_id,
        task_id=task_id,
        due_dates={i.invoice_id: i.due_date for i in situation.invoices},
    )
    lead = plan.lead
    if (
        any(s.step.escalates for s in plan.steps)
        and await queries.open_escalation(conn, plan.account_id) is None
    ):
        await escalate(
            conn,
            Escalation(
                account_id=plan.account_id,
                by=None,
                supervisor_id=supervisor_id,
                reason=f"cadence step {lead.step_id} escalates",
                today=plan.business_date,
                task_id=task_id,
                template=lead.template,
            ),
            calendar,
            correlation_id=correlation_id,
        )
    return task_id


async def schedule_follow_up(
    conn: asyncpg.Connection,
    situation: AccountSituation,
    commitment_id: UUID,
    business_date: date,
    *,
    task_id: UUID | None = None,
    correlation_id: str | None = None,
) -> UUID:
    """A call the next business day after a promise was broken or only partly kept; the
    promise's verdict names `task_id`."""
    task_id = task_id or new_id()
    events = task_domain.follow_up(task_id, situation, commitment_id, business_date)
    await _save(conn, task_id, situation.account_id, 0, events, correlation_id)
    return task_id


async def load(conn: asyncpg.Connection, task_id: UUID) -> Loaded[Task]:
    loaded = await streams.tasks.load(conn, task_id)
    if loaded.version == 0:
        raise not_found(f"no task {task_id}", field="task_id")
    return loaded


async def _locked(
    conn: asyncpg.Connection, task_id: UUID, check: Callable[[int], object] | None
) -> tuple[UUID, Loaded[Task]]:
    """The task under its account's lock, at the version the caller's If-Match names."""
    account_id = await queries.task_account(conn, task_id)
    if account_id is None:
        raise not_found(f"no task {task_id}", field="task_id")
    await lock_account(conn, account_id)
    loaded = await load(conn, task_id)
    if check is not None:
        check(loaded.version)
    return account_id, loaded


@dataclass(frozen=True)
class Completion:
    by: str
    may_act_for_others: bool
    outcome: TaskOutcome
    today: date
    now: datetime
    contact_id: UUID | None = None
    notes: str | None = None


async def complete(
    conn: asyncpg.Connection,
    task_id: UUID,
    completion: Completion,
    *,
    check: Callable[[int], object] | None = None,
    correlation_id: str | None = None,
) -> int:
    """Complete the task; `check(version)` is the caller's If-Match. Returns the new version."""
    async with conn.transaction():
        account_id, loaded = await _locked(conn, task_id, check)
        events = task_domain.complete(
            loaded.state,
            by=completion.by,
            may_act_for_others=completion.may_act_for_others,
            outcome=completion.outcome,
            today=completion.today,
            now=completion.now,
            contact_id=completion.contact_id,
            notes=completion.notes,
        )
        return await _save(conn, task_id, account_id, loaded.version, events, correlation_id)


async def carry_over(
    conn: asyncpg.Connection, task_id: UUID, today: date, *, correlation_id: str | None = None
) -> str | None:
    """An open task from an earlier day: missed and due today, or cancelled if moot."""
    async with conn.transaction():
        account_id = await queries.task_account(conn, task_id)
        assert account_id is not None
        await lock_account(conn, account_id)
        loaded = await load(conn, task_id)
        task = loaded.state
        if task.status is not TaskStatus.OPEN or task.due_on is None or task.due_on >= today:
            return None
        situation = await queries.situation(conn, account_id, today)
        events = task_domain.carry_over(task, situation, today)
        await _save(conn, task_id, account_id, loaded.version, events, correlation_id)
        return "cancelled" if any(isinstance(e, TaskCancelled) for e in events) else "missed"


async def supersede(
    conn: asyncpg.Connection, account_id: UUID, today: date, *, correlation_id: str | None = None
) -> int:
    """Open cadence tasks of earlier days give way to today's consolidated one."""
    task_ids = await queries.open_cadence_tasks_before(conn, account_id, today)
    for task_id in task_ids:
        loaded = await load(conn, task_id)
        events = task_domain.cancel(loaded.state, reason=TaskCancellation.SUPERSEDED, today=today)
        await _save(conn, task_id, account_id, loaded.version, events, correlation_id)
    return len(task_ids)


async def set_by_hand(
    conn: asyncpg.Connection,
    account_id: UUID,
    new: HandSet,
    *,
    today: date,
    calendar: BusinessCalendar,
    correlation_id: str | None = None,
) -> UUID:
    """A follow-up a collector sets ("call back Thursday 10:00"), priced like the cadence's."""
    async with conn.transaction():
        await lock_account(conn, account_id)
        situation = await queries.situation(conn, account_id, today)
        events = task_domain.set_by_hand(new, situation, today=today, calendar=calendar)
        await _save(conn, new.task_id, account_id, 0, events, correlation_id)
        return new.task_id


@dataclass(frozen=True)
class Amendment:
    """What a PATCH asks of a task: another due date or time, a snooze, another collector."""

    by: str
    may_act_for_others: bool
    today: date
    zone: str
    due_on: date | None = None
    due_time: time | None = None
    snooze_days: int | None = None
    assignee: str | None = None
    note: str | None = None


async def amend(
    conn: asyncpg.Connection,
    task_id: UUID,
    amendment: Amendment,
    calendar: BusinessCalendar,
    *,
    check: Callable[[int], object] | None = None,
    correlation_id: str | None = None,
) -> int:
    """Reschedule (or snooze) and hand over in one write; returns the task's new version."""
    async with conn.transaction():
        account_id, loaded = await _locked(conn, task_id, check)
        task, events = loaded.state, []
        due_on = amendment.due_on
        if amendment.snooze_days is not None and task.due_on is not None:
            due_on = calendar.add_business_days(
                max(amendment.today, task.due_on), amendment.snooze_days
            )
        if due_on is not None:
            events += task_domain.reschedule(
                task,
                due_on=due_on,
                due_at=task_domain.due_moment(due_on, amendment.due_time, amendment.zone),
                snoozed=amendment.snooze_days is not None,
                by=amendment.by,
                may_act_for_others=amendment.may_act_for_others,
                today=amendment.today,
                calendar=calendar,
                note=amendment.note,
            )
            task = fold(task_domain.evolve, task, events)
        if amendment.assignee is not None:
            events += task_domain.hand_over(
                task,
                to=amendment.assignee,
                by=amendment.by,
                may_act_for_others=amendment.may_act_for_others,
                today=amendment.today,
            )
        return await _save(conn, task_id, account_id, loaded.version, events, correlation_id)


@dataclass(frozen=True)
class Escalation:
    account_id: UUID
    by: str | None
    supervisor_id: str | None
    reason: str
    today: date
    task_id: UUID | None = None
    template: str | None = None


async def escalate(
    conn: asyncpg.Connection,
    escalation: Escalation,
    calendar: BusinessCalendar,
    *,
    correlation_id: str | None = None,
) -> UUID:
    """The account goes to a supervisor: an escalation task on their worklist (or the
    unassigned one, when no supervisor is named) and `account.escalated`. One open
    escalation per account: a second is refused while the first is open."""
    async with conn.transaction():
        await lock_account(conn, escalation.account_id)
        return await _escalate(conn, escalation, calendar, correlation_id)


async def _escalate(
    conn: asyncpg.Connection,
    escalation: Escalation,
    calendar: BusinessCalendar,
    correlation_id: str | None,
) -> UUID:
    account_id = escalation.account_id
    account_domain.check_escalation(await queries.open_escalation(conn, account_id))
    situation = await queries.situation(conn, account_id, escalation.today)
    supervisor_task = new_id()
    events = task_domain.set_by_hand(
        HandSet(
            task_id=supervisor_task,
            kind=TaskKind.ESCALATION,
            channel=Channel.CALL,
            due_on=calendar.on_or_after(escalation.today),
            assignee=escalation.supervisor_id,
            by=escalation.by or SYSTEM,
            note=escalation.reason,
        ),
        situation,
        today=escalation.today,
        calendar=calendar,
    )
    await _save(conn, supervisor_task, account_id, 0, events, correlation_id)
    await accounts.decide(
        conn,
        account_id,
        partial(
            account_domain.escalate,
            Escalate(
                account_id=account_id,
                reason=escalation.reason,
                today=escalation.today,
                supervisor_task_id=supervisor_task,
                by=escalation.by,
                task_id=escalation.task_id,
                template=escalation.template,
            ),
        ),
        correlation_id=correlation_id,
    )
    return supervisor_task
