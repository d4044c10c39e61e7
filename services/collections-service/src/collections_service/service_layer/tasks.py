"""Tasks: scheduling one from a plan or a broken promise, completing, carrying over, cancelling."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from uuid import UUID

import asyncpg

from collections_service.adapters import queries, streams
from collections_service.adapters.projections import project
from collections_service.domain import tasks as task_domain
from collections_service.domain.cadence import AccountSituation, TaskPlan
from collections_service.domain.calendar import BusinessCalendar
from collections_service.domain.priority import PriorityInputs, priority_score
from collections_service.domain.refusals import conflict, not_found
from collections_service.domain.tasks import HandSet, Task, TaskStatus
from collections_service.service_layer import SYSTEM, lock_account
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import (
    AccountEscalated,
    CadenceStepRef,
    Channel,
    TaskCancellation,
    TaskKind,
    TaskOutcome,
    TaskScheduled,
)
from receivables_platform.domain import fold
from receivables_platform.ids import new_id
from receivables_platform.repository import Loaded


async def _save(conn: asyncpg.Connection, task_id: UUID, account_id: UUID, version: int,
                events: list[EventContract], correlation_id: str | None) -> int:
    recorded = await streams.append(conn, streams.stream("task", task_id), account_id, events,
                                    expected_version=version, correlation_id=correlation_id)
    await project(conn, recorded)
    return recorded[-1].version if recorded else version


async def schedule_plan(conn: asyncpg.Connection, plan: TaskPlan, situation: AccountSituation,
                        policy_id: UUID, policy_version: int, calendar: BusinessCalendar, *,
                        supervisor_id: str | None = None,
                        correlation_id: str | None = None) -> UUID:
    """The plan becomes a task; its steps are marked fired; an escalating step escalates the
    account to `supervisor_id` (unless an escalation of it is still open)."""
    task_id = new_id()
    lead = plan.lead
    event = TaskScheduled(
        task_id=task_id, account_id=plan.account_id, collector_id=situation.collector_id,
        kind=TaskKind.CADENCE, business_date=plan.business_date, channel=lead.channel,
        template=lead.template, escalates=any(s.step.escalates for s in plan.steps),
        steps=[CadenceStepRef(policy_id=policy_id, policy_version=policy_version,
                              step_id=s.step.step_id, offset_days=s.step.offset_days,
                              channel=s.step.channel, template=s.step.template,
                              escalates=s.step.escalates, invoice_ids=list(s.invoice_ids))
               for s in plan.steps],
        invoice_ids=list(plan.invoice_ids), amount_past_due_minor=plan.amount_past_due_minor,
        currency=situation.currency, days_past_due=plan.days_past_due,
        priority_score=plan.priority_score)
    await _save(conn, task_id, plan.account_id, 0, [event], correlation_id)
    due = {i.invoice_id: i.due_date for i in situation.invoices}
    await conn.executemany(
        "INSERT INTO cadence_fired (invoice_id, step_id, policy_id, account_id, task_id, "
        "fired_on, due_date) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [(invoice_id, s.step.step_id, policy_id, plan.account_id, task_id, plan.business_date,
          due[invoice_id]) for s in plan.steps for invoice_id in s.invoice_ids])
    if event.escalates and await queries.open_escalation(conn, plan.account_id) is None:
        await escalate(conn, Escalation(
            account_id=plan.account_id, by=None, supervisor_id=supervisor_id,
            reason=f"cadence step {lead.step_id} escalates", today=plan.business_date,
            task_id=task_id, template=lead.template), calendar, correlation_id=correlation_id)
    return task_id


async def schedule_follow_up(conn: asyncpg.Connection, situation: AccountSituation,
                             commitment_id: UUID, business_date: date, *,
                             correlation_id: str | None = None) -> UUID:
    """A call the next business day after a promise was broken or only partly kept."""
    overdue = situation.overdue(business_date)
    amount = sum(i.past_due_minor(business_date) for i in overdue)
    days = max(((business_date - i.due_date).days for i in overdue), default=0)
    task_id = new_id()
    event = TaskScheduled(
        task_id=task_id, account_id=situation.account_id, collector_id=situation.collector_id,
        kind=TaskKind.COMMITMENT_FOLLOW_UP, business_date=business_date, channel=Channel.CALL,
        template=None, escalates=False, steps=[],
        invoice_ids=[i.invoice_id for i in situation.in_cadence()],
        amount_past_due_minor=amount, currency=situation.currency, days_past_due=days,
        priority_score=priority_score(PriorityInputs(
            amount, days, situation.broken_commitments + 1, True)),
        commitment_id=commitment_id)
    await _save(conn, task_id, situation.account_id, 0, [event], correlation_id)
    return task_id


HAND_SET = frozenset({TaskKind.FOLLOW_UP, TaskKind.ESCALATION})


async def load(conn: asyncpg.Connection, task_id: UUID) -> Loaded[Task]:
    loaded = await streams.tasks.load(conn, task_id)
    if loaded.version == 0:
        raise not_found(f"no task {task_id}", field="task_id")
    return loaded


async def _locked(conn: asyncpg.Connection, task_id: UUID,
                  check: Callable[[int], object] | None) -> tuple[UUID, Loaded[Task]]:
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


async def complete(conn: asyncpg.Connection, task_id: UUID, completion: Completion, *,
                   check: Callable[[int], object] | None = None,
                   correlation_id: str | None = None) -> int:
    """Complete the task; `check(version)` is the caller's If-Match. Returns the new version."""
    async with conn.transaction():
        account_id, loaded = await _locked(conn, task_id, check)
        events = task_domain.complete(
            loaded.state, by=completion.by, may_act_for_others=completion.may_act_for_others,
            outcome=completion.outcome, today=completion.today, now=completion.now,
            contact_id=completion.contact_id, notes=completion.notes)
        return await _save(conn, task_id, account_id, loaded.version, events, correlation_id)


