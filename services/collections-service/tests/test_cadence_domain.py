"""The cadence, the calendar, priorities, promises and task life as pure functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collections_service.domain import commitments, tasks
from collections_service.domain.cadence import (
    AccountSituation,
    OpenInvoice,
    Policy,
    Step,
    ordered_steps,
    plan_day,
    step_date,
)
from collections_service.domain.calendar import BusinessCalendar
from collections_service.domain.commitments import (
    Broken,
    Kept,
    Open,
    PartiallyKept,
    Payment,
    Promise,
    check_new,
    deadline,
    judge,
)
from collections_service.domain.dunning import CatchUp
from collections_service.domain.priority import PriorityInputs, priority_score
from collections_service.domain.refusals import Refusal, RefusalKind
from receivables_platform.contracts.collections import (
    Channel,
    CommitmentMade,
    TaskCancellation,
    TaskHandedOver,
    TaskKind,
    TaskOutcome,
    TaskRescheduled,
    TaskScheduled,
)
from receivables_platform.domain import Refused, fold
from receivables_platform.money import MAX_MINOR

US = BusinessCalendar.of("US")
ACCOUNT = UUID("01900000-0000-7000-8000-0000000000a1")
REMIND = Step("remind", -3, Channel.EMAIL, "reminder")
FIRST = Step("first", 1, Channel.EMAIL, "overdue_statement")
CALL = Step("call", 10, Channel.CALL, "call_script")
FINAL = Step("final", 30, Channel.LETTER, "final_notice", escalates=True)
POLICY = Policy(uuid4(), 1, None, "Standard", (REMIND, FIRST, CALL, FINAL))
LATEST = replace(POLICY, catch_up=CatchUp.LATEST)


def situation(*invoices: OpenInvoice, **overrides: object) -> AccountSituation:
    return AccountSituation(ACCOUNT, "USD", "kim", invoices, **overrides)  # type: ignore[arg-type]


def invoice(due: date, balance: int = 10_000, held: bool = False) -> OpenInvoice:
    return OpenInvoice(uuid4(), due, balance, held)


# -- calendar -------------------------------------------------------------------------------------


def test_weekends_and_public_holidays_are_not_business_days() -> None:
    assert US.is_business_day(date(2026, 11, 25))  # a Wednesday
    assert not US.is_business_day(date(2026, 11, 26))  # Thanksgiving
    assert not US.is_business_day(date(2026, 11, 28))  # Saturday
    assert US.next_business_day(date(2026, 11, 25)) == date(2026, 11, 27)
    assert US.on_or_after(date(2026, 12, 25)) == date(2026, 12, 28)  # Christmas, a Friday


def test_company_closing_days_count_like_holidays() -> None:
    closed = BusinessCalendar.of("US", closed=[date(2026, 12, 24)])
    assert not closed.is_business_day(date(2026, 12, 24))
    assert closed.add_business_days(date(2026, 12, 23), 1) == date(2026, 12, 28)


def test_another_country_has_its_own_holidays() -> None:
    de = BusinessCalendar.of("DE")
    assert not de.is_business_day(date(2026, 10, 3)) or date(2026, 10, 3).weekday() >= 5
    assert not de.is_business_day(date(2026, 12, 25))
    assert de.is_business_day(date(2026, 11, 26))  # not Thanksgiving there


@settings(max_examples=200, deadline=None)
@given(st.dates(date(2025, 1, 1), date(2028, 12, 31)), st.integers(0, 15))
def test_adding_business_days_lands_on_one_and_counts_them(start: date, count: int) -> None:
    end = US.add_business_days(start, count)
    assert US.is_business_day(end)
    between = [start + timedelta(d) for d in range(1, (end - start).days + 1)]
    assert sum(US.is_business_day(d) for d in between) in (count, count + 1)
    assert end >= start


# -- policies -------------------------------------------------------------------------------------


def test_steps_are_ordered_by_offset() -> None:
    assert ordered_steps([CALL, REMIND, FIRST]) == (REMIND, FIRST, CALL)


def test_two_steps_on_the_same_day_overlap_and_the_second_is_named() -> None:
    with pytest.raises(Refused) as refused:
        ordered_steps([FIRST, CALL, Step("again", 10, Channel.EMAIL, "x")])
    assert refused.value.field == "steps.2.offset_days"


def test_a_policy_needs_steps_with_distinct_ids() -> None:
    with pytest.raises(Refused) as refused:
        ordered_steps([])
    assert refused.value.field == "steps"
    with pytest.raises(Refused) as refused:
        ordered_steps([FIRST, Step("first", 5, Channel.CALL, "x")])
    assert refused.value.field == "steps.1.step_id"


# -- the daily plan -------------------------------------------------------------------------------


def test_a_step_due_on_a_weekend_falls_due_the_next_business_day() -> None:
    due = date(2026, 10, 30)  # Friday; +1 is Saturday
    assert step_date(due, FIRST, US) == date(2026, 11, 2)
    inv = invoice(due)
    assert plan_day(situation(inv), POLICY, set(), date(2026, 10, 31), US) is None
    plan = plan_day(situation(inv), POLICY, {(inv.invoice_id, "remind")}, date(2026, 11, 2), US)
    assert plan is not None and plan.lead == FIRST


def test_no_task_is_planned_on_a_holiday_and_the_step_waits_for_the_next_day() -> None:
    inv = invoice(date(2026, 11, 25))  # +1 is Thanksgiving
    fired = {(inv.invoice_id, "remind")}
    assert plan_day(situation(inv), POLICY, fired, date(2026, 11, 26), US) is None
    plan = plan_day(situation(inv), POLICY, fired, date(2026, 11, 27), US)
    assert plan is not None and [s.step for s in plan.steps] == [FIRST]


def test_month_end_due_dates_roll_into_the_next_month() -> None:
    inv = invoice(date(2026, 1, 31))  # a Saturday; +10 is Feb 10
    assert step_date(inv.due_date, CALL, US) == date(2026, 2, 10)
    fired = {(inv.invoice_id, s) for s in ("remind", "first")}
    plan = plan_day(situation(inv), POLICY, fired, date(2026, 2, 10), US)
    assert plan is not None and plan.lead == CALL and plan.days_past_due == 10


def test_one_consolidated_task_covers_every_overdue_invoice() -> None:
    old, new, future = (
        invoice(date(2026, 10, 9), 5_000),
        invoice(date(2026, 10, 30), 7_000),
        invoice(date(2026, 12, 31), 9_000),
    )
    fired = {(old.invoice_id, s) for s in ("remind", "first", "call")}
    plan = plan_day(situation(old, new, future), LATEST, fired, date(2026, 11, 2), US)
    assert plan is not None
    assert set(plan.invoice_ids) == {old.invoice_id, new.invoice_id}
    assert plan.amount_past_due_minor == 12_000
    assert plan.days_past_due == 24
    assert {s.step.step_id for s in plan.steps} == {"remind", "first"}
    assert plan.lead == FIRST


def test_an_invoice_in_instalments_counts_past_due_only_what_has_fallen_due() -> None:
    # 3,000 of the first instalment still open (due 30 Oct), 6,000 to come in December
    plan = replace(
        invoice(date(2026, 10, 30), 9_000),
        open_instalments=((date(2026, 10, 30), 3_000), (date(2026, 12, 1), 6_000)),
    )
    assert plan.past_due_minor(date(2026, 10, 30)) == 0
    assert plan.past_due_minor(date(2026, 11, 2)) == 3_000
    assert plan.past_due_minor(date(2026, 12, 2)) == 9_000
    task = plan_day(situation(plan), LATEST, set(), date(2026, 11, 2), US)
    assert task is not None and task.lead == FIRST
    assert (task.amount_past_due_minor, task.days_past_due) == (3_000, 3)


def test_catch_up_starts_with_the_first_step_not_done_and_goes_on_a_step_a_day() -> None:
    # go-live: an invoice 40 days late that never had a step; every step's day has passed
    inv = invoice(date(2026, 9, 23))
    fired: set[tuple[UUID, str]] = set()
    leads = []
    day = date(2026, 11, 2)
    for _ in range(4):
        plan = plan_day(situation(inv), POLICY, fired, day, US)
        assert plan is not None
        leads.append(plan.lead.step_id)
        fired |= {(inv.invoice_id, s.step.step_id) for s in plan.steps}
        day = US.next_business_day(day)
    assert leads == ["remind", "first", "call", "final"]
    assert plan_day(situation(inv), POLICY, fired, day, US) is None


def test_catch_up_latest_sends_only_the_most_advanced_step_and_counts_the_rest_done() -> None:
    inv = invoice(date(2026, 9, 23))
    plan = plan_day(situation(inv), LATEST, set(), date(2026, 11, 2), US)
    assert plan is not None and plan.lead == FINAL
    assert {s.step.step_id for s in plan.steps} == {"remind", "first", "call", "final"}


def test_a_reminder_before_the_due_date_covers_the_invoice_that_is_not_yet_overdue() -> None:
    inv = invoice(date(2026, 11, 20))
    plan = plan_day(situation(inv), POLICY, set(), date(2026, 11, 17), US)
    assert plan is not None and plan.lead == REMIND
    assert plan.invoice_ids == (inv.invoice_id,) and plan.amount_past_due_minor == 0


def test_steps_that_fired_do_not_fire_again() -> None:
    inv = invoice(date(2026, 10, 1))
    fired = {(inv.invoice_id, s.step_id) for s in POLICY.steps}
    assert plan_day(situation(inv), POLICY, fired, date(2026, 11, 2), US) is None


def test_held_invoices_take_no_part_but_the_others_go_on() -> None:
    held, free = invoice(date(2026, 10, 1), held=True), invoice(date(2026, 10, 1), 3_000)
    plan = plan_day(situation(held, free), POLICY, set(), date(2026, 10, 2), US)
    assert plan is not None and plan.invoice_ids == (free.invoice_id,)
    assert plan.amount_past_due_minor == 3_000
    assert plan_day(situation(held), POLICY, set(), date(2026, 10, 2), US) is None


def test_an_open_promise_pauses_the_account_until_its_deadline_then_it_resumes() -> None:
    inv = invoice(date(2026, 10, 1))
    paused = situation(inv, paused_until=date(2026, 10, 20))
    assert plan_day(paused, POLICY, set(), date(2026, 10, 20), US) is None
    plan = plan_day(paused, LATEST, set(), date(2026, 10, 21), US)
    assert plan is not None and plan.lead == CALL  # the steps missed while paused catch up
    plan = plan_day(paused, POLICY, set(), date(2026, 10, 21), US)
    assert plan is not None and plan.lead == REMIND  # ... or resume at the first not done


def test_an_escalating_step_makes_the_task_escalate() -> None:
    inv = invoice(date(2026, 9, 1))
    fired = {(inv.invoice_id, s) for s in ("remind", "first", "call")}
    plan = plan_day(situation(inv), POLICY, fired, date(2026, 10, 1), US)
    assert plan is not None and plan.lead.escalates


# -- priority -------------------------------------------------------------------------------------


def test_the_documented_formula() -> None:
    assert priority_score(PriorityInputs(100_000, 10)) == 50 + 300
    assert priority_score(PriorityInputs(0, 400, 9, True, True)) == 900 + 1000 + 200 + 100


inputs = st.builds(
    PriorityInputs,
    st.integers(0, 10**12),
    st.integers(0, 1000),
    st.integers(0, 10),
    st.booleans(),
    st.booleans(),
)


@given(inputs, st.integers(0, 10**9), st.integers(0, 100), st.integers(0, 3))
def test_the_score_never_falls_when_a_reason_to_call_grows(
    base: PriorityInputs, more_money: int, more_days: int, more_broken: int
) -> None:
    score = priority_score(base)
    assert score >= 0
    assert (
        priority_score(
            PriorityInputs(
                base.amount_past_due_minor + more_money,
                base.days_past_due,
                base.broken_commitments,
                base.at_risk,
                base.escalates,
            )
        )
        >= score
    )
    assert (
        priority_score(
            PriorityInputs(
                base.amount_past_due_minor,
                base.days_past_due + more_days,
                base.broken_commitments,
                base.at_risk,
                base.escalates,
            )
        )
        >= score
    )
    assert (
        priority_score(
            PriorityInputs(
                base.amount_past_due_minor,
                base.days_past_due,
                base.broken_commitments + more_broken,
                True,
                True,
            )
        )
        >= score
    )


def test_a_broken_promise_outranks_a_slightly_older_debt() -> None:
    kept_word = priority_score(PriorityInputs(50_000, 40))
    broke_word = priority_score(PriorityInputs(50_000, 30, broken_commitments=1))
    assert broke_word > kept_word


# -- promises -------------------------------------------------------------------------------------

PROMISE = Promise(uuid4(), 10_000, date(2026, 11, 25), 2, date(2026, 11, 16))
# deadline: Nov 25 + 2 business days, skipping Thanksgiving -> Nov 30 (Mon)


def test_the_deadline_counts_grace_in_business_days() -> None:
    assert deadline(PROMISE, US) == date(2026, 11, 30)


def test_paid_in_full_by_the_date_is_kept_on_the_day_the_money_completed_it() -> None:
    payments = [Payment(date(2026, 11, 20), 4_000), Payment(date(2026, 11, 24), 6_000)]
    assert judge(PROMISE, payments, date(2026, 11, 24), US) == Kept(10_000, date(2026, 11, 24))


def test_paid_late_but_within_grace_is_kept() -> None:
    verdict = judge(PROMISE, [Payment(date(2026, 11, 30), 10_000)], date(2026, 12, 1), US)
    assert verdict == Kept(10_000, date(2026, 11, 30))


def test_paid_after_the_grace_period_is_too_late() -> None:
    late = [Payment(date(2026, 12, 1), 10_000)]
    assert judge(PROMISE, late, date(2026, 12, 1), US) == Broken(0)


def test_partly_paid_when_the_deadline_passes_is_partially_kept_with_the_amounts() -> None:
    some = [Payment(date(2026, 11, 25), 6_000)]
    assert judge(PROMISE, some, date(2026, 11, 30), US) == Open(6_000)
    assert judge(PROMISE, some, date(2026, 12, 1), US) == PartiallyKept(6_000, 4_000)


def test_money_paid_before_the_promise_was_made_does_not_count() -> None:
    before = [Payment(date(2026, 11, 13), 10_000)]
    assert judge(PROMISE, before, date(2026, 12, 1), US) == Broken(0)


def test_a_reversed_payment_takes_back_what_it_paid() -> None:
    bounced = [Payment(date(2026, 11, 20), 6_000), Payment(date(2026, 11, 23), -6_000)]
    assert judge(PROMISE, bounced, date(2026, 12, 1), US) == Broken(0)


@settings(max_examples=200)
@given(
    st.lists(st.tuples(st.integers(0, 20), st.integers(1, 6_000)), max_size=6), st.integers(0, 25)
)
def test_the_verdict_does_not_depend_on_the_order_payments_arrive(
    raw: list[tuple[int, int]], day: int
) -> None:
    payments = [Payment(PROMISE.made_on + timedelta(days=d), amount) for d, amount in raw]
    today = PROMISE.made_on + timedelta(days=day)
    assert judge(PROMISE, payments, today, US) == judge(PROMISE, payments[::-1], today, US)


def test_a_promise_in_the_past_or_of_nothing_is_refused_naming_the_field() -> None:
    today = date(2026, 11, 16)
    for amount, promised, grace, field in (
        (0, today, 2, "amount_minor"),
        (MAX_MINOR + 1, today, 2, "amount_minor"),
        (100, today - timedelta(days=1), 2, "promised_date"),
        (100, today, 31, "grace_days"),
    ):
        with pytest.raises(Refused) as refused:
            check_new(amount, promised, grace, today)
        assert refused.value.field == field
    check_new(100, today, 0, today)


# -- a task's life --------------------------------------------------------------------------------


def scheduled(collector: str | None = "kim") -> tasks.Task:
    event = TaskScheduled(
        task_id=uuid4(),
        account_id=ACCOUNT,
        collector_id=collector,
        kind=TaskKind.CADENCE,
        business_date=date(2026, 11, 2),
        channel=Channel.CALL,
        template="call_script",
        escalates=False,
        steps=[],
        invoice_ids=[],
        amount_past_due_minor=100,
        currency="USD",
        days_past_due=3,
        priority_score=10,
    )
    return fold(tasks.evolve, tasks.Task(), [event])


NOW = datetime(2026, 11, 2, 15, tzinfo=UTC)


def test_a_collector_completes_their_own_task_once() -> None:
    task = scheduled()
    [done] = tasks.complete(
        task,
        by="kim",
        may_act_for_others=False,
        outcome=TaskOutcome.NO_ANSWER,
        today=date(2026, 11, 2),
        now=NOW,
    )
    closed = tasks.evolve(task, done)
    with pytest.raises(Refusal) as refused:
        tasks.complete(
            closed,
            by="kim",
            may_act_for_others=False,
            outcome=TaskOutcome.NO_ANSWER,
            today=date(2026, 11, 2),
            now=NOW,
        )
    assert refused.value.kind is RefusalKind.CONFLICT


def test_another_collectors_task_needs_a_supervisor() -> None:
    with pytest.raises(Refusal) as refused:
        tasks.complete(
            scheduled(),
            by="lee",
            may_act_for_others=False,
            outcome=TaskOutcome.NO_ANSWER,
            today=date(2026, 11, 2),
            now=NOW,
        )
    assert refused.value.kind is RefusalKind.NOT_PERMITTED
    [done] = tasks.complete(
        scheduled(),
        by="sue",
        may_act_for_others=True,
        outcome=TaskOutcome.NO_ANSWER,
        today=date(2026, 11, 2),
        now=NOW,
    )
    assert done.collector_id == "sue" and done.assigned_collector_id == "kim"  # type: ignore[attr-defined]


def test_a_missed_task_counts_each_day_it_is_carried_over() -> None:
    task = scheduled()
    [first] = tasks.miss(task, carried_over_to=date(2026, 11, 3))
    task = tasks.evolve(task, first)
    assert tasks.miss(task, carried_over_to=date(2026, 11, 3)) == []  # the same run again
    [second] = tasks.miss(task, carried_over_to=date(2026, 11, 4))
    assert (second.missed_on, second.times_missed) == (date(2026, 11, 3), 2)  # type: ignore[attr-defined]
    [cancelled] = tasks.cancel(
        tasks.evolve(task, second), reason=TaskCancellation.ON_HOLD, today=date(2026, 11, 4)
    )
    assert cancelled.business_date == date(2026, 11, 2)  # type: ignore[attr-defined]


# -- the cadence over a season --------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.dates(date(2026, 1, 1), date(2026, 12, 31)), st.integers(1, 100_000)),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from(["US", "DE", "GB"]),
    st.sampled_from([POLICY, LATEST]),
)
def test_over_a_year_each_step_fires_once_per_invoice_on_business_days_only(
    raw: list[tuple[date, int]], country: str, policy: Policy
) -> None:
    """Under `latest` a step fires on its own day; one step at a time (first_not_done), two
    steps that fall on one business day fire on consecutive ones, in order."""
    calendar = BusinessCalendar.of(country)
    invoices = tuple(invoice(due, amount) for due, amount in raw)
    fired: set[tuple[UUID, str]] = set()
    day, end = date(2025, 12, 1), date(2027, 3, 1)
    while day <= end:
        plan = plan_day(situation(*invoices), policy, fired, day, calendar)
        if plan is not None:
            assert calendar.is_business_day(day)
            today: list[UUID] = []
            for due in plan.steps:
                for invoice_id in due.invoice_ids:
                    assert (invoice_id, due.step.step_id) not in fired
                    inv = next(i for i in invoices if i.invoice_id == invoice_id)
                    when = step_date(inv.due_date, due.step, calendar)
                    assert when == day if policy is LATEST else when <= day
                    fired.add((invoice_id, due.step.step_id))
                    today.append(invoice_id)
            assert policy is LATEST or len(today) == len(set(today))
        day += timedelta(days=1)
    assert fired == {(i.invoice_id, s.step_id) for i in invoices for s in POLICY.steps}


# -- follow-ups: rescheduled, snoozed, handed over, priced like the cadence ------------------------


def test_a_task_is_rescheduled_to_a_business_day_from_today_on() -> None:
    task = scheduled()
    [moved] = tasks.reschedule(
        task,
        due_on=date(2026, 11, 5),
        due_at=None,
        snoozed=False,
        by="kim",
        may_act_for_others=False,
        today=date(2026, 11, 2),
        calendar=US,
    )
    assert isinstance(moved, TaskRescheduled)
    assert (moved.previous_due_on, moved.due_on) == (date(2026, 11, 2), date(2026, 11, 5))
    assert tasks.evolve(task, moved).due_on == date(2026, 11, 5)
    for day in (date(2026, 11, 1), date(2026, 11, 7), date(2026, 11, 26)):  # past, Sat, Thanks.
        with pytest.raises(Refused) as refused:
            tasks.reschedule(
                task,
                due_on=day,
                due_at=None,
                snoozed=False,
                by="kim",
                may_act_for_others=False,
                today=date(2026, 11, 2),
                calendar=US,
            )
        assert refused.value.field == "due_on"
    assert (
        tasks.reschedule(
            task,
            due_on=date(2026, 11, 2),
            due_at=None,
            snoozed=False,
            by="kim",
            may_act_for_others=False,
            today=date(2026, 11, 2),
            calendar=US,
        )
        == []
    )


def test_only_its_collector_or_a_supervisor_moves_or_hands_over_a_task() -> None:
    task = scheduled()
    with pytest.raises(Refusal) as refused:
        tasks.hand_over(task, to="lee", by="lee", may_act_for_others=False, today=date(2026, 11, 2))
    assert refused.value.kind is RefusalKind.NOT_PERMITTED
    [handed] = tasks.hand_over(
        task, to="lee", by="sue", may_act_for_others=True, today=date(2026, 11, 2)
    )
    assert isinstance(handed, TaskHandedOver) and handed.previous_collector_id == "kim"
    assert tasks.evolve(task, handed).collector_id == "lee"
    assert (
        tasks.hand_over(task, to="kim", by="kim", may_act_for_others=False, today=date(2026, 11, 2))
        == []
    )


def test_a_hand_set_follow_up_is_priced_on_its_day_and_never_a_cadence_task() -> None:
    situation = AccountSituation(
        ACCOUNT, "USD", "kim", (OpenInvoice(uuid4(), date(2026, 10, 30), 5_000),)
    )
    new = tasks.HandSet(
        task_id=uuid4(),
        kind=TaskKind.FOLLOW_UP,
        channel=Channel.CALL,
        due_on=date(2026, 11, 5),
        assignee="kim",
        by="kim",
        due_at=tasks.due_moment(date(2026, 11, 5), time(10), "America/New_York"),
    )
    [event] = tasks.set_by_hand(new, situation, today=date(2026, 11, 2), calendar=US)
    assert isinstance(event, TaskScheduled)
    assert (event.days_past_due, event.amount_past_due_minor) == (6, 5_000)
    assert event.due_at == datetime(2026, 11, 5, 15, tzinfo=UTC)
    with pytest.raises(Refused) as refused:
        tasks.set_by_hand(
            replace(new, kind=TaskKind.CADENCE), situation, today=date(2026, 11, 2), calendar=US
        )
    assert refused.value.field == "kind"


def test_a_commitment_is_cancelled_once_and_only_while_open() -> None:
    made = CommitmentMade(
        commitment_id=uuid4(),
        account_id=ACCOUNT,
        collector_id="kim",
        amount_minor=5_000,
        currency="USD",
        promised_date=date(2026, 11, 6),
        grace_days=2,
        invoice_ids=[],
        channel=Channel.CALL,
        made_on=date(2026, 11, 2),
        made_at=NOW,
    )
    promise = fold(commitments.evolve, commitments.Commitment(), [made])
    [cancelled] = commitments.cancel(
        promise, by="sue", reason="taken in error", today=date(2026, 11, 3)
    )
    assert cancelled.cancelled_by == "sue" and cancelled.collector_id == "kim"
    for history, kind in (([], RefusalKind.NOT_FOUND), ([made, cancelled], RefusalKind.CONFLICT)):
        with pytest.raises(Refusal) as refused:
            commitments.cancel(
                fold(commitments.evolve, commitments.Commitment(), history),
                by="sue",
                reason="again",
                today=date(2026, 11, 3),
            )
        assert refused.value.kind is kind
