"""A promise to pay as pure decide/evolve: made on what the account owes, then judged from
the money paid towards it (kept at once, broken only by the daily run), instalment by
instalment for a plan."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest

from collections_service.domain import commitments
from collections_service.domain.calendar import BusinessCalendar
from collections_service.domain.commitments import (
    Commitment,
    Judgement,
    MakeCommitment,
    Payment,
)
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import (
    Channel,
    CommitmentBroken,
    CommitmentInstalmentJudged,
    CommitmentKept,
    CommitmentMade,
    CommitmentPartiallyKept,
    RiskReason,
)
from receivables_platform.domain import Refused, fold

US = BusinessCalendar.of("US")
ACCOUNT = UUID("01900000-0000-7000-8000-0000000000c3")
INVOICE = uuid4()
MONDAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 16, 15, tzinfo=UTC)
FOLLOW_UP = uuid4()

PROMISE = MakeCommitment(
    commitment_id=uuid4(),
    account_id=ACCOUNT,
    by="kim",
    amount_minor=10_000,
    promised_date=date(2026, 11, 25),
    grace_days=2,
    channel=Channel.CALL,
    today=MONDAY,
    now=NOW,
)
# deadline: Nov 25 + 2 business days, skipping Thanksgiving -> Nov 30 (Mon)
PLAN = replace(PROMISE, instalments=((date(2026, 11, 18), 4_000), (date(2026, 11, 25), 6_000)))
# first instalment's deadline: Nov 18 + 2 business days -> Nov 20 (Fri)


def made(command: MakeCommitment = PROMISE) -> Commitment:
    return fold(
        commitments.evolve,
        Commitment(),
        commitments.make(command, account_currency="USD", open_invoices={INVOICE}),
    )


def judged(state: Commitment, payments: list[Payment], today: date, *, final: bool) -> Judgement:
    return commitments.judge_commitment(
        state, payments, today, US, final=final, follow_up_task_id=FOLLOW_UP
    )


def after(state: Commitment, events: list[EventContract]) -> Commitment:
    return fold(commitments.evolve, state, events)


def test_a_promise_is_made_in_the_account_s_currency_on_invoices_it_still_owes() -> None:
    [event] = commitments.make(
        replace(PROMISE, invoice_ids=(INVOICE,), currency="USD"),
        account_currency=None,
        open_invoices={INVOICE},
    )
    assert isinstance(event, CommitmentMade)
    assert event.currency == "USD" and event.invoice_ids == [INVOICE] and event.made_on == MONDAY
    for command, currency, field in (
        (replace(PROMISE, currency="EUR"), "USD", "currency"),
        (replace(PROMISE, invoice_ids=(INVOICE, uuid4())), "USD", "invoice_ids.1"),
        (PROMISE, None, "currency"),
        (replace(PROMISE, amount_minor=0), "USD", "amount_minor"),
        (replace(PROMISE, promised_date=date(2026, 11, 13)), "USD", "promised_date"),
        (replace(PLAN, instalments=PLAN.instalments[:1]), "USD", "instalments.0.due_date"),
    ):
        with pytest.raises(Refused) as refused:
            commitments.make(command, account_currency=currency, open_invoices={INVOICE})
        assert refused.value.field == field, command


def test_the_made_promise_folds_into_what_judging_it_needs() -> None:
    state = made(PLAN)
    assert state.status == "open" and state.currency == "USD" and state.collector_id == "kim"
    assert state.instalments == PLAN.instalments and state.instalments_judged == 0
    assert commitments.deadline(state.promise(), US) == date(2026, 11, 30)


def test_paid_in_full_is_kept_the_moment_the_money_lands_and_clears_the_risk() -> None:
    paid = [Payment(date(2026, 11, 20), 4_000), Payment(date(2026, 11, 24), 6_000)]
    judgement = judged(made(), paid, date(2026, 11, 24), final=False)
    [kept] = judgement.events
    assert isinstance(kept, CommitmentKept) and kept.kept_on == date(2026, 11, 24)
    assert judgement.kept and judgement.failed is None
    assert after(made(), judgement.events).status == "kept"
    assert (
        judged(after(made(), judgement.events), paid, date(2026, 11, 25), final=True).events == []
    )


def test_only_the_daily_run_breaks_a_promise_and_names_its_follow_up() -> None:
    assert judged(made(), [], date(2026, 12, 1), final=False).events == []
    assert judged(made(), [], date(2026, 11, 30), final=True).events == []  # still in grace
    judgement = judged(made(), [], date(2026, 12, 1), final=True)
    [broken] = judgement.events
    assert isinstance(broken, CommitmentBroken) and broken.follow_up_task_id == FOLLOW_UP
    assert judgement.failed is RiskReason.COMMITMENT_BROKEN and not judgement.kept


def test_part_paid_by_the_deadline_is_partially_kept_with_the_shortfall() -> None:
    judgement = judged(made(), [Payment(date(2026, 11, 25), 6_000)], date(2026, 12, 1), final=True)
    [partly] = judgement.events
    assert isinstance(partly, CommitmentPartiallyKept)
    assert (partly.paid_minor, partly.shortfall_minor) == (6_000, 4_000)
    assert judgement.failed is RiskReason.COMMITMENT_PARTIALLY_KEPT


def test_a_plan_s_instalment_is_judged_once_and_a_broken_one_breaks_the_plan() -> None:
    plan = made(PLAN)
    first = judged(plan, [Payment(date(2026, 11, 19), 4_000)], date(2026, 11, 19), final=False)
    [step] = first.events
    assert isinstance(step, CommitmentInstalmentJudged) and step.kept and step.number == 1
    assert not first.kept and first.failed is None
    plan = after(plan, first.events)
    assert plan.instalments_judged == 1 and plan.status == "open"
    assert (
        judged(plan, [Payment(date(2026, 11, 19), 4_000)], date(2026, 11, 20), final=False).events
        == []
    )
    late = judged(plan, [Payment(date(2026, 11, 19), 4_000)], date(2026, 12, 1), final=True)
    second, closing = late.events
    assert isinstance(second, CommitmentInstalmentJudged) and not second.kept
    assert isinstance(closing, CommitmentPartiallyKept) and closing.shortfall_minor == 6_000
    assert late.failed is RiskReason.COMMITMENT_PARTIALLY_KEPT


def test_a_missed_first_instalment_is_left_to_the_daily_run() -> None:
    plan = made(PLAN)
    assert judged(plan, [], date(2026, 11, 23), final=False).events == []
    broken = judged(plan, [], date(2026, 11, 23), final=True)
    step, closing = broken.events
    assert isinstance(step, CommitmentInstalmentJudged) and not step.kept
    assert isinstance(closing, CommitmentBroken) and closing.follow_up_task_id == FOLLOW_UP
