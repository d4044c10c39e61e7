"""Property: projected aging equals an independent recomputation from the raw events, to the cent.

Hypothesis builds random billing histories (issues, some in instalments, credit and debit
adjustments, payments applied, reversals, voids, write-offs) in two
currencies, delivers them in a random order (across invoices and payments:
an application may come before its invoice) with random duplicates, projects
them into real PostgreSQL (one by one, or several per transaction through the
bulk path the consumer runner takes) and checks, for several as-of dates:

- every invoice's open balance and its amount per bucket (each instalment by its own
  due date) against a recomputation in plain
  Python from the contracts (docs/architecture.md#metrics),
- how the whole book's totals per currency and bucket (which the projection
  keeps summed per due date) moved, against the same recomputation, and
- that every aging row's buckets add up to its total, and the totals by
  account, collector, segment and currency all reconcile to the same open AR.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from receivables_devkit.infra.embedded_postgres import database_url
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import (
    AccountRegistered,
    AdjustmentKind,
    InvoiceAdjusted,
    InvoiceIssued,
    InvoiceVoided,
    InvoiceWrittenOff,
    PaymentApplied,
    PaymentReversed,
    Reopened,
    ReversalReason,
)
from receivables_platform.contracts.collections import (
    AccountAssigned,
    AssignmentBasis,
    HoldPlaced,
    HoldRelease,
    HoldReleased,
    HoldSource,
)
from receivables_platform.db.migrate import upgrade
from reporting_service.adapters.aging_query import AgingFilter, GroupBy, aging
from reporting_service.consumers.billing_projection import project_billing_event
from reporting_service.consumers.collections_projection import project_collections_event
from reporting_service.domain.aging import Bucket, bucket_for, buckets
from reporting_service.spec import SPEC
from reporting_service.testing import cloud

START = date(2026, 1, 1)
days = st.integers(min_value=0, max_value=200)
amounts = st.integers(min_value=1, max_value=50_000)
BOUNDS = st.sampled_from([(0, 30, 60, 90, 120), (0, 15, 45), (0, 1)])


@st.composite
def histories(draw: st.DrawFn) -> tuple[UUID, list[EventContract]]:
    account = uuid4()
    currency_of: dict[UUID, str] = {}
    events: list[EventContract] = [
        AccountRegistered(
            account_id=account,
            external_id="C",
            name="N",
            contacts=[],
            payment_terms_days=30,
            segment=draw(st.sampled_from([None, "smb", "enterprise"])),
            currency="USD",
        )
    ]
    for _ in range(draw(st.integers(1, 5))):
        issue = START + timedelta(draw(days))
        total = draw(amounts)
        # some invoices are paid in instalments: each ages from its own due date
        offsets = sorted(draw(st.lists(st.integers(0, 90), min_size=1, max_size=3)))
        cuts = (
            sorted(
                draw(
                    st.lists(
                        st.integers(1, max(total - 1, 1)),
                        min_size=len(offsets) - 1,
                        max_size=len(offsets) - 1,
                        unique=True,
                    )
                )
            )
            if total > len(offsets)
            else []
        )
        shares = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
        plan = (
            [
                {"due_date": issue + timedelta(o), "amount_minor": a}
                for o, a in zip(offsets, shares, strict=False)
            ]
            if len(shares) == len(offsets)
            else []
        )
        invoice = InvoiceIssued(
            invoice_id=uuid4(),
            account_id=account,
            external_id="I",
            currency=draw(st.sampled_from(["USD", "EUR"])),
            total_minor=total,
            issue_date=issue,
            due_date=(
                plan[-1]["due_date"] if plan else issue + timedelta(draw(st.integers(0, 60)))
            ),
            **(
                {
                    "lines": [
                        {
                            "description": "d",
                            "quantity": 1,
                            "unit_price_minor": total,
                            "amount_minor": total,
                        }
                    ],
                    "subtotal_minor": total,
                    "tax_minor": 0,
                    "instalments": plan,
                }
                if plan
                else {}
            ),
        )
        currency_of[invoice.invoice_id] = invoice.currency
        events.append(invoice)
    invoices = list(currency_of)
    for _ in range(draw(st.integers(0, 12))):
        target = draw(st.sampled_from(invoices))
        cur, on = currency_of[target], START + timedelta(draw(days))
        kind = draw(st.sampled_from(["credit", "debit", "pay", "pay_reverse", "void", "write_off"]))
        if kind in ("credit", "debit"):
            events.append(
                InvoiceAdjusted(
                    invoice_id=target,
                    account_id=account,
                    adjustment_id=uuid4(),
                    kind=AdjustmentKind(kind),
                    amount_minor=draw(amounts),
                    currency=cur,
                    reason_code="r",
                    effective_date=on,
                )
            )
        elif kind in ("pay", "pay_reverse"):
            payment, amount = uuid4(), draw(amounts)
            events.append(
                PaymentApplied(
                    payment_id=payment,
                    account_id=account,
                    invoice_id=target,
                    amount_minor=amount,
                    currency=cur,
                    remaining_minor=0,
                    applied_on=on,
                )
            )
            if kind == "pay_reverse":
                events.append(
                    PaymentReversed(
                        payment_id=payment,
                        account_id=account,
                        amount_minor=amount,
                        currency=cur,
                        reason=ReversalReason.CHARGEBACK,
                        reopened=[Reopened(invoice_id=target, amount_minor=amount)],
                        unapplied_minor=0,
                        reversed_on=on + timedelta(draw(st.integers(0, 30))),
                    )
                )
        elif kind == "void":
            events.append(
                InvoiceVoided(
                    invoice_id=target,
                    account_id=account,
                    voided_amount_minor=draw(amounts),
                    currency=cur,
                    voided_on=on,
                )
            )
        else:
            events.append(
                InvoiceWrittenOff(
                    invoice_id=target,
                    account_id=account,
                    amount_minor=draw(amounts),
                    currency=cur,
                    reason_code="w",
                    written_off_on=on,
                )
            )
    return account, events


def spread(invoice: InvoiceIssued, balance: int) -> dict[date, int]:
    """The open balance over the instalments' due dates: payments settle the earliest first,
    so what is open is the latest instalments' (a balance above the plan: on the last)."""
    planned: dict[date, int] = defaultdict(int)
    for part in invoice.instalments:
        planned[part.due_date] += part.amount_minor
    left, open_by_date = balance, {}
    last = max(planned)
    for due in sorted(planned, reverse=True):
        share = planned[due] + (max(balance - sum(planned.values()), 0) if due == last else 0)
        open_by_date[due] = min(share, left)
        left -= open_by_date[due]
    return {d: a for d, a in open_by_date.items() if a > 0}


