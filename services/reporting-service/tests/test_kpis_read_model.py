"""Every KPI over the real read model, for a small week computed by hand
(docs/architecture.md#metrics).

The week is 2026-W47 (Mon 16 to Sun 22 November 2026), 7 days, in USD. Two
accounts: A (collector ann) and B (collector bob), both in team east.
The hand computations are written beside each assertion.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest

from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import (
    AccountRegistered,
    AutoPayEnrolled,
    InvoiceIssued,
    PaymentApplied,
)
from receivables_platform.contracts.cases import (
    CaseClosed,
    CaseEscalated,
    CaseEscalationAnswered,
    CaseOpened,
    CaseOrigin,
    CasePriority,
    CaseResolved,
    CaseStatus,
    CaseType,
    ChecklistEntry,
    ChecklistItem,
    Completeness,
    EscalationTeam,
    RootCause,
)
from receivables_platform.contracts.collections import (
    AccountAssigned,
    AccountEscalated,
    AssignmentBasis,
    Channel,
    CommitmentBroken,
    CommitmentKept,
    CommitmentMade,
    CommitmentPartiallyKept,
    ContactAttempted,
    ContactOutcome,
    HoldPlaced,
    HoldSource,
    TaskCancellation,
    TaskCancelled,
    TaskCompleted,
    TaskKind,
    TaskMissed,
    TaskOutcome,
    TaskScheduled,
)
from receivables_platform.db.pool import connect
from reporting_service.adapters.aging_query import AgingFilter, GroupBy, aging
from reporting_service.adapters.kpi_query import KpiGroup
from reporting_service.consumers.projections import PROJECTIONS
from reporting_service.domain.aging import buckets
from reporting_service.domain.kpis import parse_period
from reporting_service.service_layer.kpis import KpiQuery, kpi_report
from reporting_service.spec import SPEC
from reporting_service.testing import cloud

A, B = uuid4(), uuid4()
INV1, INV2, INV3, INV4 = uuid4(), uuid4(), uuid4(), uuid4()
WEEK = parse_period("2026-W47")


def d(day: int, month: int = 11) -> date:
    return date(2026, month, day)


def at(day: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def billing() -> list[EventContract]:
    def invoice(invoice_id: UUID, account: UUID, total: int, issue: date, due: date):
        return InvoiceIssued(
            invoice_id=invoice_id,
            account_id=account,
            external_id="I",
            currency="USD",
            total_minor=total,
            issue_date=issue,
            due_date=due,
        )

    def applied(account: UUID, invoice_id: UUID, amount: int, on: date):
        return PaymentApplied(
            payment_id=uuid4(),
            account_id=account,
            invoice_id=invoice_id,
            amount_minor=amount,
            currency="USD",
            remaining_minor=0,
            applied_on=on,
        )

    return [
        *(
            AccountRegistered(
                account_id=acc,
                external_id=str(acc),
                name="N",
                contacts=[],
                payment_terms_days=30,
                currency="USD",
            )
            for acc in (A, B)
        ),
        invoice(INV1, A, 10_000, d(1, 10), d(31, 10)),
        invoice(INV2, A, 6_000, d(17), d(17, 12)),
        invoice(INV3, B, 5_000, d(1), d(10)),
        invoice(INV4, B, 3_000, d(20), d(21)),
        applied(A, INV1, 4_000, d(18)),
        applied(B, INV3, 5_000, d(19)),
        AutoPayEnrolled(
            account_id=A,
            payment_method_reference="pm",
            payment_method_type="card",
            enrolled_on=d(18),
        ),
    ]


def collections() -> list[EventContract]:
    t1, t2, t3 = uuid4(), uuid4(), uuid4()

    def scheduled(task: UUID, on: date):
        return TaskScheduled(
            task_id=task,
            account_id=A,
            collector_id="ann",
            kind=TaskKind.CADENCE,
            business_date=on,
            channel=Channel.CALL,
            template=None,
            escalates=False,
            steps=[],
            invoice_ids=[INV1],
            amount_past_due_minor=10_000,
            currency="USD",
            days_past_due=16,
            priority_score=1,
        )

    def completed(task: UUID, first: date, on: date):
        return TaskCompleted(
            task_id=task,
            account_id=A,
            collector_id="ann",
            assigned_collector_id="ann",
            kind=TaskKind.CADENCE,
            business_date=first,
            completed_on=on,
            completed_at=at(on.day),
            outcome=TaskOutcome.VOICEMAIL,
        )

    def made(commitment: UUID, amount: int, on: date):
        return CommitmentMade(
            commitment_id=commitment,
            account_id=B,
            collector_id="bob",
            amount_minor=amount,
            currency="USD",
            promised_date=d(19),
            grace_days=0,
            invoice_ids=[],
            channel=Channel.CALL,
            made_on=on,
            made_at=at(on.day, month=on.month),
        )

    c1, c2, c3 = uuid4(), uuid4(), uuid4()
    return [
        *(
            AccountAssigned(
                account_id=acc,
                collector_id=who,
                basis=AssignmentBasis.EXPLICIT,
                assigned_by="sup",
                effective_on=d(1),
            )
            for acc, who in ((A, "ann"), (B, "bob"))
        ),
        scheduled(t1, d(16)),
        TaskMissed(
            task_id=t1,
            account_id=A,
            collector_id="ann",
            kind=TaskKind.CADENCE,
            business_date=d(16),
            missed_on=d(16),
            carried_over_to=d(17),
            times_missed=1,
        ),
        completed(t1, d(16), d(17)),
        scheduled(t2, d(18)),
        completed(t2, d(18), d(18)),
        scheduled(t3, d(19)),
        TaskCancelled(
            task_id=t3,
            account_id=A,
            collector_id="ann",
            kind=TaskKind.CADENCE,
            business_date=d(19),
            cancelled_on=d(19),
            reason=TaskCancellation.NOTHING_OVERDUE,
        ),
        ContactAttempted(
            contact_id=uuid4(),
            account_id=A,
            collector_id="ann",
            channel=Channel.CALL,
            outcome=ContactOutcome.VOICEMAIL,
            invoice_ids=[],
            amount_past_due_minor=10_000,
            currency="USD",
            attempted_at=at(10),
            business_date=d(10),
        ),
        made(c1, 5_000, d(1)),
        made(c2, 2_000, d(1)),
        made(c3, 1_000, d(1)),
        CommitmentKept(
            commitment_id=c1,
            account_id=B,
            collector_id="bob",
            amount_minor=5_000,
            paid_minor=5_000,
            currency="USD",
            promised_date=d(19),
            kept_on=d(19),
        ),
        CommitmentBroken(
            commitment_id=c2,
            account_id=B,
            collector_id="bob",
            amount_minor=2_000,
            paid_minor=0,
            currency="USD",
            promised_date=d(19),
            broken_on=d(20),
        ),
        CommitmentPartiallyKept(
            commitment_id=c3,
            account_id=B,
            collector_id="bob",
            amount_minor=1_000,
            paid_minor=400,
            shortfall_minor=600,
            currency="USD",
            promised_date=d(19),
            evaluated_on=d(21),
        ),
        HoldPlaced(
            hold_id=uuid4(),
            account_id=B,
            invoice_ids=[INV4],
            source=HoldSource.MANUAL,
            reason="checking",
            placed_on=d(21),
        ),
        AccountEscalated(
            account_id=B, collector_id="bob", reason="final notice", escalated_on=d(18)
        ),
    ]


def cases() -> list[EventContract]:
    k1, k2, k3 = uuid4(), uuid4(), uuid4()
    checklist = [ChecklistEntry(item=ChecklistItem.ROOT_CAUSE, required=True, satisfied=True)]
    complete = Completeness(entries=checklist, complete=True, satisfied_count=1, required_count=1)
    incomplete = Completeness(
        entries=checklist, complete=False, satisfied_count=0, required_count=1
    )
    cause = RootCause(
        category_id=uuid4(), category_code="billing_error", category_name="Billing error"
    )

    def opened(case: UUID, number: str, when: datetime, invoices: list[UUID]):
        return CaseOpened(
            case_id=case,
            case_number=number,
            account_id=A,
            type=CaseType.DISPUTE,
            origin=CaseOrigin.COLLECTIONS,
            priority=CasePriority.NORMAL,
            subject="s",
            description="d",
            invoice_ids=invoices,
            opened_by="agent",
            opened_at=when,
            sla_target_days=14,
            sla_due_at=when,
        )

    def closed(case: UUID, number: str, opened_at: datetime, when: datetime, done: Completeness):
        return CaseClosed(
            case_id=case,
            case_number=number,
            account_id=A,
            type=CaseType.DISPUTE,
            priority=CasePriority.NORMAL,
            invoice_ids=[INV1],
            root_cause=cause,
            resolution_summary="fixed",
            completeness=done,
            opened_at=opened_at,
            closed_by="agent",
            closed_at=when,
            sla_breached=False,
        )

    def resolved(case: UUID, when: datetime):
        return CaseResolved(
            case_id=case,
            account_id=A,
            from_status=CaseStatus.INVESTIGATING,
            resolution_summary="fixed",
            resolved_by="agent",
            resolved_at=when,
        )

    escalation = uuid4()
    return [
        opened(k1, "CASE-000001", at(1), [INV1]),
        resolved(k1, at(17)),
        closed(k1, "CASE-000001", at(1), at(18), complete),
        opened(k2, "CASE-000002", at(16, 0), []),
        resolved(k2, at(18, 12)),
        closed(k2, "CASE-000002", at(16, 0), at(20), incomplete),
        opened(k3, "CASE-000003", at(2), []),
        CaseEscalated(
            case_id=k3,
            account_id=A,
            escalation_id=escalation,
            team=EscalationTeam.SERVICE,
            question="q",
            due_date=d(19),
            escalated_by="agent",
            escalated_at=at(17),
        ),
        CaseEscalationAnswered(
            case_id=k3,
            account_id=A,
            escalation_id=escalation,
            team=EscalationTeam.SERVICE,
            answer="a",
            answered_by="svc",
            answered_at=at(20),
            overdue=True,
        ),
    ]


@pytest.fixture(scope="module")
async def conn(fresh_database_module):
    connection = await connect(fresh_database_module)
    sources = {"billing": billing(), "collections": collections(), "cases": cases()}
    for name, events in sources.items():
        for contract in events:
            await PROJECTIONS[name].handler(connection, cloud(contract, source=f"urn:{name}"))
    await connection.execute(
        "INSERT INTO collector_teams (collector_id, team) VALUES ('ann', 'east'), ('bob', 'east')"
    )
    yield connection
    await connection.close()


@pytest.fixture(scope="module")
async def fresh_database_module(postgres_server_url):
    """Module-scoped: the week's events are projected once for every assertion below."""
    import asyncpg

    from receivables_devkit.infra.embedded_postgres import database_url
    from receivables_platform.db.migrate import upgrade_async

    name = f"t_kpi_{uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = database_url(postgres_server_url, name)
    await upgrade_async(url, SPEC.versions_dir)
    yield url
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def report(conn, group: KpiGroup, window: int = 14):
    result = await kpi_report(conn, KpiQuery(WEEK, "USD", group, window))
    return {row["key"]: row for row in result["groups"]}, result["cases"]


