"""A task's life: scheduled for a business day (by the cadence, or by a collector as a
follow-up), maybe rescheduled, snoozed or handed over, then completed, missed (and carried
over) or cancelled. Pure decide/evolve over the task's own stream.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

from collections_service.domain.cadence import AccountSituation, TaskPlan
from collections_service.domain.calendar import BusinessCalendar
from collections_service.domain.priority import PriorityInputs, priority_score
from collections_service.domain.refusals import conflict, forbidden, not_found
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import (
    CadenceStepRef,
    Channel,
    TaskCancellation,
    TaskCancelled,
    TaskCompleted,
    TaskHandedOver,
    TaskKind,
    TaskMissed,
    TaskOutcome,
    TaskRescheduled,
    TaskScheduled,
)
from receivables_platform.domain import Refused


class TaskStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Task:
    task_id: UUID | None = None
    account_id: UUID | None = None
    collector_id: str | None = None
    kind: TaskKind = TaskKind.CADENCE
    business_date: date | None = None
    due_on: date | None = None
    status: TaskStatus = TaskStatus.OPEN
    times_missed: int = 0
    due_at: datetime | None = None
    invoice_ids: frozenset[UUID] = frozenset()
    """The invoices the task was scheduled about: a cadence task is moot once none is owed."""


MAX_AHEAD = timedelta(days=366)
"""How far ahead a follow-up may be set or put off: further is a plan, not a call back."""


def evolve(task: Task, event: EventContract) -> Task:
    match event:
        case TaskScheduled():
            return Task(
                event.task_id,
                event.account_id,
                event.collector_id,
                event.kind,
                event.business_date,
                event.business_date,
                due_at=event.due_at,
                invoice_ids=frozenset(event.invoice_ids),
            )
        case TaskMissed():
            return replace(
                task, due_on=event.carried_over_to, times_missed=event.times_missed, due_at=None
            )
        case TaskRescheduled():
            return replace(task, due_on=event.due_on, due_at=event.due_at)
        case TaskHandedOver():
            return replace(task, collector_id=event.collector_id)
        case TaskCompleted():
            return replace(task, status=TaskStatus.COMPLETED)
        case TaskCancelled():
            return replace(task, status=TaskStatus.CANCELLED)
    return task


def _open(task: Task) -> tuple[UUID, UUID, date]:
    if task.task_id is None or task.account_id is None or task.business_date is None:
        raise not_found("no such task", field="task_id")
    if task.status is not TaskStatus.OPEN:
        raise conflict(
            f"the task is already {task.status.value}", field="task_id", title="Task closed"
        )
    return task.task_id, task.account_id, task.business_date


def complete(
    task: Task,
    *,
    by: str,
    may_act_for_others: bool,
    outcome: TaskOutcome,
    today: date,
    now: datetime,
    contact_id: UUID | None = None,
    notes: str | None = None,
) -> list[EventContract]:
    task_id, account_id, business_date = _open(task)
    _may_act(task, by, may_act_for_others, "complete")
    return [
        TaskCompleted(
            task_id=task_id,
            account_id=account_id,
            collector_id=by,
            assigned_collector_id=task.collector_id,
            kind=task.kind,
            business_date=business_date,
            completed_on=today,
            completed_at=now,
            outcome=outcome,
            contact_id=contact_id,
            notes=notes,
        )
    ]


def miss(task: Task, *, carried_over_to: date) -> list[EventContract]:
    """Still open after its day: missed that day, due again on `carried_over_to`."""
    task_id, account_id, business_date = _open(task)
    assert task.due_on is not None
    if carried_over_to <= task.due_on:
        return []
    return [
        TaskMissed(
            task_id=task_id,
            account_id=account_id,
            collector_id=task.collector_id,
            kind=task.kind,
            business_date=business_date,
            missed_on=task.due_on,
            carried_over_to=carried_over_to,
            times_missed=task.times_missed + 1,
        )
    ]


def cancel(task: Task, *, reason: TaskCancellation, today: date) -> list[EventContract]:
    task_id, account_id, business_date = _open(task)
    return [
        TaskCancelled(
            task_id=task_id,
            account_id=account_id,
            collector_id=task.collector_id,
            kind=task.kind,
            business_date=business_date,
            cancelled_on=today,
            reason=reason,
        )
    ]


def check_due(due_on: date, *, today: date, calendar: BusinessCalendar, field: str) -> None:
    """A follow-up falls on a business day from today on: a weekend's task would only be
    counted missed on the Monday."""
    if due_on < today:
        raise Refused(f"{due_on} is in the past (today is {today})", field=field)
    if due_on > today + MAX_AHEAD:
        raise Refused(f"{due_on} is more than {MAX_AHEAD.days} days ahead", field=field)
    if not calendar.is_business_day(due_on):
        raise Refused(
            f"{due_on} is not a business day; the next one is {calendar.on_or_after(due_on)}",
            field=field,
        )


def _may_act(task: Task, by: str, may_act_for_others: bool, verb: str) -> None:
    if task.collector_id not in (None, by) and not may_act_for_others:
        raise forbidden(
            f"the task is {task.collector_id}'s; only they or a supervisor {verb} it",
            field="task_id",
            title="Not your task",
        )


def reschedule(
    task: Task,
    *,
    due_on: date,
    due_at: datetime | None,
    snoozed: bool,
    by: str,
    may_act_for_others: bool,
    today: date,
    calendar: BusinessCalendar,
    note: str | None = None,
    field: str = "due_on",
) -> list[EventContract]:
    """Due another day (or time): agreed with the customer, or snoozed by the collector."""
    task_id, account_id, business_date = _open(task)
    _may_act(task, by, may_act_for_others, "reschedule")
    check_due(due_on, today=today, calendar=calendar, field=field)
    assert task.due_on is not None
    if due_on == task.due_on and due_at == task.due_at:
        return []
    return [
        TaskRescheduled(
            task_id=task_id,
            account_id=account_id,
            collector_id=task.collector_id,
            kind=task.kind,
            business_date=business_date,
            previous_due_on=task.due_on,
            due_on=due_on,
            due_at=due_at,
            snoozed=snoozed,
            rescheduled_by=by,
            rescheduled_on=today,
            note=note,
        )
    ]


def hand_over(
    task: Task, *, to: str, by: str, may_act_for_others: bool, today: date
) -> list[EventContract]:
    """Another collector takes the task; its account stays whose it was."""
    task_id, account_id, business_date = _open(task)
    _may_act(task, by, may_act_for_others, "hand over")
    assert task.due_on is not None
    if to == task.collector_id:
        return []
    return [
        TaskHandedOver(
            task_id=task_id,
            account_id=account_id,
            collector_id=to,
            previous_collector_id=task.collector_id,
            kind=task.kind,
            business_date=business_date,
            due_on=task.due_on,
            handed_over_by=by,
            handed_over_on=today,
        )
    ]


@dataclass(frozen=True)
class HandSet:
    """A task a person sets: a collector's follow-up, or an escalation to a supervisor."""

    task_id: UUID
    kind: TaskKind
    channel: Channel
    due_on: date
    assignee: str | None
    by: str
    due_at: datetime | None = None
    note: str | None = None