def recompute(
    events: list[EventContract], as_of: date, all_buckets: list[Bucket]
) -> dict[UUID, tuple[int, dict[str, int]]]:
    """Open balance and its amount per bucket per invoice, from the contracts alone."""
    balance: dict[UUID, int] = defaultdict(int)
    issued: dict[UUID, InvoiceIssued] = {}
    for e in events:
        match e:
            case InvoiceIssued() if e.issue_date <= as_of:
                issued[e.invoice_id] = e
                balance[e.invoice_id] += e.total_minor
            case InvoiceAdjusted() if e.effective_date <= as_of:
                sign = -1 if e.kind is AdjustmentKind.CREDIT else 1
                balance[e.invoice_id] += sign * e.amount_minor
            case PaymentApplied() if e.applied_on <= as_of:
                balance[e.invoice_id] -= e.amount_minor
            case PaymentReversed() if e.reversed_on <= as_of:
                for r in e.reopened:
                    balance[r.invoice_id] += r.amount_minor
            case InvoiceVoided() if e.voided_on <= as_of:
                balance[e.invoice_id] -= e.voided_amount_minor
            case InvoiceWrittenOff() if e.written_off_on <= as_of:
                balance[e.invoice_id] -= e.amount_minor
    aged: dict[UUID, tuple[int, dict[str, int]]] = {}
    for i, inv in issued.items():
        if balance[i] > 0:
            by_bucket: dict[str, int] = defaultdict(int)
            for due, amount in spread(inv, balance[i]).items():
                by_bucket[bucket_for((as_of - due).days, all_buckets).key] += amount
            aged[i] = (balance[i], dict(by_bucket))
    return aged


