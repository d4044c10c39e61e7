"""A task's scheduling and carrying over as pure decisions: the day's plan and a broken
promise's follow-up become tasks, and an open task from an earlier day is missed (due again
today) or cancelled when nothing it was about still needs a call."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID, uuid4

from collections_service.domain import tasks
from collections_service.domain.cadence import (
    AccountSituation,
    OpenInvoice,
    Policy,
    Step,
    plan_day,
)
from collections_service.domain.calendar import BusinessCalendar
from collections_service.domain.dunning import CatchUp
from receivables_platform.contracts.collections import (
    Channel,
    TaskCancellation,
    TaskCancelled,
    TaskKind,
    TaskMissed,
    TaskScheduled,
)
from receivables_platform.domain import fold

US = BusinessCalendar.of("US")
ACCOUNT = UUID("01900000-0000-7000-8000-0000000000e5")
FIRST = Step("first", 1, Channel.EMAIL, "overdue_statement")
CALL = Step("call", 10, Channel.CALL, "call_script")
FINAL = Step("final", 30, Channel.LETTER, "final_notice", escalates=True)
POLICY = Policy(uuid4(), 3, None, "Standard", (FIRST, CALL, FINAL), CatchUp.LATEST)
MONDAY, TUESDAY = date(2026, 11, 2), date(2026, 11, 3)
OLD = OpenInvoice(uuid4(), date(2026, 9, 30), 7_000)
NEW = OpenInvoice(uuid4(), date(2026, 10, 20), 5_000)


def situation(*invoices: OpenInvoice, **overrides: object) -> AccountSituation:
    return replace(AccountSituation(ACCOUNT, "USD", "kim", invoices), **overrides)


def planned(*invoices: OpenInvoice) -> tasks.Task:
    today = situation(*invoices)
    plan = plan_day(today, POLICY, set(), MONDAY, US)
    assert plan is not None
    return fold(
        tasks.evolve,
        tasks.Task(),
        tasks.schedule_plan(
            uuid4(), plan, today, policy_id=POLICY.policy_id, policy_version=POLICY.version
        ),
    )


def test_the_day_s_plan_becomes_one_cadence_task_led_by_its_most_advanced_step() -> None:
    today = situation(OLD, NEW)
    plan = plan_day(today, POLICY, set(), MONDAY, US)
    assert plan is not None
    [event] = tasks.schedule_plan(
        uuid4(), plan, today, policy_id=POLICY.policy_id, policy_version=POLICY.version
    )
    assert isinstance(event, TaskScheduled)
    assert event.kind is TaskKind.CADENCE and event.template == "final_notice"
    assert event.escalates and event.collector_id == "kim" and event.currency == "USD"
    assert {s.policy_version for s in event.steps} == {3}
    assert set(event.invoice_ids) == {OLD.invoice_id, NEW.invoice_id}
    assert tasks.evolve(tasks.Task(), event).invoice_ids == {OLD.invoice_id, NEW.invoice_id}


def test_a_broken_promise_s_follow_up_is_a_call_priced_as_one_more_broken_promise() -> None:
    commitment = uuid4()
    [event] = tasks.follow_up(uuid4(), situation(OLD, broken_commitments=1), commitment, TUESDAY)
    assert isinstance(event, TaskScheduled)
    assert event.kind is TaskKind.COMMITMENT_FOLLOW_UP and event.channel is Channel.CALL
    assert event.commitment_id == commitment and event.business_date == TUESDAY
    assert (event.amount_past_due_minor, event.days_past_due) == (7_000, 34)
    [unbroken] = tasks.follow_up(uuid4(), situation(OLD), commitment, TUESDAY)
    assert isinstance(unbroken, TaskScheduled)
    assert event.priority_score > unbroken.priority_score


def test_an_open_task_from_yesterday_is_missed_and_due_today() -> None:
    task = planned(OLD, NEW)
    [missed] = tasks.carry_over(task, situation(OLD, NEW), TUESDAY)
    assert isinstance(missed, TaskMissed) and missed.carried_over_to == TUESDAY
    assert tasks.carry_over(task, situation(OLD, NEW), MONDAY) == []  # not yet overdue
    assert tasks.carry_over(tasks.evolve(task, missed), situation(OLD, NEW), TUESDAY) == []


def test_a_cadence_task_whose_invoices_were_paid_is_cancelled_even_if_others_are_owed() -> None:
    task = planned(OLD)
    later = OpenInvoice(uuid4(), date(2026, 10, 30), 1_000)
    [cancelled] = tasks.carry_over(task, situation(later), TUESDAY)
    assert isinstance(cancelled, TaskCancelled)
    assert cancelled.reason is TaskCancellation.NOTHING_OVERDUE


def test_held_or_promised_invoices_make_a_cadence_task_moot() -> None:
    task = planned(OLD)
    assert tasks.moot(task, situation(replace(OLD, held=True)), TUESDAY) is TaskCancellation.ON_HOLD
    assert (
        tasks.moot(task, situation(OLD, paused_until=date(2026, 11, 10)), TUESDAY)
        is TaskCancellation.COMMITMENT_OPEN
    )
    assert (
        tasks.moot(task, situation(replace(OLD, paused_until=date(2026, 11, 10))), TUESDAY)
        is TaskCancellation.COMMITMENT_OPEN
    )
    assert tasks.moot(task, situation(OLD), TUESDAY) is None


def test_a_follow_up_a_person_set_stays_while_anything_is_owed() -> None:
    event = tasks.set_by_hand(
        tasks.HandSet(
            task_id=uuid4(),
            kind=TaskKind.FOLLOW_UP,
            channel=Channel.CALL,
            due_on=MONDAY,
            assignee="kim",
            by="kim",
        ),
        situation(OLD),
        today=MONDAY,
        calendar=US,
    )
    task = fold(tasks.evolve, tasks.Task(), event)
    assert tasks.moot(task, situation(replace(OLD, held=True)), TUESDAY) is None
    assert tasks.moot(task, situation(), TUESDAY) is TaskCancellation.NOTHING_OVERDUE