async def carry_over(conn: asyncpg.Connection, task_id: UUID, today: date, *,
                     correlation_id: str | None = None) -> str | None:
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
        covered = set(await conn.fetchval("SELECT invoice_ids FROM tasks WHERE task_id = $1",
                                          task_id))
        reason = moot(task, situation, covered, today)
        events = (task_domain.cancel(task, reason=reason, today=today) if reason
                  else task_domain.miss(task, carried_over_to=today))
        await _save(conn, task_id, account_id, loaded.version, events, correlation_id)
        return "cancelled" if reason else "missed"


def moot(task: Task, situation: AccountSituation, covered: set[UUID],
         today: date) -> TaskCancellation | None:
    """Why an open task no longer needs doing, if it does not.

    A cadence task is about the invoices it covered; a follow-up about the whole account.
    One a person set stays until done while anything is owed.
    """
    owed = {i.invoice_id for i in situation.invoices if i.balance_minor > 0}
    if task.kind in HAND_SET:
        return None if owed else TaskCancellation.NOTHING_OVERDUE
    relevant = owed if task.kind is TaskKind.COMMITMENT_FOLLOW_UP else owed & covered
    if not relevant:
        return TaskCancellation.NOTHING_OVERDUE
    if not relevant & {i.invoice_id for i in situation.in_cadence()}:
        return TaskCancellation.ON_HOLD
    paused = situation.paused_until is not None and today <= situation.paused_until
    unpaused = {i.invoice_id for i in situation.unpaused(today)}
    if task.kind is TaskKind.CADENCE and (paused or not relevant & unpaused):
        return TaskCancellation.COMMITMENT_OPEN
    return None


