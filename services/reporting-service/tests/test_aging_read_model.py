"""The AR read model over real PostgreSQL: projection of billing events and aging for any date."""

from datetime import date
from uuid import uuid4

import pytest

from receivables_platform.contracts.billing import InvoiceIssued, PaymentApplied
from receivables_platform.db.pool import connect
from receivables_platform.envelope import CloudEvent
from reporting_service.adapters.aging_query import AgingFilter, GroupBy, aging
from reporting_service.consumers.billing_projection import project_billing_event
from reporting_service.domain.aging import buckets
from reporting_service.spec import SPEC
from reporting_service.testing import cloud


@pytest.fixture
async def reporting_conn(fresh_database):
    conn = await connect(await fresh_database(SPEC.versions_dir))
    yield conn
    await conn.close()


def issued_event(account, total, issue, due, currency="EUR") -> CloudEvent:
    contract = InvoiceIssued(
        invoice_id=uuid4(),
        account_id=account,
        external_id=f"X-{uuid4()}",
        currency=currency,
        total_minor=total,
        issue_date=issue,
        due_date=due,
    )
    return CloudEvent(
        source="urn:test",
        type=contract.event_type,
        subject=str(account),
        partitionkey=str(account),
        data=contract.payload(),
    )


async def test_invoices_land_in_the_bucket_of_their_age_as_of_the_date(reporting_conn):
    account = uuid4()
    for total, due in [
        (100, date(2026, 11, 30)),
        (200, date(2026, 11, 1)),
        (400, date(2026, 9, 15)),
        (800, date(2026, 6, 1)),
    ]:
        event = issued_event(account, total, date(2026, 5, 1), due)
        await project_billing_event(reporting_conn, event)
    [row] = await aging(
        reporting_conn,
        AgingFilter(as_of=date(2026, 11, 20), account_id=account),
        GroupBy.account,
        buckets(),
    )
    assert row["buckets"] == {
        "current": 100,
        "1-30": 200,
        "31-60": 0,
        "61-90": 400,
        "91-120": 0,
        "120+": 800,
    }
    assert row["total_minor"] == 1500 and row["invoices"] == 4


async def test_each_instalment_ages_from_its_own_due_date(reporting_conn):
    """Money settles the earliest instalments first: what is left of an overdue instalment
    is past due while the later ones are current, and the invoice counts once."""
    account = uuid4()
    plan = [(date(2026, 10, 30), 3_000), (date(2026, 11, 30), 3_000), (date(2026, 12, 30), 3_000)]
    contract = InvoiceIssued(
        invoice_id=uuid4(),
        account_id=account,
        external_id=f"X-{uuid4()}",
        currency="EUR",
        total_minor=9_000,
        issue_date=date(2026, 10, 1),
        due_date=date(2026, 12, 30),
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
        instalments=[{"due_date": d, "amount_minor": a} for d, a in plan],
    )
    await project_billing_event(reporting_conn, cloud(contract))
    await project_billing_event(
        reporting_conn,
        cloud(
            PaymentApplied(
                payment_id=uuid4(),
                account_id=account,
                invoice_id=contract.invoice_id,
                amount_minor=1_000,
                currency="EUR",
                remaining_minor=8_000,
                applied_on=date(2026, 10, 29),
            )
        ),
    )

    async def aged(day: date, group_by: GroupBy, **flt: object) -> list[dict[str, object]]:
        return await aging(reporting_conn, AgingFilter(as_of=day, **flt), group_by, buckets())

    [by_account] = await aged(date(2026, 11, 20), GroupBy.account, account_id=account)
    assert by_account["buckets"] == {
        "current": 6_000,
        "1-30": 2_000,
        "31-60": 0,
        "61-90": 0,
        "91-120": 0,
        "120+": 0,
    }
    assert (by_account["total_minor"], by_account["invoices"]) == (8_000, 1)
    [by_invoice] = await aged(date(2026, 12, 5), GroupBy.invoice, account_id=account)
    assert by_invoice["buckets"] == {
        "current": 3_000,
        "1-30": 3_000,
        "31-60": 2_000,
        "61-90": 0,
        "91-120": 0,
        "120+": 0,
    }
    assert (by_invoice["due_date"], by_invoice["invoices"]) == (date(2026, 12, 30), 1)
    [by_currency] = await aged(date(2026, 12, 5), GroupBy.currency)
    assert by_currency["buckets"] == by_invoice["buckets"] and by_currency["invoices"] == 1
    [before] = await aged(date(2026, 10, 29), GroupBy.account, account_id=account)
    assert before["buckets"]["current"] == 8_000 and before["total_minor"] == 8_000