async def test_dso_best_possible_dso_add_cei_for_everyone(conn):
    rows, _ = await report(conn, KpiGroup.all)
    everyone = rows["all"]
    # opening (15 Nov): INV1 10,000 + INV3 5,000; sales: INV2 6,000 + INV4 3,000;
    # closing (22 Nov): INV1 6,000 + INV2 6,000 + INV4 3,000; current: INV2 only
    assert everyone["ar"] == {
        "opening_ar_minor": 15_000,
        "credit_sales_minor": 9_000,
        "closing_ar_minor": 15_000,
        "closing_current_ar_minor": 6_000,
    }
    assert everyone["dso"] == 11.67  # 15,000 / 9,000 x 7
    assert everyone["best_possible_dso"] == 4.67  # 6,000 / 9,000 x 7
    assert everyone["add"] == 7.0
    assert everyone["cei"] == 50.0  # (15,000 + 9,000 - 15,000) / (15,000 + 9,000 - 6,000)


async def test_current_ar_at_the_close_leaves_out_instalments_past_due(fresh_database):
    """CEI's closing current AR is aging's current bucket: of an invoice in instalments,
    only the instalments not yet due."""
    conn = await connect(await fresh_database(SPEC.versions_dir))
    account = uuid4()
    await PROJECTIONS["billing"].handler(
        conn,
        cloud(
            InvoiceIssued(
                invoice_id=uuid4(),
                account_id=account,
                external_id="INST-1",
                currency="CHF",
                total_minor=9_000,
                issue_date=date(2026, 10, 1),
                due_date=date(2026, 12, 15),
                lines=[
                    {
                        "description": "Fit-out",
                        "quantity": 1,
                        "unit_price_minor": 9_000,
                        "amount_minor": 9_000,
                    }
                ],
                subtotal_minor=9_000,
                tax_minor=0,
                instalments=[
                    {"due_date": date(2026, 11, 1), "amount_minor": 4_000},
                    {"due_date": date(2026, 12, 15), "amount_minor": 5_000},
                ],
            ),
            source="urn:billing",
        ),
    )
    result = await kpi_report(conn, KpiQuery(WEEK, "CHF", KpiGroup.all, 14))
    [everyone] = result["groups"]
    assert everyone["ar"]["closing_ar_minor"] == 9_000
    assert everyone["ar"]["closing_current_ar_minor"] == 5_000
    [aged] = await aging(
        conn, AgingFilter(as_of=date(2026, 11, 22), currency="CHF"), GroupBy.currency, buckets()
    )
    assert aged["buckets"]["current"] == 5_000
    await conn.close()


