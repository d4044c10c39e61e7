"""Promises to pay, judged from the money that came in and the calendar.

A promise is *kept* as soon as what was paid towards it since it was made
reaches the amount, on or before its deadline (the promised date plus the
grace period in business days). When the deadline has passed without that,
it is *partially kept* if something was paid by then, else *broken*. Money
that arrives after the deadline does not turn a judged promise around.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from uuid import UUID

from collections_service.domain.calendar import BusinessCalendar
from collections_service.domain.refusals import conflict, not_found
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import (
    Channel,
    CommitmentBroken,
    CommitmentCancelled,
    CommitmentInstalmentJudged,
    CommitmentKept,
    CommitmentMade,
    CommitmentPartiallyKept,
    Instalment,
    RiskReason,
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
        raise Refused(
            f"the promised date {promised_date} is in the past (today is {today})",
            field="promised_date",
        )
    if promised_date > today + MAX_HORIZON:
        raise Refused(
            f"a promise more than {MAX_HORIZON.days} days ahead is a plan, not a "
            "promise: agree on a nearer date",
            field="promised_date",
        )
    if not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise Refused(
            f"the grace period is 0 to {MAX_GRACE_DAYS} business days", field="grace_days"
        )


@dataclass(frozen=True)
class InstalmentVerdict:
    number: int
    due_date: date
    amount_minor: int
    kept: bool
    paid_minor: int
    judged_on: date


def check_plan(
    instalments: Sequence[tuple[date, int]], amount_minor: int, promised_date: date, today: date
) -> None:
    """A plan's instalments: dated in order from today, adding up to the promise, the last
    on the promised date."""
    if not instalments:
        return
    for index, (due, amount) in enumerate(instalments):
        require_amount(
            amount, field=f"instalments.{index}.amount_minor", what="an instalment's amount"
        )
        if due < today or (index and due <= instalments[index - 1][0]):
            raise Refused(
                "instalments fall on distinct days from today on, in order",
                field=f"instalments.{index}.due_date",
            )
    if instalments[-1][0] != promised_date:
        raise Refused(
            "the last instalment falls on the promised date",
            field=f"instalments.{len(instalments) - 1}.due_date",
        )
    if sum(a for _, a in instalments) != amount_minor:
        raise Refused(
            f"the instalments add up to {sum(a for _, a in instalments)}, not the "
            f"promised {amount_minor}",
            field="instalments",
        )


def judge_plan(
    promise: Promise,
    instalments: Sequence[tuple[date, int]],
    payments: Sequence[Payment],
    today: date,
    calendar: BusinessCalendar,
) -> list[InstalmentVerdict]:
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
            verdicts.append(InstalmentVerdict(number, due, amount, False, max(running, 0), today))
            break
        else:
            break
    return verdicts


def judge(
    promise: Promise, payments: Sequence[Payment], today: date, calendar: BusinessCalendar
) -> Verdict:
    """The promise's standing at the end of `today`'s processing (pure; order-independent)."""
    last_day = deadline(promise, calendar)
    counted = sorted(
        (p for p in payments if promise.made_on <= p.on <= last_day), key=lambda p: p.on
    )
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
    """A promise as its stream tells it: who made it, for which account, what was promised by
    when, how much of a plan was judged, and where it stands."""

    commitment_id: UUID | None = None
    account_id: UUID | None = None
    collector_id: str | None = None
    status: str = "open"
    amount_minor: int = 0
    currency: str = ""
    promised_date: date = date.min
    grace_days: int = 0
    made_on: date = date.min
    invoice_ids: tuple[UUID, ...] = ()
    instalments: tuple[tuple[date, int], ...] = ()
    instalments_judged: int = 0

    def promise(self) -> Promise:
        assert self.commitment_id is not None
        return Promise(
            self.commitment_id,
            self.amount_minor,
            self.promised_date,
            self.grace_days,
            self.made_on,
            self.invoice_ids,
        )


def evolve(state: Commitment, event: EventContract) -> Commitment:
    match event:
        case CommitmentMade():
            return Commitment(
                event.commitment_id,
                event.account_id,
                event.collector_id,
                amount_minor=event.amount_minor,
                currency=event.currency,
                promised_date=event.promised_date,
                grace_days=event.grace_days,
                made_on=event.made_on,
                invoice_ids=tuple(event.invoice_ids),
                instalments=tuple((i.due_date, i.amount_minor) for i in event.instalments),
            )
        case CommitmentInstalmentJudged():
            return replace(state, instalments_judged=max(state.instalments_judged, event.number))
        case CommitmentKept():
            return replace(state, status="kept")
        case CommitmentPartiallyKept():
            return replace(state, status="partially_kept")
        case CommitmentBroken():
            return replace(state, status="broken")
        case CommitmentCancelled():
            return replace(state, status="cancelled")
    return state


@dataclass(frozen=True)
class MakeCommitment:
    commitment_id: UUID
    account_id: UUID
    by: str
    amount_minor: int
    promised_date: date
    grace_days: int
    channel: Channel
    today: date
    now: datetime
    invoice_ids: tuple[UUID, ...] = ()
    currency: str | None = None
    contact_id: UUID | None = None
    instalments: tuple[tuple[date, int], ...] = ()


def check_make(command: MakeCommitment) -> None:
    """What the promise itself must say, before the account is looked at."""
    check_new(command.amount_minor, command.promised_date, command.grace_days, command.today)
    check_plan(command.instalments, command.amount_minor, command.promised_date, command.today)


def make(
    command: MakeCommitment, *, account_currency: str | None, open_invoices: Collection[UUID]
) -> list[EventContract]:
    """A promise in the account's currency, on invoices the account still owes."""
    check_make(command)
    if (
        command.currency is not None
        and account_currency is not None
        and command.currency != account_currency
    ):
        raise Refused(f"the account is billed in {account_currency}", field="currency")
    for index, invoice_id in enumerate(command.invoice_ids):
        if invoice_id not in open_invoices:
            raise Refused(
                f"invoice {invoice_id} is not an open invoice of this account",
                field=f"invoice_ids.{index}",
            )
    currency = account_currency or command.currency
    if currency is None:
        raise Refused("the account's currency is not known yet; send it", field="currency")
    return [
        CommitmentMade(
            commitment_id=command.commitment_id,
            account_id=command.account_id,
            collector_id=command.by,
            amount_minor=command.amount_minor,
            currency=currency,
            promised_date=command.promised_date,
            grace_days=command.grace_days,
            invoice_ids=list(command.invoice_ids),
            channel=command.channel,
            made_on=command.today,
            made_at=command.now,
            contact_id=command.contact_id,
            instalments=[Instalment(due_date=d, amount_minor=a) for d, a in command.instalments],
        )
    ]