async def test_an_invoice_issued_after_the_as_of_date_is_not_aged(reporting_conn):
    account = uuid4()
    await project_billing_event(
        reporting_conn, issued_event(account, 100, date(2026, 11, 10), date(2026, 12, 10))
    )
    assert (
        await aging(
            reporting_conn,
            AgingFilter(as_of=date(2026, 11, 9), account_id=account),
            GroupBy.account,
            buckets(),
        )
        == []
    )


async def test_currencies_are_never_summed_together(reporting_conn):
    account = uuid4()
    await project_billing_event(
        reporting_conn, issued_event(account, 100, date(2026, 1, 1), date(2026, 1, 31), "EUR")
    )
    await project_billing_event(
        reporting_conn, issued_event(account, 300, date(2026, 1, 1), date(2026, 1, 31), "USD")
    )
    rows = await aging(
        reporting_conn,
        AgingFilter(as_of=date(2026, 2, 1), account_id=account),
        GroupBy.currency,
        buckets(),
    )
    assert {(r["currency"], r["total_minor"]) for r in rows} == {("EUR", 100), ("USD", 300)}


async def test_aging_by_segment_follows_accounts_that_change_or_arrive_late(reporting_conn):
    """Aging by segment reads sums kept per segment; an account's invoices move with it when
    it is re-segmented, described after its invoices, or has its segment cleared."""
    from receivables_platform.contracts.billing import AccountRegistered, AccountUpdated
    from reporting_service.testing import cloud

    early, late = uuid4(), uuid4()

    async def project(*contracts) -> None:
        for contract in contracts:
            async with reporting_conn.transaction():
                await project_billing_event(reporting_conn, cloud(contract))

    def registered(account, segment):
        return AccountRegistered(
            account_id=account,
            external_id=str(account),
            name="N",
            contacts=[],
            payment_terms_days=30,
            segment=segment,
            currency="EUR",
        )

    async def by_segment(day=date(2026, 11, 20)) -> dict:
        rows = await aging(reporting_conn, AgingFilter(as_of=day), GroupBy.segment, buckets())
        return {(r["segment"], r["currency"]): (r["total_minor"], r["invoices"]) for r in rows}

    async def recomputed(day=date(2026, 11, 20)) -> dict:
        """The same figures from the invoices' own rows and their accounts' segment now."""
        rows = await aging(reporting_conn, AgingFilter(as_of=day), GroupBy.invoice, buckets())
        segments = dict(await reporting_conn.fetch("SELECT account_id, segment FROM ar_accounts"))
        expected: dict = {}
        for row in rows:
            key = (segments.get(row["account_id"]), row["currency"])
            total, count = expected.get(key, (0, 0))
            expected[key] = (total + row["total_minor"], count + 1)
        return expected

    await project(registered(early, "smb"))
    for account, total in ((early, 700), (late, 300), (late, 50)):
        await project_one(
            reporting_conn, issued_event(account, total, date(2026, 9, 1), date(2026, 10, 1))
        )
    assert await by_segment() == {("smb", "EUR"): (700, 1), (None, "EUR"): (350, 2)}
    await project(registered(late, "enterprise"))  # described after its invoices
    assert await by_segment() == {("smb", "EUR"): (700, 1), ("enterprise", "EUR"): (350, 2)}
    await project(AccountUpdated(account_id=early, segment="enterprise"))
    assert await by_segment() == {("enterprise", "EUR"): (1_050, 3)}
    await project(AccountUpdated(account_id=late, segment_cleared=True))
    assert await by_segment() == {("enterprise", "EUR"): (700, 1), (None, "EUR"): (350, 2)}
    assert await by_segment() == await recomputed()
    # as of a day before the invoices were issued, no segment has any
    assert await by_segment(date(2026, 8, 1)) == {}
    filtered = await aging(
        reporting_conn,
        AgingFilter(as_of=date(2026, 11, 20), segment="enterprise"),
        GroupBy.currency,
        buckets(),
    )
    assert [(r["currency"], r["total_minor"]) for r in filtered] == [("EUR", 700)]


async def project_one(conn, event: CloudEvent) -> None:
    async with conn.transaction():
        await project_billing_event(conn, event)


