"""The KPI report's AR and auto-pay figures come from sums the projections keep as they
write (aging per collector and due date, credit sales per collector and issue date,
accounts on auto-pay per collector and day), not from a scan of every invoice and
account per request. A sum that drifts from the rows it summarises would go on
answering, wrong: so over a varied book (four collectors in two teams and none,
accounts without a collector, reassignments in the middle of a period, payments dated
back, credits and debits, voids, instalments, two currencies, auto-pay enrolments and
cancellations, some on the same day, events in batches and out of order, and rebuilds
of both projections) every figure is compared, to the cent, with the same figures
computed from every invoice, balance change and auto-pay history row.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest

from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import (
    AccountRegistered,
    AdjustmentKind,
    AutoPayCancelled,
    AutoPayEnrolled,
    Instalment,
    InvoiceAdjusted,
    InvoiceIssued,
    InvoiceVoided,
    PaymentApplied,
)
from receivables_platform.contracts.collections import (
    AccountAssigned,
    AssignmentBasis,
    Channel,
    CommitmentMade,
    ContactAttempted,
    ContactOutcome,
)
from receivables_platform.db.pool import create_pool
from reporting_service.adapters import kpi_query as q
from reporting_service.adapters import shadow_tables
from reporting_service.adapters.kpi_query import KpiGroup
from reporting_service.consumers.projections import PROJECTIONS
from reporting_service.domain.kpis import Period, parse_period
from reporting_service.service_layer.kpis import KpiQuery, kpi_report
from reporting_service.service_layer.rebuild import Build, _swap
from reporting_service.spec import SPEC
from reporting_service.testing import cloud

COLLECTORS = ("ann", "bob", "cy", "dee")  # dee is in no team
TEAMS = {"ann": "east", "bob": "east", "cy": "west"}
CURRENCIES = ("USD", "EUR")
PERIODS = [
    parse_period(text)
    for text in ("2026-W47", "2026-W48", "2026-11", "2026-10", "2026-11-20", "2026-08")
] + [Period(date(2026, 9, 15), date(2026, 12, 20)), Period(date(2026, 9, 1), date(2027, 3, 31))]
FIRST_ISSUE = date(2026, 9, 1)


def _day(rng: random.Random, first: date, days: int) -> date:
    return first + timedelta(rng.randrange(days))


def _id(rng: random.Random) -> UUID:
    """Ids drawn from the seed, so a seed makes the same book, and the same order of ids,
    every run."""
    return UUID(int=rng.getrandbits(128), version=4)


def _assigned(account: UUID, collector: str, on: date) -> AccountAssigned:
    return AccountAssigned(
        account_id=account,
        collector_id=collector,
        basis=AssignmentBasis.EXPLICIT,
        assigned_by="supervisor",
        effective_on=on,
    )


def book(rng: random.Random) -> tuple[list[EventContract], list[EventContract]]:
    """Billing's and collections' events for a varied book, each stream in its own order."""
    accounts = [_id(rng) for _ in range(12)]
    billing: list[EventContract] = []
    for n in range(60):
        account = rng.choice(accounts)
        currency = CURRENCIES[n % 3 == 0]
        invoice, issued = _id(rng), _day(rng, FIRST_ISSUE, 110)
        due = issued + timedelta(rng.choice((0, 14, 30, 45)))
        total = rng.randrange(1_000, 90_000)
        plan = [Instalment(due_date=due, amount_minor=total)]
        if n % 5 == 0:  # two instalments: the first due a fortnight before the last
            first = rng.randrange(1, total)
            plan = [
                Instalment(due_date=due - timedelta(14), amount_minor=first),
                Instalment(due_date=due, amount_minor=total - first),
            ]
        billing.append(
            InvoiceIssued(
                invoice_id=invoice,
                account_id=account,
                external_id=f"INV-{n}",
                currency=currency,
                total_minor=total,
                issue_date=issued,
                due_date=due,
                instalments=plan,
            )
        )
        for _ in range(rng.randrange(3)):  # some dated before their invoice, some after today
            billing.append(
                PaymentApplied(
                    payment_id=_id(rng),
                    account_id=account,
                    invoice_id=invoice,
                    amount_minor=rng.randrange(1, total // 2 + 2),
                    currency=currency,
                    remaining_minor=0,
                    applied_on=_day(rng, issued - timedelta(5), 80),
                )
            )
        if n % 4 == 1:
            billing.append(
                InvoiceAdjusted(
                    invoice_id=invoice,
                    account_id=account,
                    adjustment_id=_id(rng),
                    kind=rng.choice(list(AdjustmentKind)),
                    amount_minor=rng.randrange(1, total),
                    currency=currency,
                    reason_code="billing_error",
                    effective_date=_day(rng, issued, 60),
                )
            )
        if n % 11 == 3:
            billing.append(
                InvoiceVoided(
                    invoice_id=invoice,
                    account_id=account,
                    voided_amount_minor=total,
                    currency=currency,
                    voided_on=_day(rng, issued, 40),
                )
            )
    for account in [*rng.sample(accounts, 8), _id(rng)]:  # one known only by its auto-pay
        for _ in range(rng.randrange(1, 4)):
            on = _day(rng, FIRST_ISSUE - timedelta(20), 130)
            billing.append(
                AutoPayEnrolled(
                    account_id=account,
                    payment_method_reference="pm",
                    payment_method_type="card",
                    enrolled_on=on,
                )
            )
            if rng.random() < 0.6:  # cancelled later, or the same day
                billing.append(AutoPayCancelled(account_id=account, cancelled_on=_day(rng, on, 30)))
    for account in (accounts[0], _id(rng)):  # one with no invoice
        billing.insert(
            0,
            AccountRegistered(
                account_id=account,
                external_id=str(account),
                name="Registered",
                contacts=[],
                payment_terms_days=30,
                currency="USD",
            ),
        )
    collections: list[EventContract] = [
        _assigned(account, rng.choice(COLLECTORS), date(2026, 8, 1)) for account in accounts[2:]
    ]
    for account in rng.sample(accounts, 5):  # reassigned, two of them first assigned now
        collections.append(_assigned(account, rng.choice(COLLECTORS), date(2026, 11, 18)))
    for n in range(60):  # calls and promises: payments after them were secured
        account, who, on = rng.choice(accounts), rng.choice(COLLECTORS), _day(rng, FIRST_ISSUE, 110)
        when = datetime.combine(on, time(10), UTC)
        collections.append(
            ContactAttempted(
                contact_id=_id(rng),
                account_id=account,
                collector_id=who,
                channel=Channel.CALL,
                outcome=ContactOutcome.VOICEMAIL,
                invoice_ids=[],
                amount_past_due_minor=1,
                currency="USD",
                attempted_at=when,
                business_date=on,
            )
            if n % 2
            else CommitmentMade(
                commitment_id=_id(rng),
                account_id=account,
                collector_id=who,
                amount_minor=1_000,
                currency="USD",
                promised_date=on + timedelta(7),
                grace_days=0,
                invoice_ids=[],
                channel=Channel.CALL,
                made_on=on,
                made_at=when,
            )
        )
    return billing, collections


def interleaved(
    rng: random.Random, first: list[EventContract], second: list[EventContract]
) -> list[tuple[str, EventContract]]:
    """Both streams in one order of arrival, each keeping its own: a payment may still come
    before its invoice, and an assignment before or after the account's invoices."""
    streams = [("billing", list(first)), ("collections", list(second))]
    merged = []
    while any(events for _, events in streams):
        name, events = rng.choice([s for s in streams if s[1]])
        merged.append((name, events.pop(0)))
    return merged