@pytest.fixture(scope="module")
def database(postgres_server_url: str) -> Iterator[str]:
    """One migrated database for every example; each example has its own account."""
    name = f"t_prop_{uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(postgres_server_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = database_url(postgres_server_url, name)
    upgrade(url, SPEC.versions_dir)
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def check(
    url: str,
    account: UUID,
    events: list[EventContract],
    order: list[int],
    as_ofs: list[date],
    bounds: tuple[int, ...],
    batch: int,
) -> None:
    all_buckets = buckets(bounds)
    envelopes = [cloud(e) for e in events]
    conn = await asyncpg.connect(url)
    try:
        before = {d: await _book_by_bucket(conn, d, all_buckets) for d in as_ofs}
        delivered = [envelopes[index] for index in order]
        for first in range(0, len(delivered), batch):
            if batch == 1:
                await project_billing_event(conn, delivered[first])
                continue
            async with conn.transaction():  # as the consumer runner applies a poll's events
                await project_billing_event.many(conn, delivered[first : first + batch])
        for as_of in as_ofs:
            # the whole book's totals (summed per due date) moved by exactly this history
            after = await _book_by_bucket(conn, as_of, all_buckets)
            moved = {k: v - before[as_of].get(k, 0) for k, v in after.items()}
            assert {k: v for k, v in moved.items() if v} == _by_bucket(events, as_of, all_buckets)
            flt = AgingFilter(as_of=as_of, account_id=account)
            rows = await aging(conn, flt, GroupBy.invoice, all_buckets)
            projected = {
                r["invoice_id"]: (r["total_minor"], {k: v for k, v in r["buckets"].items() if v})
                for r in rows
            }
            expected = recompute(events, as_of, all_buckets)
            assert projected == expected, as_of
            currency_of = {e.invoice_id: e.currency for e in events if isinstance(e, InvoiceIssued)}
            by_currency: dict[str, int] = defaultdict(int)
            for invoice_id, (amount, _) in expected.items():
                by_currency[currency_of[invoice_id]] += amount
            for group_by in (GroupBy.account, GroupBy.segment, GroupBy.collector, GroupBy.currency):
                grouped = await aging(conn, flt, group_by, all_buckets)
                for row in grouped:
                    assert sum(row["buckets"].values()) == row["total_minor"]
                    assert row["invoices"] > 0
                totals: dict[str, int] = defaultdict(int)
                for row in grouped:
                    totals[row["currency"]] += row["total_minor"]
                assert totals == by_currency, group_by
    finally:
        await conn.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories(), data=st.data(), bounds=BOUNDS)
def test_projected_aging_matches_a_recomputation_from_the_events(
    database: str,
    history: tuple[UUID, list[EventContract]],
    data: st.DataObject,
    bounds: tuple[int, ...],
) -> None:
    account, events = history
    order = data.draw(st.permutations(range(len(events))), label="delivery order")
    duplicates = data.draw(
        st.lists(st.sampled_from(range(len(events))), max_size=5), label="redelivered"
    )
    # boundaries are where aging goes wrong: the events' own dates, and the day before each
    edges = sorted({d + timedelta(shift) for e in events for d in _dates(e) for shift in (-1, 0)})
    as_ofs = data.draw(
        st.lists(
            st.sampled_from(edges) | st.dates(START, START + timedelta(300)), min_size=1, max_size=4
        ),
        label="as of",
    )
    batch = data.draw(st.sampled_from([1, 3, 50]), label="events per transaction")
    asyncio.run(check(database, account, events, [*order, *duplicates], as_ofs, bounds, batch))