def set_by_hand(
    new: HandSet, situation: AccountSituation, *, today: date, calendar: BusinessCalendar
) -> list[EventContract]:
    """The task as the cadence would price it: the account's past-due statement on its day."""
    if new.kind not in (TaskKind.FOLLOW_UP, TaskKind.ESCALATION):
        raise Refused(f"a {new.kind.value} task is the cadence's to set", field="kind")
    check_due(new.due_on, today=today, calendar=calendar, field="due_on")
    overdue = situation.overdue(new.due_on)
    amount = sum(i.past_due_minor(new.due_on) for i in overdue)
    days = max(((new.due_on - i.due_date).days for i in overdue), default=0)
    escalates = new.kind is TaskKind.ESCALATION
    return [
        TaskScheduled(
            task_id=new.task_id,
            account_id=situation.account_id,
            collector_id=new.assignee,
            kind=new.kind,
            business_date=new.due_on,
            channel=new.channel,
            template=None,
            escalates=escalates,
            steps=[],
            invoice_ids=[i.invoice_id for i in situation.in_cadence()],
            amount_past_due_minor=amount,
            currency=situation.currency,
            days_past_due=days,
            priority_score=priority_score(
                PriorityInputs(
                    amount, days, situation.broken_commitments, situation.at_risk, escalates
                )
            ),
            due_at=new.due_at,
            note=new.note,
            created_by=new.by,
        )
    ]