async def apply(conn: asyncpg.Connection, rng: random.Random, events) -> None:
    """In transactions of a few events each, as the consumer runner applies a poll."""
    while events:
        size = rng.randrange(1, 8)
        batch, events = events[:size], events[size:]
        async with conn.transaction():
            for name, contract in batch:
                await PROJECTIONS[name].handler(conn, cloud(contract, source=f"urn:{name}"))


async def assert_sums_match_a_scan(conn: asyncpg.Connection) -> int:
    """Every period, group and currency: the figures from the sums equal a scan's; returns
    the fewest non-empty comparisons of one kind, so a book that produced nothing of a
    kind cannot pass."""
    compared = Counter[str]()
    for period in PERIODS:
        for group in KpiGroup:
            from_sums_autopay = await q.autopay(conn, period, group)
            assert from_sums_autopay == await q.autopay_by_scan(conn, period, group), (
                period,
                group,
            )
            compared["autopay"] += any(f.enrolled_in_period for f in from_sums_autopay.values())
        for currency in (*CURRENCIES, "JPY"):
            for group in KpiGroup:
                for window in (3, 14):
                    secured = await q.collections_secured(conn, period, currency, group, window)
                    assert secured == await q.collections_secured_by_scan(
                        conn, period, currency, group, window
                    ), (period, currency, group, window)
                    compared["secured"] += bool(secured)
                from_sums = await q.ar_figures(conn, period, currency, group)
                scanned = await q.ar_figures_by_scan(conn, period, currency, group)
                assert from_sums == scanned, (period, currency, group)
                compared["ar"] += bool(scanned)

    return min(compared[kind] for kind in ("autopay", "secured", "ar"))