async def test_ar_kpis_per_collector_and_team(conn):
    rows, _ = await report(conn, KpiGroup.collector)
    # ann: 12,000 / 6,000 x 7 = 14; 6,000 / 6,000 x 7 = 7; (16,000 - 12,000) / (16,000 - 6,000)
    assert (
        rows["ann"]["dso"],
        rows["ann"]["best_possible_dso"],
        rows["ann"]["add"],
        rows["ann"]["cei"],
    ) == (14.0, 7.0, 7.0, 40.0)
    # bob: 3,000 / 3,000 x 7 = 7; 0; (8,000 - 3,000) / (8,000 - 0)
    assert (
        rows["bob"]["dso"],
        rows["bob"]["best_possible_dso"],
        rows["bob"]["add"],
        rows["bob"]["cei"],
    ) == (7.0, 0.0, 7.0, 62.5)
    teams, _ = await report(conn, KpiGroup.team)
    assert teams["east"]["cei"] == 50.0 and teams["east"]["dso"] == 11.67


async def test_cadence_completion_counts_carried_over_days_and_skips_cancelled(conn):
    rows, _ = await report(conn, KpiGroup.collector)
    # T1 due 16 (missed) and 17 (done), T2 due and done 18, T3 cancelled on its day: 2 of 3
    assert rows["ann"]["cadence"] == {"completed": 2, "due": 3, "completion_pct": 66.67}


