"""Promises to pay, judged from the money that came in and the calendar.

A promise is *kept* as soon as what was paid towards it since it was made
reaches the amount, on or before its deadline (the promised date plus the
grace period in business days). When the deadline has passed without that,
it is *partially kept* if something was paid by then, else *broken*. Money
that arrives after the deadline does not turn a judged promise around.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from uuid import UUID

from collections_service.domain.calendar import BusinessCalendar
from collections_service.domain.refusals import conflict, not_found
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import (
    CommitmentBroken,
    CommitmentCancelled,
    CommitmentKept,
    CommitmentMade,
    CommitmentPartiallyKept,
)
from receivables_platform.domain import Refused, require_amount

MAX_GRACE_DAYS = 30
MAX_HORIZON = timedelta(days=366)


@dataclass(frozen=True)
class Promise:
    commitment_id: UUID
    amount_minor: int
    promised_date: date
    grace_days: int
    made_on: date
    invoice_ids: tuple[UUID, ...] = ()


@dataclass(frozen=True)
class Payment:
    """Money towards the promise on a day; a reversal is a negative amount."""

    on: date
    amount_minor: int


@dataclass(frozen=True)
class Open:
    paid_minor: int


@dataclass(frozen=True)
class Kept:
    paid_minor: int
    kept_on: date


@dataclass(frozen=True)
class PartiallyKept:
    paid_minor: int
    shortfall_minor: int


@dataclass(frozen=True)
class Broken:
    paid_minor: int


Verdict = Open | Kept | PartiallyKept | Broken


def deadline(promise: Promise, calendar: BusinessCalendar) -> date:
    return calendar.add_business_days(promise.promised_date, promise.grace_days)


def check_new(amount_minor: int, promised_date: date, grace_days: int, today: date) -> None:
    """Refuse a promise that cannot be kept or judged: nothing to pay, a date gone by."""
    require_amount(amount_minor, field="amount_minor", what="a promise to pay's amount")
    if promised_date < today:
        raise Refused(f"the promised date {promised_date} is in the past (today is {today})",
                      field="promised_date")
    if promised_date > today + MAX_HORIZON:
        raise Refused(f"a promise more than {MAX_HORIZON.days} days ahead is a plan, not a "
                      "promise: agree on a nearer date", field="promised_date")
    if not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise Refused(f"the grace period is 0 to {MAX_GRACE_DAYS} business days",
                      field="grace_days")


@dataclass(frozen=True)
class InstalmentVerdict:
    number: int
    due_date: date
    amount_minor: int
    kept: bool
    paid_minor: int
    judged_on: date


def check_plan(instalments: Sequence[tuple[date, int]], amount_minor: int,
               promised_date: date, today: date) -> None:
    """A plan's instalments: dated in order from today, adding up to the promise, the last
    on the promised date."""
    if not instalments:
        return
    for index, (due, amount) in enumerate(instalments):
        require_amount(amount, field=f"instalments.{index}.amount_minor",
                       what="an instalment's amount")
        if due < today or (index and due <= instalments[index - 1][0]):
            raise Refused("instalments fall on distinct days from today on, in order",
                          field=f"instalments.{index}.due_date")
    if instalments[-1][0] != promised_date:
        raise Refused("the last instalment falls on the promised date",
                      field=f"instalments.{len(instalments) - 1}.due_date")
    if sum(a for _, a in instalments) != amount_minor:
        raise Refused(f"the instalments add up to {sum(a for _, a in instalments)}, not the "
                      f"promised {amount_minor}", field="instalments")


def judge_plan(promise: Promise, instalments: Sequence[tuple[date, int]],
               payments: Sequence[Payment], today: date,
               calendar: BusinessCalendar) -> list[InstalmentVerdict]:
    """Each instalment decided so far, in order, up to the first broken one: kept when what
    was paid towards the plan reached the instalments due so far by its deadline."""
    verdicts: list[InstalmentVerdict] = []
    target = 0
    for number, (due, amount) in enumerate(instalments, start=1):
        target += amount
        last_day = calendar.add_business_days(due, promise.grace_days)
        running, reached = 0, None
        for day in sorted({p.on for p in payments if promise.made_on <= p.on <= last_day}):
            running += sum(p.amount_minor for p in payments if p.on == day)
            if running >= target:
                reached = day
                break
        if reached is not None:
            verdicts.append(InstalmentVerdict(number, due, amount, True, running, reached))
        elif today > last_day:
            verdicts.append(InstalmentVerdict(number, due, amount, False, max(running, 0),
                                              today))
            break
        else:
            break
    return verdicts


def judge(promise: Promise, payments: Sequence[Payment], today: date,
          calendar: BusinessCalendar) -> Verdict:
    """The promise's standing at the end of `today`'s processing (pure; order-independent)."""
    last_day = deadline(promise, calendar)
    counted = sorted((p for p in payments if promise.made_on <= p.on <= last_day),
                     key=lambda p: p.on)
    running = 0
    for day in sorted({p.on for p in counted}):
        running += sum(p.amount_minor for p in counted if p.on == day)
        if running >= promise.amount_minor:
            return Kept(running, day)
    paid = max(running, 0)
    if today <= last_day:
        return Open(paid)
    if paid > 0:
        return PartiallyKept(paid, promise.amount_minor - paid)
    return Broken(0)


@dataclass(frozen=True)
class Commitment:
    """A promise as its stream tells it: who made it, for which account, and where it stands."""

    commitment_id: UUID | None = None
    account_id: UUID | None = None
    collector_id: str | None = None
    status: str = "open"


def evolve(state: Commitment, event: EventContract) -> Commitment:
    match event:
        case CommitmentMade():
            return Commitment(event.commitment_id, event.account_id, event.collector_id)
        case CommitmentKept():
            return replace(state, status="kept")
        case CommitmentPartiallyKept():
            return replace(state, status="partially_kept")
        case CommitmentBroken():
            return replace(state, status="broken")
        case CommitmentCancelled():
            return replace(state, status="cancelled")
    return state


def cancel(state: Commitment, *, by: str, reason: str, today: date) -> list[EventContract]:
    """Withdraw an open promise taken in error: it counts neither kept nor broken."""
    if state.commitment_id is None or state.account_id is None or state.collector_id is None:
        raise not_found("no such commitment", field="commitment_id")
    if state.status != "open":
        raise conflict(f"the commitment is already {state.status}", field="commitment_id",
                       title="Commitment closed")
    return [CommitmentCancelled(commitment_id=state.commitment_id, account_id=state.account_id,
                                collector_id=state.collector_id, cancelled_by=by,
                                reason=reason, cancelled_on=today)]
