"""The case aggregate, pure: given events, when a command, then events or a refusal."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest
from hypothesis import given as hypothesis_given
from hypothesis import settings
from hypothesis import strategies as st

from case_service.domain import commands as c
from case_service.domain.case import MOVES, RESOLVABLE, decide, evolve
from case_service.domain.checklist import completeness
from case_service.domain.policy import SlaPolicy
from case_service.domain.state import Case, CorrectionOutcome
from case_service.testing import (
    ACCOUNT,
    AGENT,
    CASE,
    INVOICE,
    at,
    close,
    confirm,
    given,
    note,
    open_case,
    resolve,
    status,
    when,
)
from receivables_platform.contracts.cases import (
    CaseClosed,
    CaseOpened,
    CaseSlaBreached,
    CaseStatus,
    CaseStatusChanged,
    CaseType,
    ChecklistItem,
    CorrectionDirection,
    CustomerChannel,
    EscalationTeam,
    RootCause,
)
from receivables_platform.domain import NotFound, RefusalKind, Refused, fold

S = CaseStatus
CAUSE = RootCause(
    category_id=uuid4(), category_code="RATE", category_name="Wrong rate", detail="Old price list"
)


def test_a_case_opens_new_with_its_sla_due_in_the_target_days():
    [opened] = when(Case(), open_case())
    assert isinstance(opened, CaseOpened) and opened.sla_due_at == at(14)
    assert given(open_case()).status is S.NEW


def test_a_case_opens_once():
    with pytest.raises(Refused) as refused:
        when(given(open_case()), open_case())
    assert refused.value.kind is RefusalKind.CONFLICT


def test_commands_on_an_unknown_case_are_not_found():
    with pytest.raises(NotFound):
        when(Case(), note())


@pytest.mark.parametrize("target", [S.RESOLVED, S.CLOSED])
def test_resolving_or_closing_a_new_case_is_an_invalid_transition(target):
    command = resolve(1) if target is S.RESOLVED else close(1)
    with pytest.raises(Refused) as refused:
        when(given(open_case()), command)
    assert (refused.value.kind, refused.value.field) == (RefusalKind.CONFLICT, "status")


def test_a_billing_case_cannot_close_without_the_customers_confirmation():
    state = given(open_case(), status(S.INVESTIGATING), resolve())
    with pytest.raises(Refused) as refused:
        when(state, close())
    assert refused.value.field == "confirmation"
    [closed] = when(given(open_case(), status(S.INVESTIGATING), resolve(), confirm()), close())
    assert isinstance(closed, CaseClosed) and closed.invoice_ids == [INVOICE]


def test_a_non_billing_case_closes_without_confirmation():
    state = given(open_case(type=CaseType.ACCOUNT_SETUP), status(S.INVESTIGATING), resolve())
    [closed] = when(state, close())
    assert isinstance(closed, CaseClosed)
    assert not closed.completeness.complete


def test_the_close_event_carries_the_completeness_checklist_and_root_cause():
    state = given(
        open_case(),
        status(S.INVESTIGATING),
        note(),
        c.IdentifyRootCause(CASE, CAUSE, AGENT, at(1)),
        c.RecordCustomerUpdate(CASE, uuid4(), CustomerChannel.EMAIL, "Credit issued", AGENT, at(2)),
        resolve(),
        confirm(),
    )
    [closed] = when(state, close())
    assert isinstance(closed, CaseClosed)
    assert closed.completeness.complete and closed.root_cause == CAUSE
    assert closed.completeness.satisfied_count == closed.completeness.required_count == 7


def test_completeness_names_what_is_missing():
    entries = {e.item: e for e in completeness(given(open_case(description=" "))).entries}
    assert not entries[ChecklistItem.PROBLEM_STATEMENT].satisfied
    assert entries[ChecklistItem.LINKED_INVOICE].satisfied
    setup = {
        e.item: e
        for e in completeness(given(open_case(type=CaseType.ACCOUNT_SETUP, invoice_ids=()))).entries
    }
    assert not setup[ChecklistItem.LINKED_INVOICE].required


def test_a_closed_case_reopens_within_the_window_only():
    closed = given(open_case(), status(S.INVESTIGATING), resolve(), confirm(), close(3))
    [reopened] = when(closed, c.ReopenCase(CASE, "Charged again", 30, AGENT, at(33)))
    assert fold(evolve, closed, [reopened]).status is S.INVESTIGATING
    with pytest.raises(Refused) as refused:
        when(closed, c.ReopenCase(CASE, "Charged again", 30, AGENT, at(33.1)))
    assert refused.value.title == "Reopen window passed"


def test_a_closed_case_refuses_notes_until_reopened():
    closed = given(open_case(type=CaseType.OTHER), status(S.INVESTIGATING), resolve(), close())
    with pytest.raises(Refused):
        when(closed, note(days=4))


def test_waiting_on_the_customer_pauses_the_sla_clock():
    state = given(open_case(), status(S.WAITING_ON_CUSTOMER, 1), status(S.INVESTIGATING, 6))
    assert state.sla is not None and state.sla.due_at == at(19)
    assert when(state, c.CheckSla(CASE, at(18.9))) == []
    [breach] = when(state, c.CheckSla(CASE, at(19.5)))
    assert isinstance(breach, CaseSlaBreached) and breach.sla_due_at == at(19)
    assert when(fold(evolve, state, [breach]), c.CheckSla(CASE, at(20))) == [], "breach once"


def test_no_breach_while_paused():
    state = given(open_case(), status(S.WAITING_ON_CUSTOMER, 1))
    assert when(state, c.CheckSla(CASE, at(40))) == []


def test_a_correction_shows_billings_answer_once():
    state = given(open_case(), status(S.INVESTIGATING))
    correction_id = uuid4()
    state = fold(
        evolve,
        state,
        when(
            state,
            c.RequestCorrection(
                CASE,
                correction_id,
                INVOICE,
                500,
                CorrectionDirection.CREDIT,
                "USD",
                "double billed",
                "DUPLICATE",
                AGENT,
                at(1),
            ),
        ),
    )
    applied = c.RecordCorrectionApplied(
        CASE,
        correction_id,
        uuid4(),
        500,
        CorrectionDirection.CREDIT,
        "USD",
        date(2026, 11, 3),
        at(2),
    )
    state = fold(evolve, state, when(state, applied))
    assert state.corrections[correction_id].outcome is CorrectionOutcome.APPLIED
    assert when(state, applied) == [], "a redelivered answer changes nothing"


def test_a_case_with_a_pending_correction_does_not_close():
    state = given(
        open_case(),
        status(S.INVESTIGATING),
        c.RequestCorrection(
            CASE,
            uuid4(),
            INVOICE,
            500,
            CorrectionDirection.CREDIT,
            "USD",
            "double billed",
            "DUPLICATE",
            AGENT,
            at(1),
        ),
        resolve(),
        confirm(),
    )
    with pytest.raises(Refused) as refused:
        when(state, close())
    assert refused.value.field == "corrections"


def test_an_escalation_is_answered_once_and_knows_if_it_was_late():
    escalation_id = uuid4()
    state = given(
        open_case(),
        c.Escalate(
            CASE,
            escalation_id,
            EscalationTeam.INSTALLATION,
            "Was the meter swapped?",
            at(0).date() + timedelta(2),
            AGENT,
            at(0),
        ),
    )
    [answered] = when(
        state, c.AnswerEscalation(CASE, escalation_id, "Yes, on 1 Nov", "tech-1", at(5))
    )
    assert answered.overdue  # type: ignore[attr-defined]
    with pytest.raises(Refused):
        when(
            fold(evolve, state, [answered]),
            c.AnswerEscalation(CASE, escalation_id, "again", "tech-1", at(6)),
        )


def test_sla_policy_most_specific_rule_wins():
    policy = SlaPolicy.parse("dispute:urgent=3,*:urgent=5,dispute:*=10", 14)
    assert policy.target_days(CaseType.DISPUTE, "urgent") == 3  # type: ignore[arg-type]
    assert policy.target_days(CaseType.OTHER, "urgent") == 5  # type: ignore[arg-type]
    assert policy.target_days(CaseType.DISPUTE, "low") == 10  # type: ignore[arg-type]
    assert policy.target_days(CaseType.OTHER, "low") == 14  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="disputes:urgent"):
        SlaPolicy.parse("disputes:urgent=3")


# -- the status machine, by property ---------------------------------------------------------

ACTIONS = st.lists(
    st.sampled_from(
        [
            *(("move", s) for s in S if s not in (S.RESOLVED, S.CLOSED)),
            ("resolve", None),
            ("confirm", None),
            ("close", None),
            ("reopen", None),
        ]
    ),
    max_size=25,
)


def _command(action: tuple[str, S | None], day: float) -> c.Command:
    kind, target = action
    if kind == "move":
        assert target is not None
        return status(target, day)
    return {
        "resolve": lambda: resolve(day),
        "confirm": lambda: confirm(day),
        "close": lambda: close(day),
        "reopen": lambda: c.ReopenCase(CASE, "again", 30, AGENT, at(day)),
    }[kind]()


@settings(max_examples=300, deadline=None)
@hypothesis_given(ACTIONS)
def test_every_accepted_step_follows_the_flow_and_every_refused_one_changes_nothing(actions):
    state = given(open_case())
    for day, action in enumerate(actions, start=1):
        before = state.status
        assert before is not None
        try:
            events = decide(_command(action, day), state)
        except Refused as refused:
            assert refused.kind in (
                RefusalKind.NOT_FOUND,
                RefusalKind.CONFLICT,
                RefusalKind.INVALID,
            )
            continue
        state = fold(evolve, state, events)
        if not events or isinstance(events[0], CaseStatusChanged | CaseOpened):
            assert state.status is before or state.status in MOVES[before]
        if state.status is S.CLOSED and before is not S.CLOSED:
            assert before is S.RESOLVED and state.confirmation is not None
        if state.status is S.RESOLVED and before is not S.RESOLVED:
            assert before in RESOLVABLE
        assert state.sla is not None
        paused = state.sla.paused_since is not None
        assert paused == (state.status in (S.WAITING_ON_CUSTOMER, S.RESOLVED, S.CLOSED))


def test_linking_sets_a_missing_account_and_adds_invoices_once():
    from case_service.domain.commands import LinkCase
    from receivables_platform.contracts.cases import CaseLinked

    orphan = given(open_case(account_id=None, invoice_ids=()))
    other = uuid4()
    [linked] = when(orphan, LinkCase(CASE, ACCOUNT, (INVOICE, INVOICE), AGENT, at(1)))
    assert isinstance(linked, CaseLinked) and linked.added_invoice_ids == [INVOICE]
    state = fold(evolve, orphan, [linked])
    assert state.account_id == ACCOUNT and state.invoice_ids == (INVOICE,)
    assert when(state, LinkCase(CASE, ACCOUNT, (INVOICE,), AGENT, at(2))) == []
    with pytest.raises(Refused) as refused:
        when(state, LinkCase(CASE, other, (), AGENT, at(2)))
    assert refused.value.field == "account_id"
