"""Cadence policies and the daily plan: which steps fall due for an account on a business day.

A policy is an ordered list of steps, each `offset_days` from an invoice's due
date (negative: a reminder before it). A step falls due on the first business
day on or after `due_date + offset_days` and fires once per invoice (the
caller keeps what fired). All the steps due for an account on a day become
one task: one consolidated statement of every overdue invoice, whose channel
and template are those of the most advanced step. Held invoices take no part;
an open promise to pay pauses the invoices it names until it is judged (one
naming no invoice pauses the whole account); the others keep their cadence.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from collections_service.domain.calendar import BusinessCalendar
from collections_service.domain.dunning import CatchUp
from collections_service.domain.priority import PriorityInputs, priority_score
from receivables_platform.contracts.collections import Channel
from receivables_platform.domain import Refused

MAX_STEPS = 30


@dataclass(frozen=True)
class Step:
    step_id: str
    offset_days: int
    channel: Channel
    template: str
    escalates: bool = False


@dataclass(frozen=True)
class Policy:
    policy_id: UUID
    version: int
    segment: str | None
    name: str
    steps: tuple[Step, ...]
    catch_up: CatchUp = CatchUp.FIRST_NOT_DONE


def ordered_steps(steps: Sequence[Step]) -> tuple[Step, ...]:
    """The steps by offset, or a refusal naming the step that overlaps another."""
    if not steps:
        raise Refused("a policy needs at least one step", field="steps")
    if len(steps) > MAX_STEPS:
        raise Refused(f"a policy has at most {MAX_STEPS} steps", field="steps")
    seen_offsets: dict[int, int] = {}
    seen_ids: dict[str, int] = {}
    for index, step in enumerate(steps):
        if step.offset_days in seen_offsets:
            raise Refused(
                f"step {index} falls on the same day ({step.offset_days:+d}) as step "
                f"{seen_offsets[step.offset_days]}: merge them or move one",
                field=f"steps.{index}.offset_days",
            )
        if step.step_id in seen_ids:
            raise Refused(
                f"step {index} reuses the id {step.step_id!r} of step {seen_ids[step.step_id]}",
                field=f"steps.{index}.step_id",
            )
        seen_offsets[step.offset_days] = index
        seen_ids[step.step_id] = index
    return tuple(sorted(steps, key=lambda s: s.offset_days))


@dataclass(frozen=True)
class OpenInvoice:
    invoice_id: UUID
    due_date: date
    """The due date of its earliest instalment still open: the day its cadence counts from,
    so an overdue first instalment makes it past due before the invoice's last due date."""
    balance_minor: int
    held: bool = False
    paused_until: date | None = None
    """The deadline of the latest open promise naming this invoice."""
    open_instalments: tuple[tuple[date, int], ...] = ()
    """(due date, amount still open) of each instalment not yet paid; none: one instalment
    of the whole balance on `due_date`."""

    def paused(self, today: date) -> bool:
        return self.paused_until is not None and today <= self.paused_until

    def past_due_minor(self, day: date) -> int:
        """What of it is past due on `day`: the open instalments due before it, not the
        instalments still to come."""
        if not self.open_instalments:
            return self.balance_minor if self.due_date < day else 0
        return sum(amount for due, amount in self.open_instalments if due < day)


@dataclass(frozen=True)
class AccountSituation:
    """What the daily run knows about one account on its business day."""

    account_id: UUID
    currency: str
    collector_id: str | None
    invoices: tuple[OpenInvoice, ...]
    paused_until: date | None = None
    at_risk: bool = False
    broken_commitments: int = 0

    def in_cadence(self) -> list[OpenInvoice]:
        return [i for i in self.invoices if not i.held and i.balance_minor > 0]

    def overdue(self, today: date) -> list[OpenInvoice]:
        return [i for i in self.in_cadence() if i.due_date < today]

    def unpaused(self, today: date) -> list[OpenInvoice]:
        """In the cadence today: not held, owed, and no open promise covering it."""
        return [i for i in self.in_cadence() if not i.paused(today)]


@dataclass(frozen=True)
class StepDue:
    step: Step
    invoice_ids: tuple[UUID, ...]


@dataclass(frozen=True)
class TaskPlan:
    """The one task an account gets today, before it has an id."""

    account_id: UUID
    business_date: date
    steps: tuple[StepDue, ...]
    invoice_ids: tuple[UUID, ...]
    amount_past_due_minor: int
    days_past_due: int
    priority_score: int

    @property
    def lead(self) -> Step:
        return max((s.step for s in self.steps), key=lambda s: s.offset_days)


def step_date(due_date: date, step: Step, calendar: BusinessCalendar) -> date:
    return calendar.on_or_after(date.fromordinal(due_date.toordinal() + step.offset_days))


def is_paused(situation: AccountSituation, today: date) -> bool:
    return situation.paused_until is not None and today <= situation.paused_until


def steps_due(
    situation: AccountSituation,
    policy: Policy,
    fired: Collection[tuple[UUID, str]],
    today: date,
    calendar: BusinessCalendar,
) -> list[StepDue]:
    """Steps whose day has come (today, or earlier while paused or held) and that never fired.

    Under `CatchUp.FIRST_NOT_DONE` an invoice behind its cadence (a go-live, a long hold)
    takes only its earliest such step today and the next one on a later run, so the
    customer is reminded before the final notice; under `LATEST` every step whose day
    has come fires at once, and the most advanced leads.
    """
    if is_paused(situation, today):
        return []
    due: list[StepDue] = []
    stepped: set[UUID] = set()
    one_at_a_time = policy.catch_up is CatchUp.FIRST_NOT_DONE
    for step in policy.steps:
        invoices = tuple(
            i.invoice_id
            for i in situation.unpaused(today)
            if (i.invoice_id, step.step_id) not in fired
            and step_date(i.due_date, step, calendar) <= today
            and not (one_at_a_time and i.invoice_id in stepped)
        )
        stepped.update(invoices)
        if invoices:
            due.append(StepDue(step, invoices))
    return due


def plan_day(
    situation: AccountSituation,
    policy: Policy,
    fired: Collection[tuple[UUID, str]],
    today: date,
    calendar: BusinessCalendar,
) -> TaskPlan | None:
    """Today's consolidated task for the account, or None when nothing falls due."""
    if not calendar.is_business_day(today):
        return None
    due = steps_due(situation, policy, fired, today, calendar)
    if not due:
        return None
    unpaused = situation.unpaused(today)
    overdue = [i for i in situation.overdue(today) if i in unpaused]
    stepped = {i for s in due for i in s.invoice_ids}
    covered = tuple(i.invoice_id for i in unpaused if i in overdue or i.invoice_id in stepped)
    amount = sum(i.past_due_minor(today) for i in overdue)
    days = max(((today - i.due_date).days for i in overdue), default=0)
    escalates = any(s.step.escalates for s in due)
    score = priority_score(
        PriorityInputs(amount, days, situation.broken_commitments, situation.at_risk, escalates)
    )
    return TaskPlan(situation.account_id, today, tuple(due), covered, amount, days, score)