def due_moment(day: date, at: time | None, zone: str) -> datetime | None:
    """The instant of a local "Thursday 10:00" in the team's zone (None without a time)."""
    return None if at is None else datetime.combine(day, at, ZoneInfo(zone))


HAND_SET = frozenset({TaskKind.FOLLOW_UP, TaskKind.ESCALATION})
"""Tasks a person set: they stay until done while anything is owed."""


def schedule_plan(
    task_id: UUID,
    plan: TaskPlan,
    situation: AccountSituation,
    *,
    policy_id: UUID,
    policy_version: int,
) -> list[EventContract]:
    """The day's plan for the account becomes its one cadence task, naming every step it
    covers (with the policy version that chose them) and the most advanced as its lead."""
    lead = plan.lead
    return [
        TaskScheduled(
            task_id=task_id,
            account_id=plan.account_id,
            collector_id=situation.collector_id,
            kind=TaskKind.CADENCE,
            business_date=plan.business_date,
            channel=lead.channel,
            template=lead.template,
            escalates=any(s.step.escalates for s in plan.steps),
            steps=[
                CadenceStepRef(
                    policy_id=policy_id,
                    policy_version=policy_version,
                    step_id=s.step.step_id,
                    offset_days=s.step.offset_days,
                    channel=s.step.channel,
                    template=s.step.template,
                    escalates=s.step.escalates,
                    invoice_ids=list(s.invoice_ids),
                )
                for s in plan.steps
            ],
            invoice_ids=list(plan.invoice_ids),
            amount_past_due_minor=plan.amount_past_due_minor,
            currency=situation.currency,
            days_past_due=plan.days_past_due,
            priority_score=plan.priority_score,
        )
    ]


def follow_up(
    task_id: UUID, situation: AccountSituation, commitment_id: UUID, business_date: date
) -> list[EventContract]:
    """A call on `business_date` about a promise broken or only partly kept, priced as if
    the account already counted it broken (the verdict lands with it)."""
    overdue = situation.overdue(business_date)
    amount = sum(i.past_due_minor(business_date) for i in overdue)
    days = max(((business_date - i.due_date).days for i in overdue), default=0)
    return [
        TaskScheduled(
            task_id=task_id,
            account_id=situation.account_id,
            collector_id=situation.collector_id,
            kind=TaskKind.COMMITMENT_FOLLOW_UP,
            business_date=business_date,
            channel=Channel.CALL,
            template=None,
            escalates=False,
            steps=[],
            invoice_ids=[i.invoice_id for i in situation.in_cadence()],
            amount_past_due_minor=amount,
            currency=situation.currency,
            days_past_due=days,
            priority_score=priority_score(
                PriorityInputs(amount, days, situation.broken_commitments + 1, True)
            ),
            commitment_id=commitment_id,
        )
    ]


def moot(task: Task, situation: AccountSituation, today: date) -> TaskCancellation | None:
    """Why an open task no longer needs doing, if it does not.

    A cadence task is about the invoices it covered; a follow-up about the whole account.
    One a person set stays until done while anything is owed.
    """
    owed = {i.invoice_id for i in situation.invoices if i.balance_minor > 0}
    if task.kind in HAND_SET:
        return None if owed else TaskCancellation.NOTHING_OVERDUE
    relevant = owed if task.kind is TaskKind.COMMITMENT_FOLLOW_UP else owed & task.invoice_ids
    if not relevant:
        return TaskCancellation.NOTHING_OVERDUE
    if not relevant & {i.invoice_id for i in situation.in_cadence()}:
        return TaskCancellation.ON_HOLD
    paused = situation.paused_until is not None and today <= situation.paused_until
    unpaused = {i.invoice_id for i in situation.unpaused(today)}
    if task.kind is TaskKind.CADENCE and (paused or not relevant & unpaused):
        return TaskCancellation.COMMITMENT_OPEN
    return None


def carry_over(task: Task, situation: AccountSituation, today: date) -> list[EventContract]:
    """An open task from an earlier day: missed and due today, or cancelled if moot."""
    if task.status is not TaskStatus.OPEN or task.due_on is None or task.due_on >= today:
        return []
    reason = moot(task, situation, today)
    return cancel(task, reason=reason, today=today) if reason else miss(task, carried_over_to=today)