@dataclass(frozen=True)
class Judgement:
    """What judging a promise decided: its events, and what they mean for the account."""

    events: list[EventContract]
    kept: bool = False
    failed: RiskReason | None = None
    """Broken or partly kept: the account is at risk and the follow-up call is due."""


def judge_commitment(
    state: Commitment,
    payments: Sequence[Payment],
    today: date,
    calendar: BusinessCalendar,
    *,
    final: bool,
    follow_up_task_id: UUID,
) -> Judgement:
    """Judge an open promise on the money paid towards it. Kept is decided the moment it is
    paid; only the daily run (`final`) may call a promise or an instalment broken, naming the
    follow-up task `follow_up_task_id` it brings."""
    if state.commitment_id is None or state.status != "open":
        return Judgement([])
    promise = state.promise()
    verdict = judge(promise, payments, today, calendar)
    decided = judge_plan(promise, state.instalments, payments, today, calendar)
    steps = [v for v in decided[state.instalments_judged :] if v.kept or final]
    broken = next((v for v in steps if not v.kept), None)
    if broken is not None:
        verdict = (
            PartiallyKept(broken.paid_minor, state.amount_minor - broken.paid_minor)
            if broken.paid_minor > 0
            else Broken(0)
        )
    judged = _instalments(state, steps)
    if not isinstance(verdict, Kept) and not final:
        return Judgement(judged)
    failed = isinstance(verdict, PartiallyKept | Broken)
    closing = _closing(state, verdict, today, follow_up_task_id if failed else None)
    if closing is None:
        return Judgement(judged)
    return Judgement(
        [*judged, closing],
        kept=isinstance(verdict, Kept),
        failed=(
            RiskReason.COMMITMENT_BROKEN
            if isinstance(verdict, Broken)
            else RiskReason.COMMITMENT_PARTIALLY_KEPT
        )
        if failed
        else None,
    )


def _instalments(state: Commitment, steps: Sequence[InstalmentVerdict]) -> list[EventContract]:
    assert state.commitment_id is not None and state.account_id is not None
    assert state.collector_id is not None
    return [
        CommitmentInstalmentJudged(
            commitment_id=state.commitment_id,
            account_id=state.account_id,
            collector_id=state.collector_id,
            number=v.number,
            due_date=v.due_date,
            amount_minor=v.amount_minor,
            currency=state.currency,
            kept=v.kept,
            paid_minor=v.paid_minor,
            judged_on=v.judged_on,
        )
        for v in steps
    ]


def _closing(
    state: Commitment, verdict: Verdict, today: date, follow_up: UUID | None
) -> EventContract | None:
    assert state.commitment_id is not None and state.account_id is not None
    assert state.collector_id is not None
    common = {
        "commitment_id": state.commitment_id,
        "account_id": state.account_id,
        "collector_id": state.collector_id,
        "amount_minor": state.amount_minor,
        "currency": state.currency,
        "promised_date": state.promised_date,
    }
    match verdict:
        case Kept():
            return CommitmentKept(**common, paid_minor=verdict.paid_minor, kept_on=verdict.kept_on)
        case PartiallyKept():
            return CommitmentPartiallyKept(
                **common,
                paid_minor=verdict.paid_minor,
                shortfall_minor=verdict.shortfall_minor,
                evaluated_on=today,
                follow_up_task_id=follow_up,
            )
        case Broken():
            return CommitmentBroken(
                **common,
                paid_minor=verdict.paid_minor,
                broken_on=today,
                follow_up_task_id=follow_up,
            )
    return None


def cancel(state: Commitment, *, by: str, reason: str, today: date) -> list[EventContract]:
    """Withdraw an open promise taken in error: it counts neither kept nor broken."""
    if state.commitment_id is None or state.account_id is None or state.collector_id is None:
        raise not_found("no such commitment", field="commitment_id")
    if state.status != "open":
        raise conflict(
            f"the commitment is already {state.status}",
            field="commitment_id",
            title="Commitment closed",
        )
    return [
        CommitmentCancelled(
            commitment_id=state.commitment_id,
            account_id=state.account_id,
            collector_id=state.collector_id,
            cancelled_by=by,
            reason=reason,
            cancelled_on=today,
        )
    ]
