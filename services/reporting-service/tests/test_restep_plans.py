"""How the restep statements at commit are planned, by the number of ids they get.

A consumer's commit of a few invoices reuses the plan its connection keeps (planning was
twice the run), a large set gets a plan for its size (a plan for a few ids took 400 s
over 100,000 invoices). Both must leave the sums exact and the session's setting alone.
"""

from datetime import date
from uuid import uuid4

import pytest

from receivables_platform.contracts.billing import InvoiceIssued
from receivables_platform.db.pool import connect
from reporting_service.adapters.aging_query import AgingFilter, GroupBy, aging
from reporting_service.consumers.billing_projection import project_billing_event
from reporting_service.domain.aging import buckets
from reporting_service.spec import SPEC
from reporting_service.testing import cloud


def issued_event(account, total_minor, issue_date, due_date):
    return cloud(
        InvoiceIssued(
            invoice_id=uuid4(),
            account_id=account,
            external_id=f"X-{uuid4()}",
            currency="EUR",
            total_minor=total_minor,
            issue_date=issue_date,
            due_date=due_date,
        )
    )


@pytest.fixture
async def reporting_conn(fresh_database):
    conn = await connect(await fresh_database(SPEC.versions_dir))
    yield conn
    await conn.close()


@pytest.mark.parametrize(
    ("ids", "mode"),
    [
        (0, "force_generic_plan"),
        (3, "force_generic_plan"),
        (1_000, "force_generic_plan"),
        (1_001, "force_custom_plan"),
    ],
)
async def test_a_few_ids_keep_the_connection_s_plan_and_many_are_planned_for(
    reporting_conn, ids, mode
):
    async with reporting_conn.transaction():
        await reporting_conn.execute(
            "SELECT ar_aging_plan_for(ARRAY(SELECT gen_random_uuid() FROM generate_series(1, $1)))",
            ids,
        )
        assert await reporting_conn.fetchval("SHOW plan_cache_mode") == mode


async def test_the_session_keeps_its_own_plan_setting_through_a_commit(reporting_conn):
    await reporting_conn.execute("SET plan_cache_mode = force_custom_plan")
    async with reporting_conn.transaction():
        await project_billing_event(
            reporting_conn, issued_event(uuid4(), 100, date(2026, 9, 1), date(2026, 10, 1))
        )
    assert await reporting_conn.fetchval("SHOW plan_cache_mode") == "force_custom_plan"


async def test_a_commit_of_many_invoices_and_commits_of_a_few_leave_the_sums_exact(
    reporting_conn,
):
    accounts = [uuid4() for _ in range(40)]
    many = [
        issued_event(accounts[n % 40], 100 + n, date(2026, 5, 1), date(2026, 5 + n % 7, 1 + n % 28))
        for n in range(1_100)
    ]
    async with reporting_conn.transaction():  # one commit re-derives all of them
        for event in many:
            await project_billing_event(reporting_conn, event)
    for n in range(12):  # commits of one invoice each, under the kept plan
        async with reporting_conn.transaction():
            await project_billing_event(
                reporting_conn,
                issued_event(accounts[n], 7 + n, date(2026, 6, 1), date(2026, 8, 1 + n)),
            )
    as_of = date(2026, 11, 20)
    totals = await aging(reporting_conn, AgingFilter(as_of=as_of), GroupBy.currency, buckets())
    by_invoice = await aging(reporting_conn, AgingFilter(as_of=as_of), GroupBy.invoice, buckets())
    assert len(by_invoice) == 1_112
    assert [(r["currency"], r["total_minor"], r["invoices"]) for r in totals] == [
        ("EUR", sum(r["total_minor"] for r in by_invoice), 1_112)
    ]
    expected = sum(100 + n for n in range(1_100)) + sum(7 + n for n in range(12))
    assert totals[0]["total_minor"] == expected