async def team_up(conn: asyncpg.Connection) -> None:
    await conn.executemany(
        "INSERT INTO collector_teams (collector_id, team) VALUES ($1, $2)", TEAMS.items()
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_ar_figures_from_the_sums_equal_a_scan_of_every_invoice(fresh_database, seed):
    rng = random.Random(seed)
    url = await fresh_database(SPEC.versions_dir)
    billing, collections = book(rng)
    late = [("billing", e) for e in billing if isinstance(e, PaymentApplied)][-4:]
    events = [
        (name, e) for name, e in interleaved(rng, billing, collections) if (name, e) not in late
    ]
    conn = await asyncpg.connect(url)
    try:
        await team_up(conn)
        await apply(conn, rng, events)
        assert await assert_sums_match_a_scan(conn) >= 3
        # payments dated back into periods already reported, and one more reassignment
        moved = collections[0]
        assert isinstance(moved, AccountAssigned)
        await apply(
            conn,
            rng,
            [*late, ("collections", _assigned(moved.account_id, "bob", date(2026, 11, 25)))],
        )
        await assert_sums_match_a_scan(conn)
        # a collector moving team moves their figures with them
        await conn.execute("UPDATE collector_teams SET team = 'west' WHERE collector_id = 'ann'")
        await assert_sums_match_a_scan(conn)
    finally:
        await conn.close()


async def test_the_kpi_report_reads_the_sums_and_answers_as_the_scan_did(fresh_database):
    """The report's groups are the collectors (or teams) with an invoice by the period's
    end: the sums must neither add a group that a scan would not find nor lose one."""
    rng = random.Random(7)
    url = await fresh_database(SPEC.versions_dir)
    billing, collections = book(rng)
    conn = await asyncpg.connect(url)
    try:
        await team_up(conn)
        await apply(conn, rng, interleaved(rng, billing, collections))
        for group in (KpiGroup.collector, KpiGroup.team):
            report = await kpi_report(conn, KpiQuery(parse_period("2026-11"), "USD", group))
            scanned = await q.ar_figures_by_scan(conn, parse_period("2026-11"), "USD", group)
            ar = {row["key"]: q.ArFigures(*row["ar"].values()) for row in report["groups"]}
            assert ar == scanned
            assert len(scanned) > 1
    finally:
        await conn.close()


async def test_rebuilds_of_both_projections_rebuild_the_sums(fresh_database):
    """A billing rebuild fills new sums beside the live ones, which a swap replaces; a
    collections rebuild writes new assignments that re-derive nothing until the swap
    regroups the sums."""
    rng = random.Random(11)
    url = await fresh_database(SPEC.versions_dir)
    billing, collections = book(rng)
    conn = await asyncpg.connect(url)
    admin = await create_pool(url, min_size=1, max_size=2)
    try:
        await team_up(conn)
        await apply(conn, rng, interleaved(rng, billing, collections))
        reassigned = [  # had every account gone to another collector, and half the calls
            _assigned(e.account_id, COLLECTORS[(i + 1) % 4], e.effective_on)  # not been made
            if isinstance(e, AccountAssigned)
            else e
            for i, e in enumerate(collections)
            if not isinstance(e, ContactAttempted | CommitmentMade) or i % 2
        ]
        # a billing topic read again need not hold what the live tables hold (a projection
        # fixed, events set aside): here half the invoices are not in it, and what was
        # derived from them must go with them
        gone = {e.invoice_id for e in billing if isinstance(e, InvoiceIssued)}
        gone = set(rng.sample(sorted(gone), len(gone) // 2))
        rebilled = [e for e in billing if getattr(e, "invoice_id", None) not in gone]
        for name, events in (("billing", rebilled), ("collections", reassigned)):
            projection = PROJECTIONS[name]
            build = Build(projection, projection.subscription, f"kpi{name[:4]}{seed_of(rng)}")
            await shadow_tables.prepare(
                conn, build.schema, projection.tables, [t for t, _ in projection.shared]
            )
            builder = await asyncpg.connect(
                url, server_settings={"search_path": f'"{build.schema}", public'}
            )
            try:
                await apply(builder, rng, [(name, e) for e in events])
            finally:
                await builder.close()
            assert await _swap(admin, build)

            assert await assert_sums_match_a_scan(conn) >= 3
        owners = await conn.fetch(
            "SELECT DISTINCT collector_id FROM ar_sales_of_invoice WHERE collector_id IS NOT NULL"
        )
        assert owners  # the rebuilt assignments are what the sums are grouped by
    finally:
        await admin.close()
        await conn.close()


def seed_of(rng: random.Random) -> str:
    return f"{rng.randrange(16**6):06x}"


async def test_a_call_committed_while_a_payment_is_credited_is_not_missed(fresh_database):
    """The billing projection credits a new payment past due from the calls it can see;
    a call on the account committed meanwhile by the collections projection credits the
    account's payments it can see. Without one lock between them each misses the other."""
    url = await fresh_database(SPEC.versions_dir)
    account, invoice = uuid4(), uuid4()
    billing = await asyncpg.connect(url)
    collections = await asyncpg.connect(url)
    try:
        await PROJECTIONS["billing"].handler(
            billing,
            cloud(
                InvoiceIssued(
                    invoice_id=invoice,
                    account_id=account,
                    external_id="INV-1",
                    currency="USD",
                    total_minor=5_000,
                    issue_date=date(2026, 10, 1),
                    due_date=date(2026, 10, 31),
                ),
                source="urn:billing",
            ),
        )
        paid = PaymentApplied(
            payment_id=uuid4(),
            account_id=account,
            invoice_id=invoice,
            amount_minor=2_000,
            currency="USD",
            remaining_minor=0,
            applied_on=date(2026, 11, 20),
        )
        called = ContactAttempted(
            contact_id=uuid4(),
            account_id=account,
            collector_id="ann",
            channel=Channel.CALL,
            outcome=ContactOutcome.VOICEMAIL,
            invoice_ids=[],
            amount_past_due_minor=5_000,
            currency="USD",
            attempted_at=datetime(2026, 11, 18, 10, tzinfo=UTC),
            business_date=date(2026, 11, 18),
        )
        crediting = billing.transaction()
        await crediting.start()
        await PROJECTIONS["billing"].handler(billing, cloud(paid, source="urn:billing"))
        await billing.execute("SET CONSTRAINTS ALL IMMEDIATE")  # its commit's work, now

        async def call() -> None:
            async with collections.transaction():
                await PROJECTIONS["collections"].handler(
                    collections, cloud(called, source="urn:collections")
                )

        calling = asyncio.create_task(call())
        await asyncio.sleep(0.5)  # the call commits now, or waits for the payment's commit
        await crediting.commit()
        await calling
        week = parse_period("2026-W47")
        secured = await q.collections_secured(billing, week, "USD", KpiGroup.collector, 14)
        assert secured == {"ann": q.Secured(1, 2_000)}
        assert secured == await q.collections_secured_by_scan(
            billing, week, "USD", KpiGroup.collector, 14
        )
    finally:
        await billing.close()
        await collections.close()
