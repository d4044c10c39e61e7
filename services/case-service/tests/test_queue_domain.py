"""The aggregate's rules for claims and next actions, and which notices events call for: pure."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from case_service.domain import commands as c
from case_service.domain.notifications import (
    Audience,
    Channel,
    NotificationKind,
    Recipient,
    credit_approval,
    from_case_events,
    route,
)
from case_service.testing import AGENT, CASE, at, given, open_case, when
from receivables_platform.contracts.billing import ApprovalAction, ApprovalRequested
from receivables_platform.contracts.cases import (
    CaseEscalationClaimed,
    CaseNextActionSet,
    EscalationTeam,
)
from receivables_platform.domain import RefusalKind, Refused

ESC = uuid4()


def escalate() -> c.Escalate:
    return c.Escalate(
        CASE, ESC, EscalationTeam.SERVICE, "Meter read twice?", date(2026, 11, 9), AGENT, at(0)
    )


def claim(who: str, teams: frozenset[str] = frozenset({"service"})) -> c.ClaimEscalation:
    return c.ClaimEscalation(CASE, ESC, teams, who, at(1))


def test_a_member_claims_once_and_a_second_member_is_refused():
    state = given(open_case(), escalate())
    [claimed] = when(state, claim("ann"))
    assert isinstance(claimed, CaseEscalationClaimed) and claimed.claimed_by == "ann"
    state = given(open_case(), escalate(), claim("ann"))
    assert when(state, claim("ann")) == []
    with pytest.raises(Refused) as other:
        when(state, claim("bob"))
    assert other.value.kind is RefusalKind.CONFLICT
    with pytest.raises(Refused) as answer:
        when(state, c.AnswerEscalation(CASE, ESC, "No", "bob", at(2)))
    assert answer.value.kind is RefusalKind.CONFLICT


def test_another_teams_member_cannot_claim():
    with pytest.raises(Refused) as refused:
        when(given(open_case(), escalate()), claim("ida", frozenset({"installation"})))
    assert refused.value.kind is RefusalKind.NOT_PERMITTED


def test_only_the_owner_sets_a_next_action_and_not_in_the_past():
    state = given(open_case(owner_id=AGENT))
    today = at(0).date()
    [event] = when(state, c.SetNextAction(CASE, today, "Call back", today, AGENT, at(0)))
    assert isinstance(event, CaseNextActionSet) and event.next_action_on == today
    with pytest.raises(Refused) as stranger:
        when(state, c.SetNextAction(CASE, today, None, today, "bob", at(0)))
    assert stranger.value.kind is RefusalKind.NOT_PERMITTED
    with pytest.raises(Refused) as past:
        when(state, c.SetNextAction(CASE, today - timedelta(days=1), None, today, AGENT, at(0)))
    assert past.value.field == "next_action_on"


def test_a_credit_awaiting_approval_is_for_the_supervisors():
    approval = uuid4()
    asked = ApprovalRequested(
        approval_id=approval,
        account_id=uuid4(),
        invoice_id=uuid4(),
        action=ApprovalAction.CREDIT,
        amount_minor=90_000,
        currency="USD",
        threshold_minor=50_000,
        reason_code="billing_error",
        effective_date=date(2026, 3, 2),
        case_id=str(CASE),
        requested_by=AGENT,
        requested_at=at(0),
    )
    notice = credit_approval(asked, case=given(open_case()))
    assert notice.kind is NotificationKind.CREDIT_APPROVAL
    assert notice.audience == Audience(role="supervisor") and "90000 USD" in notice.text
    assert notice.key("sue") == f"credit_approval:{approval}:sue"


def test_a_person_gets_the_channel_they_chose_and_nothing_without_its_address():
    [notice] = from_case_events(given(open_case()), when(given(open_case()), escalate()))
    mail_only = Recipient("ann", "ann@x.test", None, {})
    assert route(notice, mail_only).channel is Channel.EMAIL  # type: ignore[union-attr]
    hook = Recipient("bob", None, "https://chat.test/hook", {})
    assert route(notice, hook).channel is Channel.WEBHOOK  # type: ignore[union-attr]
    off = Recipient("cy", "cy@x.test", None, {"escalation_assigned": "off"})
    assert route(notice, off) is None
    no_url = Recipient("di", "di@x.test", None, {"escalation_assigned": "webhook"})
    assert route(notice, no_url) is None