async def test_follow_up_timeliness_of_tasks_and_escalation_answers(conn):
    rows, _ = await report(conn, KpiGroup.collector)
    # T1 done a day late, T2 on its day; T3 cancelled
    assert rows["ann"]["follow_up_timeliness"]["tasks_on_time"] == 1
    assert rows["ann"]["follow_up_timeliness"]["tasks_due"] == 2
    everyone, _ = await report(conn, KpiGroup.all)
    timeliness = everyone["all"]["follow_up_timeliness"]
    # the service team answered on the 20th what was due on the 19th
    assert (timeliness["escalation_answers_on_time"], timeliness["escalation_answers_due"]) == (
        0,
        1,
    )
    assert timeliness["on_time_pct"] == 33.33  # (1 + 0) / (2 + 1)


async def test_promise_kept_rate_by_count_and_amount(conn):
    rows, _ = await report(conn, KpiGroup.collector)
    promises = rows["bob"]["promises"]
    # kept 5,000 of 5,000; broken 0 of 2,000; partly 400 of 1,000
    assert (promises["kept"], promises["partially_kept"], promises["broken"]) == (1, 1, 1)
    assert promises["kept_rate_by_count_pct"] == 33.33
    assert promises["kept_rate_by_amount_pct"] == 67.5  # 5,400 / 8,000