async def _book_by_bucket(
    conn: asyncpg.Connection, as_of: date, all_buckets: list[Bucket]
) -> dict[tuple[str, str], int]:
    """(currency, bucket) -> amount, and (currency, "invoices") -> count, for every account."""
    book: dict[tuple[str, str], int] = {}
    for row in await aging(conn, AgingFilter(as_of=as_of), GroupBy.currency, all_buckets):
        book |= {(row["currency"], k): v for k, v in row["buckets"].items()}
        book[(row["currency"], "invoices")] = row["invoices"]
    return book


def _by_bucket(
    events: list[EventContract], as_of: date, all_buckets: list[Bucket]
) -> dict[tuple[str, str], int]:
    currency_of = {e.invoice_id: e.currency for e in events if isinstance(e, InvoiceIssued)}
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for invoice_id, (_, by_bucket) in recompute(events, as_of, all_buckets).items():
        for bucket, amount in by_bucket.items():
            expected[(currency_of[invoice_id], bucket)] += amount
        expected[(currency_of[invoice_id], "invoices")] += 1
    return dict(expected)


def _dates(event: EventContract) -> list[date]:
    instalments = event.instalments if isinstance(event, InvoiceIssued) else []
    return [
        *(v for v in event.__dict__.values() if isinstance(v, date)),
        *(i.due_date for i in instalments),
    ]


# the collectors accounts are assigned to, and their teams; "dee" has none
TEAMS = {"ann": "east", "bob": "east", "cy": "west", "dee": None}
# custom bounds too, some beyond every due date (the whole book read day by day)
GROUP_BOUNDS = st.sampled_from([(0, 30, 60, 90, 120), (0, 15, 45), (0, 1), (0, 7, 400), (0,)])


