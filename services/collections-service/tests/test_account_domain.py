"""An account's collection state as pure decide/evolve: given its events, when a command,
then the events decided or the refusal, with no database."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from collections_service.domain import account
from collections_service.domain.account import CollectionAccount, Escalate, PlaceHold
from collections_service.domain.refusals import Refusal, RefusalKind
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import (
    AccountAssigned,
    AccountEscalated,
    AccountMarkedAtRisk,
    AccountRiskCleared,
    AssignmentBasis,
    HoldPlaced,
    HoldRelease,
    HoldReleased,
    HoldSource,
    RiskClearance,
    RiskReason,
)
from receivables_platform.domain import Refused, fold

ACCOUNT = UUID("01900000-0000-7000-8000-0000000000a1")
INVOICE, OTHER = uuid4(), uuid4()
TODAY = date(2026, 11, 2)


def given(*events: EventContract) -> CollectionAccount:
    return fold(account.evolve, CollectionAccount(), list(events))


def assigned(collector: str = "kim") -> AccountAssigned:
    return AccountAssigned(
        account_id=ACCOUNT,
        collector_id=collector,
        basis="explicit",
        assigned_by="sue",
        effective_on=TODAY,
    )


def placed(hold_id: UUID, *invoices: UUID, case_id: str | None = None) -> HoldPlaced:
    return HoldPlaced(
        hold_id=hold_id,
        account_id=ACCOUNT,
        invoice_ids=list(invoices),
        source=HoldSource.CASE if case_id else HoldSource.MANUAL,
        reason="disputed",
        case_id=case_id,
        placed_on=TODAY,
    )


def hold(*invoices: UUID, ends_on: date | None = None) -> PlaceHold:
    return PlaceHold(
        hold_id=uuid4(),
        account_id=ACCOUNT,
        invoice_ids=invoices,
        reason="customer disputes the meter reading",
        today=TODAY,
        by="kim",
        ends_on=ends_on,
    )


def test_a_hold_names_invoices_of_the_account_only() -> None:
    command = hold(INVOICE, OTHER)
    with pytest.raises(Refused) as refused:
        account.place_hold(command, given(), invoices_of_account={INVOICE})
    assert refused.value.field == "invoice_ids.1"
    [event] = account.place_hold(command, given(), invoices_of_account={INVOICE, OTHER})
    assert isinstance(event, HoldPlaced)
    assert event.invoice_ids == [INVOICE, OTHER] and event.placed_by == "kim"
    assert event.source is HoldSource.MANUAL and event.placed_on == TODAY


def test_a_hold_needs_invoices_and_an_end_after_today_within_three_years() -> None:
    for command, field in (
        (hold(), "invoice_ids"),
        (hold(INVOICE, ends_on=TODAY), "ends_on"),
        (hold(INVOICE, ends_on=TODAY + timedelta(days=3 * 366 + 1)), "ends_on"),
    ):
        with pytest.raises(Refused) as refused:
            account.place_hold(command, given(), invoices_of_account={INVOICE})
        assert refused.value.field == field
    assert account.place_hold(
        hold(INVOICE, ends_on=TODAY + timedelta(days=1)), given(), invoices_of_account={INVOICE}
    )


def test_a_hold_is_released_once_with_its_invoices_and_case() -> None:
    hold_id = uuid4()
    state = given(placed(hold_id, INVOICE, case_id="case-1"))
    [released] = account.release_hold(
        state, hold_id, HoldRelease.CASE_RESOLVED, by=None, today=TODAY
    )
    assert isinstance(released, HoldReleased)
    assert released.invoice_ids == [INVOICE] and released.case_id == "case-1"
    with pytest.raises(Refusal) as refused:
        account.release_hold(
            account.evolve(state, released), hold_id, HoldRelease.MANUAL, by="kim", today=TODAY
        )
    assert refused.value.kind is RefusalKind.CONFLICT and refused.value.field == "hold_id"


def test_releasing_a_hold_the_account_never_had_is_not_found() -> None:
    state = given(placed(uuid4(), INVOICE))
    with pytest.raises(Refusal) as refused:
        account.release_hold(state, uuid4(), HoldRelease.MANUAL, by="kim", today=TODAY)
    assert refused.value.kind is RefusalKind.NOT_FOUND


def test_a_case_holds_only_what_it_does_not_hold_yet_and_its_released_holds_no_more() -> None:
    first, second, manual = uuid4(), uuid4(), uuid4()
    state = given(
        placed(first, INVOICE, case_id="case-1"),
        placed(manual, OTHER),
        placed(second, OTHER, case_id="case-1"),
    )
    assert state.holds_of_case("case-1") == [first, second]
    assert state.held_for_case("case-1") == {INVOICE, OTHER}
    [released] = account.release_hold(state, first, HoldRelease.CASE_CLOSED, by=None, today=TODAY)
    state = account.evolve(state, released)
    assert state.holds_of_case("case-1") == [second]
    assert state.held_for_case("case-1") == {OTHER}
    assert state.held_for_case("case-2") == set()


def test_an_account_is_at_risk_since_the_first_mark_until_good_news_clears_it() -> None:
    first = account.mark_at_risk(
        ACCOUNT,
        collector_id="kim",
        reason=RiskReason.COMMITMENT_BROKEN,
        commitment_id=None,
        today=TODAY,
    )
    later = account.mark_at_risk(
        ACCOUNT,
        collector_id="kim",
        reason=RiskReason.COMMITMENT_PARTIALLY_KEPT,
        commitment_id=None,
        today=TODAY + timedelta(days=7),
    )
    state = given(assigned(), *first, *later)
    assert isinstance(first[0], AccountMarkedAtRisk) and state.at_risk_since == TODAY
    [cleared] = account.clear_risk(state, RiskClearance.PAID_UP, today=TODAY + timedelta(days=9))
    assert isinstance(cleared, AccountRiskCleared)
    assert cleared.at_risk_since == TODAY and cleared.collector_id == "kim"
    assert (
        account.clear_risk(account.evolve(state, cleared), RiskClearance.PAID_UP, today=TODAY) == []
    )


def test_an_account_never_at_risk_has_nothing_to_clear() -> None:
    assert account.clear_risk(given(), RiskClearance.COMMITMENT_KEPT, today=TODAY) == []
    assert account.clear_risk(given(assigned()), RiskClearance.PAID_UP, today=TODAY) == []


def test_assigning_says_who_had_it_and_why_and_the_same_collector_changes_nothing() -> None:
    [first] = account.assign(given(), ACCOUNT, "kim", by="sue", today=TODAY)
    assert isinstance(first, AccountAssigned)
    assert first.previous_collector_id is None and first.basis is AssignmentBasis.EXPLICIT
    state = given(first)
    assert account.assign(state, ACCOUNT, "kim", by="sue", today=TODAY) == []
    rule = uuid4()
    [moved] = account.assign(state, ACCOUNT, "lee", by="sue", today=TODAY, rule_id=rule)
    assert isinstance(moved, AccountAssigned)
    assert moved.previous_collector_id == "kim" and moved.basis is AssignmentBasis.RULE
    assert given(first, moved).collector_id == "lee"


def test_an_escalation_names_the_account_s_collector_and_the_supervisor_s_task() -> None:
    task = uuid4()
    [escalated] = account.escalate(
        Escalate(
            account_id=ACCOUNT, reason="stalling", today=TODAY, supervisor_task_id=task, by="kim"
        ),
        given(assigned("lee")),
    )
    assert isinstance(escalated, AccountEscalated)
    assert escalated.collector_id == "lee" and escalated.supervisor_task_id == task
    assert escalated.escalated_by == "kim"


def test_a_second_escalation_is_refused_while_the_first_one_s_task_is_open() -> None:
    account.check_escalation(None)
    with pytest.raises(Refusal) as refused:
        account.check_escalation(uuid4())
    assert refused.value.kind is RefusalKind.CONFLICT and refused.value.field == "account_id"