async def test_collections_secured_depends_on_the_attribution_window(conn):
    rows, _ = await report(conn, KpiGroup.collector, window=14)
    # ann called A on the 10th; A paid 4,000 on past-due INV1 on the 18th (8 days later).
    # bob's promises were made on the 1st; B paid 5,000 on the 19th (18 days): outside 14 days
    assert rows["ann"]["collections_secured"]["amount_minor"] == 4_000
    assert rows["ann"]["collections_secured"]["payments"] == 1
    assert rows["bob"]["collections_secured"]["amount_minor"] == 0
    wider, _ = await report(conn, KpiGroup.collector, window=20)
    assert wider["bob"]["collections_secured"] == {
        "payments": 1,
        "amount_minor": 5_000,
        "attribution_window_days": 20,
    }


async def test_auto_pay_conversion_and_penetration(conn):
    rows, _ = await report(conn, KpiGroup.all)
    autopay = rows["all"]["autopay"]
    # neither was on auto-pay on the 15th; A enrolled on the 18th
    assert (autopay["not_on_autopay_at_start"], autopay["enrolled_in_period"]) == (2, 1)
    assert autopay["conversion_pct"] == 50.0 and autopay["penetration_pct"] == 50.0


async def test_case_kpis(conn):
    _, cases_kpis = await report(conn, KpiGroup.all)
    assert cases_kpis["opened"] == 1  # K2 on the 16th
    assert cases_kpis["closed"] == 2  # K1 on the 18th, K2 on the 20th
    assert cases_kpis["investigations_completed"] == 2  # resolved on the 17th and 18th
    assert cases_kpis["open_over_14_days"] == 1  # K3, open since the 2nd
    # K1 16 days, K2 2.5 days
    assert cases_kpis["mean_days_to_resolution"] == 9.25
    assert cases_kpis["median_days_to_resolution"] == 9.25
    assert cases_kpis["documentation_completeness_pct"] == 50.0
    assert cases_kpis["escalations_by_origin"] == {"case:service": 1, "collections:final notice": 1}
    # the service escalation gave no cause (an event from before causes): other
    assert cases_kpis["escalations_by_cause"]["other"]["this_period"] == 1


async def test_aging_flags_disputed_and_held_invoices_without_dropping_them(conn):
    [a] = await aging(conn, AgingFilter(as_of=d(17), account_id=A), GroupBy.account, buckets())
    # K1 disputes INV1 from the 1st to the 18th; INV2 (issued the 17th) is not disputed
    assert (a["total_minor"], a["in_dispute_minor"], a["in_dispute_invoices"]) == (
        16_000,
        10_000,
        1,
    )
    [b] = await aging(
        conn, AgingFilter(as_of=d(22), collector_id="bob"), GroupBy.collector, buckets()
    )
    assert (b["total_minor"], b["on_hold_minor"], b["buckets"]["1-30"]) == (3_000, 3_000, 3_000)
    [after] = await aging(conn, AgingFilter(as_of=d(18), account_id=A), GroupBy.account, buckets())
    assert after["in_dispute_minor"] == 0


@pytest.mark.parametrize("day", [1, 17, 18, 22])
async def test_book_totals_per_due_date_flag_as_the_invoices_do(conn, day: int):
    """Totals per currency come from the sums per due date; they must match the invoices'."""
    invoices = await aging(conn, AgingFilter(as_of=d(day)), GroupBy.invoice, buckets())
    totals = await aging(conn, AgingFilter(as_of=d(day)), GroupBy.currency, buckets())
    measures = (
        "total_minor",
        "invoices",
        "on_hold_minor",
        "on_hold_invoices",
        "in_dispute_minor",
        "in_dispute_invoices",
    )
    expected: dict[str, dict[str, int]] = {}
    for row in invoices:
        into = expected.setdefault(row["currency"], dict.fromkeys(measures, 0))
        for measure in measures:
            into[measure] += row[measure]
    assert {r["currency"]: {m: r[m] for m in measures} for r in totals} == expected
    assert any(r["on_hold_minor"] or r["in_dispute_minor"] for r in totals) == (day != 18)
