"""A task's life: scheduled for a business day, then completed, missed (and carried over) or
cancelled. Pure decide/evolve over the task's own stream.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from collections_service.domain.refusals import conflict, forbidden, not_found
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import (
    TaskCancellation,
    TaskCancelled,
    TaskCompleted,
    TaskKind,
    TaskMissed,
    TaskOutcome,
    TaskScheduled,
)


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


def evolve(task: Task, event: EventContract) -> Task:
    match event:
        case TaskScheduled():
            return Task(event.task_id, event.account_id, event.collector_id, event.kind,
                        event.business_date, event.business_date)
        case TaskMissed():
            return replace(task, due_on=event.carried_over_to, times_missed=event.times_missed)
        case TaskCompleted():
            return replace(task, status=TaskStatus.COMPLETED)
        case TaskCancelled():
            return replace(task, status=TaskStatus.CANCELLED)
    return task


def _open(task: Task) -> tuple[UUID, UUID, date]:
    if task.task_id is None or task.account_id is None or task.business_date is None:
        raise not_found("no such task", field="task_id")
    if task.status is not TaskStatus.OPEN:
        raise conflict(f"the task is already {task.status.value}", field="task_id",
                       title="Task closed")
    return task.task_id, task.account_id, task.business_date


def complete(task: Task, *, by: str, may_act_for_others: bool, outcome: TaskOutcome,
             today: date, now: datetime, contact_id: UUID | None = None,
             notes: str | None = None) -> list[EventContract]:
    task_id, account_id, business_date = _open(task)
    if task.collector_id not in (None, by) and not may_act_for_others:
        raise forbidden(f"the task is {task.collector_id}'s; only they or a supervisor complete "
                        "it", field="task_id", title="Not your task")
    return [TaskCompleted(task_id=task_id, account_id=account_id, collector_id=by,
                          assigned_collector_id=task.collector_id, kind=task.kind,
                          business_date=business_date, completed_on=today, completed_at=now,
                          outcome=outcome, contact_id=contact_id, notes=notes)]


def miss(task: Task, *, carried_over_to: date) -> list[EventContract]:
    """Still open after its day: missed that day, due again on `carried_over_to`."""
    task_id, account_id, business_date = _open(task)
    assert task.due_on is not None
    if carried_over_to <= task.due_on:
        return []
    return [TaskMissed(task_id=task_id, account_id=account_id, collector_id=task.collector_id,
                       kind=task.kind, business_date=business_date, missed_on=task.due_on,
                       carried_over_to=carried_over_to, times_missed=task.times_missed + 1)]


def cancel(task: Task, *, reason: TaskCancellation, today: date) -> list[EventContract]:
    task_id, account_id, business_date = _open(task)
    return [TaskCancelled(task_id=task_id, account_id=account_id, collector_id=task.collector_id,
                          kind=task.kind, business_date=business_date, cancelled_on=today,
                          reason=reason)]