@st.composite
def assigned_histories(draw: st.DrawFn) -> tuple[UUID, list[EventContract]]:
    """A billing history with the account (re)assigned, back-dated or late, and invoices held
    and released, interleaved in delivery order."""
    account, events = draw(histories())
    invoices = [e.invoice_id for e in events if isinstance(e, InvoiceIssued)]
    collections: list[EventContract] = [
        AccountAssigned(
            account_id=account,
            collector_id=draw(st.sampled_from(sorted(TEAMS))),
            basis=AssignmentBasis.EXPLICIT,
            assigned_by="sup",
            effective_on=START + timedelta(draw(days)),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    for _ in range(draw(st.integers(0, 2))):
        hold, held = uuid4(), draw(st.lists(st.sampled_from(invoices), min_size=1, max_size=2))
        placed = START + timedelta(draw(days))
        collections.append(
            HoldPlaced(
                hold_id=hold,
                account_id=account,
                invoice_ids=held,
                source=HoldSource.MANUAL,
                reason="r",
                placed_on=placed,
            )
        )
        if draw(st.booleans()):
            collections.append(
                HoldReleased(
                    hold_id=hold,
                    account_id=account,
                    invoice_ids=held,
                    release=HoldRelease.MANUAL,
                    released_on=placed + timedelta(draw(st.integers(0, 60))),
                )
            )
    return account, events + collections


async def _per_invoice(
    conn: asyncpg.Connection, as_of: date, all_buckets: list[Bucket], key: str
) -> dict[tuple[str | None, str], dict[str, object]]:
    """The whole book per invoice, summed by the invoice's account's collector or team: what
    aging by collector or team must answer, read from every invoice's own steps."""
    collector_of = {
        r["account_id"]: r["collector_id"]
        for r in await conn.fetch("SELECT account_id, collector_id FROM col_assignments")
    }
    summed: dict[tuple[str | None, str], dict[str, object]] = {}
    for row in await aging(conn, AgingFilter(as_of=as_of), GroupBy.invoice, all_buckets):
        collector = collector_of.get(row["account_id"])
        group = collector if key == "collector_id" else TEAMS.get(collector or "")
        into = summed.setdefault((group, row["currency"]), _zero(all_buckets))
        for measure in _GROUP_MEASURES:
            into[measure] += row[measure]  # type: ignore[operator]
        for bucket, amount in row["buckets"].items():
            into["buckets"][bucket] += amount  # type: ignore[index]
    return summed


_GROUP_MEASURES = (
    "total_minor",
    "invoices",
    "on_hold_minor",
    "in_dispute_minor",
    "on_hold_invoices",
    "in_dispute_invoices",
)


def _zero(all_buckets: list[Bucket]) -> dict[str, object]:
    return {**dict.fromkeys(_GROUP_MEASURES, 0), "buckets": {b.key: 0 for b in all_buckets}}


def _grouped(rows: list[dict[str, object]], key: str) -> dict[tuple[str | None, str], object]:
    return {
        (row.get(key), row["currency"]): {
            **{m: row[m] for m in _GROUP_MEASURES},
            "buckets": row["buckets"],
        }
        for row in rows
    }


async def check_grouped(
    url: str, events: list[EventContract], order: list[int], as_ofs: list[date], bounds: tuple
) -> None:
    all_buckets = buckets(bounds)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO collector_teams (collector_id, team) "
            "SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
            [c for c, t in TEAMS.items() if t],
            [t for t in TEAMS.values() if t],
        )
        for index in order:
            event = events[index]
            async with conn.transaction():
                if isinstance(event, AccountAssigned | HoldPlaced | HoldReleased):
                    await project_collections_event(conn, cloud(event))
                else:
                    await project_billing_event(conn, cloud(event))
        for as_of in as_ofs:
            for group_by, key in ((GroupBy.collector, "collector_id"), (GroupBy.team, "team")):
                expected = await _per_invoice(conn, as_of, all_buckets, key)
                rows = await aging(conn, AgingFilter(as_of=as_of), group_by, all_buckets)
                assert _grouped(rows, key) == expected, (group_by, as_of)
                # one collector's, team's or currency's rows: the same rows, by the same sums
                for group in {g for g, _ in expected if g is not None}:
                    only = await aging(
                        conn, AgingFilter(as_of=as_of, **{key: group}), group_by, all_buckets
                    )
                    wanted = {k: v for k, v in expected.items() if k[0] == group}
                    assert _grouped(only, key) == wanted, (group, as_of)
                for currency in {c for _, c in expected}:
                    in_currency = await aging(
                        conn, AgingFilter(as_of=as_of, currency=currency), group_by, all_buckets
                    )
                    wanted = {k: v for k, v in expected.items() if k[1] == currency}
                    assert _grouped(in_currency, key) == wanted, (currency, as_of)
    finally:
        await conn.close()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=assigned_histories(), data=st.data(), bounds=GROUP_BOUNDS)
def test_aging_by_collector_and_team_equals_the_invoices_summed_by_their_collector(
    database: str,
    history: tuple[UUID, list[EventContract]],
    data: st.DataObject,
    bounds: tuple[int, ...],
) -> None:
    """Aging by collector or team reads sums kept apart from the invoices' steps (a book per
    collector, totals per due date, changes per day): over reassignments, back-dated and
    out-of-order changes, instalments, holds and custom buckets, for dates before, on and
    after the changes, they answer what the invoices summed by their collector answer."""
    _, events = history
    order = data.draw(st.permutations(range(len(events))), label="delivery order")
    # where a due date crosses a bound (a day either side), and the events' own dates
    edges = sorted(
        {
            d + timedelta(bound + shift)
            for e in events
            for d in _dates(e)
            for bound in {0, *bounds}
            for shift in (-1, 0, 1)
        }
    )
    as_ofs = data.draw(
        st.lists(
            st.sampled_from(edges) | st.dates(START - timedelta(30), START + timedelta(700)),
            min_size=1,
            max_size=3,
        ),
        label="as of",
    )
    asyncio.run(check_grouped(database, events, order, as_ofs, bounds))