async def supersede(conn: asyncpg.Connection, account_id: UUID, today: date, *,
                    correlation_id: str | None = None) -> int:
    """Open cadence tasks of earlier days give way to today's consolidated one."""
    rows = await conn.fetch("SELECT task_id FROM tasks WHERE account_id = $1 AND status = 'open' "
                            "AND kind = 'cadence' AND business_date < $2", account_id, today)
    for row in rows:
        loaded = await load(conn, row["task_id"])
        events = task_domain.cancel(loaded.state, reason=TaskCancellation.SUPERSEDED, today=today)
        await _save(conn, row["task_id"], account_id, loaded.version, events, correlation_id)
    return len(rows)


async def set_by_hand(conn: asyncpg.Connection, account_id: UUID, new: HandSet, *,
                      today: date, calendar: BusinessCalendar,
                      correlation_id: str | None = None) -> UUID:
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


async def amend(conn: asyncpg.Connection, task_id: UUID, amendment: Amendment,
                calendar: BusinessCalendar, *, check: Callable[[int], object] | None = None,
                correlation_id: str | None = None) -> int:
    """Reschedule (or snooze) and hand over in one write; returns the task's new version."""
    async with conn.transaction():
        account_id, loaded = await _locked(conn, task_id, check)
        task, events = loaded.state, []
        due_on = amendment.due_on
        if amendment.snooze_days is not None and task.due_on is not None:
            due_on = calendar.add_business_days(max(amendment.today, task.due_on),
                                                amendment.snooze_days)
        if due_on is not None:
            events += task_domain.reschedule(
                task, due_on=due_on,
                due_at=task_domain.due_moment(due_on, amendment.due_time, amendment.zone),
                snoozed=amendment.snooze_days is not None, by=amendment.by,
                may_act_for_others=amendment.may_act_for_others, today=amendment.today,
                calendar=calendar, note=amendment.note)
            task = fold(task_domain.evolve, task, events)
        if amendment.assignee is not None:
            events += task_domain.hand_over(task, to=amendment.assignee, by=amendment.by,
                                            may_act_for_others=amendment.may_act_for_others,
                                            today=amendment.today)
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


async def escalate(conn: asyncpg.Connection, escalation: Escalation, calendar: BusinessCalendar,
                   *, correlation_id: str | None = None) -> UUID:
    """The account goes to a supervisor: an escalation task on their worklist (or the
    unassigned one, when no supervisor is named) and `account.escalated`. One open
    escalation per account: a second is refused while the first is open."""
    async with conn.transaction():
        await lock_account(conn, escalation.account_id)
        return await _escalate(conn, escalation, calendar, correlation_id)


async def _escalate(conn: asyncpg.Connection, escalation: Escalation, calendar: BusinessCalendar,
                    correlation_id: str | None) -> UUID:
    account_id = escalation.account_id
    open_one = await queries.open_escalation(conn, account_id)
    if open_one is not None:
        raise conflict(f"the account is already escalated (task {open_one} is open)",
                       field="account_id", title="Already escalated")
    situation = await queries.situation(conn, account_id, escalation.today)
    supervisor_task = new_id()
    events = task_domain.set_by_hand(
        HandSet(task_id=supervisor_task, kind=TaskKind.ESCALATION, channel=Channel.CALL,
                due_on=calendar.on_or_after(escalation.today),
                assignee=escalation.supervisor_id, by=escalation.by or SYSTEM,
                note=escalation.reason),
        situation, today=escalation.today, calendar=calendar)
    await _save(conn, supervisor_task, account_id, 0, events, correlation_id)
    recorded = await streams.append(
        conn, streams.stream("account", account_id), account_id,
        [AccountEscalated(account_id=account_id, collector_id=situation.collector_id,
                          task_id=escalation.task_id, template=escalation.template,
                          reason=escalation.reason, escalated_on=escalation.today,
                          escalated_by=escalation.by, supervisor_task_id=supervisor_task)],
        correlation_id=correlation_id)
    await project(conn, recorded)
    return supervisor_task