async def test_aging_by_collector_and_team_follows_reassignments(reporting_conn):
    """Aging by collector (and team) reads sums kept per collector; an account's invoices move
    when it is assigned after them or reassigned, and match the invoices' own rows."""
    from receivables_platform.contracts.collections import AccountAssigned, AssignmentBasis
    from reporting_service.consumers.collections_projection import project_collections_event
    from reporting_service.testing import cloud

    first, second = uuid4(), uuid4()

    async def assign(account, collector, on: date) -> None:
        async with reporting_conn.transaction():
            await project_collections_event(
                reporting_conn,
                cloud(
                    AccountAssigned(
                        account_id=account,
                        collector_id=collector,
                        basis=AssignmentBasis.EXPLICIT,
                        assigned_by="sup",
                        effective_on=on,
                    )
                ),
            )

    async def grouped(group_by: GroupBy, **filters) -> dict:
        rows = await aging(
            reporting_conn, AgingFilter(as_of=date(2026, 11, 20), **filters), group_by, buckets()
        )
        key = "collector_id" if group_by is GroupBy.collector else "team"
        return {row[key]: (row["total_minor"], row["invoices"]) for row in rows}

    for account, total in ((first, 700), (second, 300), (second, 50)):
        await project_one(
            reporting_conn, issued_event(account, total, date(2026, 9, 1), date(2026, 10, 1))
        )
    assert await grouped(GroupBy.collector) == {None: (1_050, 3)}
    await assign(first, "ann", date(2026, 11, 1))
    await assign(second, "bob", date(2026, 11, 1))
    await reporting_conn.execute(
        "INSERT INTO collector_teams (collector_id, team) VALUES ('ann', 'east'), ('bob', 'west')"
    )
    assert await grouped(GroupBy.collector) == {"ann": (700, 1), "bob": (350, 2)}
    await assign(second, "ann", date(2026, 11, 5))
    await assign(second, "bob", date(2026, 11, 2))  # an older assignment arriving late
    assert await grouped(GroupBy.collector) == {"ann": (1_050, 3)}
    assert await grouped(GroupBy.team) == {"east": (1_050, 3)}
    assert await grouped(GroupBy.collector, team="west") == {}
    invoices = await aging(
        reporting_conn,
        AgingFilter(as_of=date(2026, 11, 20), collector_id="ann"),
        GroupBy.invoice,
        buckets(),
    )
    assert sum(row["total_minor"] for row in invoices) == 1_050


async def test_aging_by_collector_reads_the_recent_due_dates_not_the_whole_book(reporting_conn):
    """At a million invoices, reading every due date of every collector's book took aging by
    collector to its 10 ms limit. A due date older than the largest finite bound is in the
    last bucket whatever its day: aging by collector reads each collector's book and the due
    dates since that bound, and still answers what its invoices summed answer."""
    collectors, due_dates, as_of = 20, 600, date(2026, 11, 20)
    await reporting_conn.execute(
        "INSERT INTO col_assignments (account_id, collector_id, effective_on) "
        "SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(c), 12, '0'))::uuid, "
        "'collector-' || c, DATE '2020-01-01' FROM generate_series(1, $1::int) c",
        collectors,
    )
    async with reporting_conn.transaction():  # aged at commit, as the projection's writes are
        await reporting_conn.execute(
            f"""
            INSERT INTO ar_invoices (invoice_id, account_id, external_id, currency,
                                     total_minor, issue_date, due_date)
            SELECT gen_random_uuid(),
                   ('00000000-0000-7000-8000-' || lpad(to_hex(c), 12, '0'))::uuid,
                   'INV-' || c || '-' || d, 'EUR', 100 * c + d, DATE '2020-01-01',
                   DATE '{as_of}' - d
            FROM generate_series(1, {collectors}) c, generate_series(0, {due_dates - 1}) d
            """
        )
    await reporting_conn.execute("ANALYZE")
    standard = buckets()
    # rows read so far by this session, counted before they are flushed to the totals
    read_sql = (
        "SELECT sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)) "
        "FROM pg_stat_xact_user_tables WHERE relname LIKE 'ar_aging%'"
    )
    async with reporting_conn.transaction():
        before = await reporting_conn.fetchval(read_sql)
        rows = await aging(reporting_conn, AgingFilter(as_of=as_of), GroupBy.collector, standard)
        read = await reporting_conn.fetchval(read_sql) - before
    recent = collectors * (standard[-2].upper + 1)  # type: ignore[operator]
    assert read <= recent + 2 * collectors, read
    assert len(rows) == collectors
    for row in rows:
        c = int(row["collector_id"].removeprefix("collector-"))
        amount = {d: 100 * c + d for d in range(due_dates)}  # by days past due
        assert row["total_minor"] == sum(amount.values())
        assert row["buckets"]["current"] == amount[0]
        assert row["buckets"]["91-120"] == sum(amount[d] for d in range(91, 121))
        assert row["buckets"]["120+"] == sum(amount[d] for d in range(121, due_dates))
