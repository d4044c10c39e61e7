"""KPIs a supervisor can trust (issue 19.7), through `GET /v1/kpis` over the real read model.

The team works in New York (TEAM_TIMEZONE) and today is Saturday 5 December 2026,
15:00 there (20:00 UTC). Case agents ann (team east) and cy (team west) own
the cases; billing operations answers an escalation. Hand computations are
written beside the assertions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from receivables_platform.business_dates import business_dates
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import AccountRegistered, InvoiceIssued
from receivables_platform.contracts.cases import (
    CaseCorrectionApplied,
    CaseCustomerConfirmed,
    CaseEscalated,
    CaseEscalationAnswered,
    CaseOpened,
    CaseOrigin,
    CasePriority,
    CaseRootCauseIdentified,
    CaseType,
    CorrectionDirection,
    CustomerChannel,
    EscalationCause,
    EscalationTeam,
    RootCause,
)
from receivables_platform.db.pool import connect
from receivables_platform.service import build_app
from receivables_platform.web.auth import issue_token
from receivables_platform.web.testserver import running_server
from reporting_service.consumers.projections import PROJECTIONS
from reporting_service.spec import SPEC
from reporting_service.testing import cloud

SECRET = "test-secret-for-reporting-kpi-trust-0123"
SUPERVISOR = {"Authorization": f"Bearer {issue_token(SECRET, 'sue', ['supervisor'])}"}
NOW = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)
ACCOUNT = uuid4()
K_ANN, K_CY, K_NEW = uuid4(), uuid4(), uuid4()
OLD, SMALL, CORRECTED, RECENT = uuid4(), uuid4(), uuid4(), uuid4()
BILLING_ERROR = RootCause(
    category_id=uuid4(), category_code="billing_error", category_name="Billing error"
)


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def invoice(invoice_id: UUID, total: int, issue: date, due: date) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id=invoice_id,
        account_id=ACCOUNT,
        external_id="I",
        currency="USD",
        total_minor=total,
        issue_date=issue,
        due_date=due,
    )


def opened(case: UUID, number: str, owner: str, when: datetime) -> CaseOpened:
    return CaseOpened(
        case_id=case,
        case_number=number,
        account_id=ACCOUNT,
        type=CaseType.DISPUTE,
        origin=CaseOrigin.INBOUND_PHONE,
        priority=CasePriority.NORMAL,
        subject="s",
        description="d",
        invoice_ids=[],
        owner_id=owner,
        opened_by=owner,
        opened_at=when,
        sla_target_days=14,
        sla_due_at=when,
    )


def escalated(
    case: UUID,
    cause: EscalationCause | None,
    when: datetime,
    escalation: UUID | None = None,
    team: EscalationTeam = EscalationTeam.SERVICE,
) -> CaseEscalated:
    return CaseEscalated(
        case_id=case,
        account_id=ACCOUNT,
        escalation_id=escalation or uuid4(),
        team=team,
        question="q",
        due_date=when.date(),
        escalated_by="ann",
        escalated_at=when,
        cause=cause,
    )


def confirmed(case: UUID, score: int, comment: str | None, when: datetime) -> CaseCustomerConfirmed:
    return CaseCustomerConfirmed(
        case_id=case,
        account_id=ACCOUNT,
        confirmed_by_name="Pat",
        channel=CustomerChannel.PHONE,
        confirmed_at=when,
        recorded_by="ann",
        recorded_at=when,
        satisfaction=score,
        satisfaction_comment=comment,
    )


def billing() -> list[EventContract]:
    return [
        AccountRegistered(
            account_id=ACCOUNT,
            external_id="A",
            name="Acme",
            contacts=[],
            payment_terms_days=30,
            currency="USD",
        ),
        invoice(OLD, 1_000_000, date(2026, 1, 5), date(2026, 2, 4)),
        # November's only credit sales: 100 + 300 against a 1,000,000 book
        invoice(SMALL, 100, date(2026, 11, 10), date(2026, 12, 10)),
        invoice(CORRECTED, 300, date(2026, 11, 12), date(2026, 12, 12)),
        # December so far: due on the 20th, so current today and past due on the 31st
        invoice(RECENT, 50_000_000, date(2026, 12, 1), date(2026, 12, 20)),
    ]


def cases() -> list[EventContract]:
    answered = uuid4()
    return [
        # 20:00 in New York on 30 November is 1 December in UTC
        opened(K_ANN, "CASE-000001", "ann", at(1, 1, month=12)),
        opened(K_CY, "CASE-000002", "cy", at(20, 15)),
        # opened ten days before today: not open over two weeks, whatever December's end says
        opened(K_NEW, "CASE-000003", "cy", at(25, 15)),
        escalated(K_ANN, EscalationCause.DELAY, at(17, 15)),
        escalated(K_ANN, EscalationCause.DELAY, at(18, 15)),
        escalated(K_ANN, EscalationCause.DELAY, at(24, 15)),
        escalated(
            K_CY,
            EscalationCause.DOCUMENTATION_GAP,
            at(25, 15),
            answered,
            EscalationTeam.BILLING_OPERATIONS,
        ),
        CaseEscalationAnswered(
            case_id=K_CY,
            account_id=ACCOUNT,
            escalation_id=answered,
            team=EscalationTeam.BILLING_OPERATIONS,
            answer="a",
            answered_by="bo-ray",
            answered_at=at(25, 18),
            overdue=False,
        ),
        escalated(K_CY, None, at(26, 15)),
        confirmed(K_ANN, 5, None, at(27, 15)),
        confirmed(K_CY, 2, "Took three calls to explain", at(28, 15)),
        CaseRootCauseIdentified(
            case_id=K_CY,
            account_id=ACCOUNT,
            root_cause=BILLING_ERROR,
            identified_by="cy",
            identified_at=at(26, 15),
        ),
        CaseCorrectionApplied(
            case_id=K_CY,
            account_id=ACCOUNT,
            correction_id=uuid4(),
            invoice_id=CORRECTED,
            adjustment_id=uuid4(),
            amount_minor=300,
            direction=CorrectionDirection.CREDIT,
            currency="USD",
            effective_date=date(2026, 11, 26),
            recorded_at=at(26, 16),
        ),
    ]


@pytest.fixture
async def client(fresh_database, monkeypatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("TEAM_TIMEZONE", "America/New_York")
    business_dates.cache_clear()
    try:
        url = await fresh_database(SPEC.versions_dir)
        conn = await connect(url)
        try:
            for name, events in (("billing", billing()), ("cases", cases())):
                for contract in events:
                    await PROJECTIONS[name].handler(conn, cloud(contract, source=f"urn:{name}"))
        finally:
            await conn.close()
        app = build_app(SPEC, SPEC.settings(database_url=url, jwt_secret=SECRET))
        app.state.clock = lambda: NOW
        async with running_server(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as c:
            for person, team in (("ann", "east"), ("cy", "west")):
                put = await c.put(
                    f"/v1/collectors/{person}/team", json={"team": team}, headers=SUPERVISOR
                )
                assert put.status_code == 200, put.text
            yield c
    finally:
        business_dates.cache_clear()


async def kpis(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get(
        "/v1/kpis", headers=SUPERVISOR, params={"currency": "USD", **params}
    )
    assert response.status_code == 200, response.text
    return response.json()


def rows(report: dict[str, Any]) -> dict[str, Any]:
    return {row["key"]: row for row in report["groups"]}


async def test_a_running_month_is_reported_up_to_today(client):
    report = await kpis(client, period="2026-12")
    assert report["period"] == {"start": "2026-12-01", "end": "2026-12-05", "days": 5}
    assert report["requested_period"]["end"] == "2026-12-31"
    # K_CY opened 15 days before today; K_NEW (25 November) and K_ANN (30 November) are
    # open over 14 days by 31 December, not by today
    assert report["cases"]["open_over_14_days"] == 1
    ar = rows(report)["all"]["ar"]
    # RECENT is due on the 20th: current today (past due only as of the 31st)
    assert ar["closing_current_ar_minor"] == 50_000_000 + 100 + 300
    future = await client.get(
        "/v1/kpis", headers=SUPERVISOR, params={"currency": "USD", "period": "2027-01"}
    )
    assert future.status_code == 422, future.text
    assert future.headers["Content-Type"].startswith("application/problem+json")
    assert future.json()["errors"][0]["field"] == "query.period"


async def test_days_are_the_team_time_zones(client):
    """K_ANN opened at 20:00 in New York on 30 November (1 December in UTC)."""
    november = await kpis(client, period="2026-11")
    december = await kpis(client, period="2026-12")
    assert (november["cases"]["opened"], december["cases"]["opened"]) == (3, 0)


async def test_case_kpis_per_agent_and_per_team(client):
    agents = rows(await kpis(client, period="2026-11", group_by="collector"))
    assert (agents["ann"]["cases"]["opened"], agents["cy"]["cases"]["opened"]) == (1, 2)
    teams = rows(await kpis(client, period="2026-11", group_by="team"))
    assert (teams["east"]["cases"]["opened"], teams["west"]["cases"]["opened"]) == (1, 2)
    assert teams["west"]["cases"]["escalations_by_cause"]["documentation_gap"]["this_period"] == 1


async def test_an_escalation_answer_is_credited_to_the_team_asked(client):
    teams = rows(await kpis(client, period="2026-11", group_by="team"))
    answers = teams["billing_operations"]["follow_up_timeliness"]
    assert (answers["escalation_answers_on_time"], answers["escalation_answers_due"]) == (1, 1)
    # the four questions to the service team, none answered, are the service team's
    assert teams["service"]["follow_up_timeliness"]["escalation_answers_due"] == 4
    assert teams["no team"]["follow_up_timeliness"]["escalation_answers_due"] == 0
    people = rows(await kpis(client, period="2026-11", group_by="collector"))
    assert people["bo-ray"]["follow_up_timeliness"]["escalation_answers_on_time"] == 1


async def test_escalations_by_cause_week_over_week(client):
    report = await kpis(client, period="2026-W48")  # 23 to 29 November
    causes = report["cases"]["escalations_by_cause"]
    # delay: the 24th this week, the 17th and 18th the week before
    assert causes["delay"] == {
        "this_period": 1,
        "previous_period": 2,
        "change": -1,
        "change_pct": -50.0,
    }
    assert causes["documentation_gap"] == {
        "this_period": 1,
        "previous_period": 0,
        "change": 1,
        "change_pct": None,
    }
    assert causes["other"]["this_period"] == 1  # no cause given


async def test_customer_satisfaction_from_the_confirmations(client):
    report = await kpis(client, period="2026-11")
    satisfaction = report["cases"]["satisfaction"]
    assert satisfaction["responses"] == 2 and satisfaction["mean"] == 3.5
    assert satisfaction["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    [comment] = report["cases"]["satisfaction_comments"]
    assert (comment["case_number"], comment["satisfaction"], comment["comment"]) == (
        "CASE-000002",
        2,
        "Took three calls to explain",
    )
    agents = rows(await kpis(client, period="2026-11", group_by="collector"))
    assert agents["cy"]["cases"]["satisfaction"]["mean"] == 2.0


async def test_billing_accuracy_by_root_cause(client):
    accuracy = (await kpis(client, period="2026-11"))["billing_accuracy"]
    # two invoices issued in November, one credited for a billing error
    assert (accuracy["invoices_issued"], accuracy["invoices_corrected"]) == (2, 1)
    assert (accuracy["corrected_pct"], accuracy["accuracy_pct"]) == (50.0, 50.0)
    assert accuracy["by_root_cause"] == [
        {
            "code": "billing_error",
            "name": "Billing error",
            "invoices": 1,
            "amount_minor": 300,
            "share_pct": 50.0,
        }
    ]


async def test_dso_is_withheld_when_credit_sales_are_too_small(client):
    everyone = rows(await kpis(client, period="2026-11"))["all"]
    # 1,000,100 open / 400 of sales x 30 days would be 75,007 days
    assert (everyone["dso"], everyone["best_possible_dso"], everyone["add"]) == (None, None, None)
    assert everyone["dso_withheld"] == "credit_sales_too_small"
    assert everyone["cei"] is not None
