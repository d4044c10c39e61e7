"""Reporting aging benchmark: the read model's aging queries on a large book of invoices.

Seeds `--invoices` invoices over `--accounts` accounts (due dates spread over
the last 400 days, a third of them part-paid by a dated balance change) in the
reporting read model, then times, as the API runs them:

- current aging totals (per currency, standard buckets);
- one 100-row page of aging by account (from the middle of the book), today
  and as of 90 days ago;
- aging totals as of a past date (90 days ago);
- aging by segment, by collector and by team (from the sums kept per segment
  and due date, and per collector: their whole book and their recent due dates;
  40 collectors in 5 teams), today and by collector as of 90 days ago;
- the same totals straight over a raw invoice table holding today's open
  balance per invoice (what a naive system would keep), and the ratio;
- projection throughput: `--events` billing events (invoices issued, then
  payments applied to them) through the billing projection, `--batch` events
  per transaction and call, as the consumer runner applies a poll's records
  (decoding each event's contract; Kafka itself is not in the figure).

The seed goes through the read model's own triggers (reporting_service/sql/triggers), as the
projection's writes do. Prints median and p95 milliseconds over `--repeat`
runs, and events per second. Not a timed test.

    make bench            # or: .venv/bin/python bench/bench_reporting_aging.py --help
Uses DATABASE_URL when set, else embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import asyncpg
from own_postgres import reporting_database, run_on_postgres, run_script

from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import InvoiceIssued, PaymentApplied
from receivables_platform.ids import new_id
from reporting_service.adapters.aging_query import AgingFilter, GroupBy, Page, aging, encode_cursor
from reporting_service.consumers.billing_projection import project_billing_event
from reporting_service.domain.aging import buckets
from reporting_service.testing import cloud

SEED = """
INSERT INTO ar_accounts (account_id, segment, currency)
SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(a), 12, '0'))::uuid,
       (ARRAY['smb', 'enterprise', 'public'])[1 + a % 3], 'USD'
FROM generate_series(1, $2::int) a;
INSERT INTO collector_teams (collector_id, team)
SELECT 'collector-' || c, 'team-' || (c % 5) FROM generate_series(1, 40) c;
INSERT INTO col_assignments (account_id, collector_id, effective_on)
SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(a), 12, '0'))::uuid,
       'collector-' || (1 + abs(hashtext(a::text)) % 40), current_date - 500
FROM generate_series(1, $2::int) a;
INSERT INTO ar_invoices (invoice_id, account_id, external_id, currency, total_minor,
                         issue_date, due_date)
SELECT gen_random_uuid(),
       ('00000000-0000-7000-8000-' || lpad(to_hex(1 + i % $2::int), 12, '0'))::uuid,
       'INV-' || i, CASE WHEN i % 10 = 0 THEN 'EUR' ELSE 'USD' END,
       1000 + (i::bigint * 7919) % 500000, current_date - 30 - (i % 400), current_date - (i % 400)
FROM generate_series(1, $1::int) i;
INSERT INTO ar_balance_changes (event_id, invoice_id, account_id, kind, amount_minor,
                                effective_date)
SELECT gen_random_uuid()::text, invoice_id, account_id, 'payment', -(total_minor / 2),
       due_date + 5
FROM ar_invoices WHERE (hashtext(invoice_id::text) % 3) = 0;
CREATE TABLE raw_invoices AS
SELECT i.invoice_id, i.account_id, i.currency, i.due_date,
       i.total_minor + coalesce(sum(c.amount_minor), 0) AS open_minor
FROM ar_invoices i LEFT JOIN ar_balance_changes c USING (invoice_id)
GROUP BY i.invoice_id;
VACUUM ANALYZE
"""

RAW_TOTALS = """
SELECT currency, sum(open_minor) AS total,
       sum(open_minor) FILTER (WHERE current_date - due_date <= 0) AS current,
       sum(open_minor) FILTER (WHERE current_date - due_date BETWEEN 1 AND 30) AS b30,
       sum(open_minor) FILTER (WHERE current_date - due_date BETWEEN 31 AND 60) AS b60,
       sum(open_minor) FILTER (WHERE current_date - due_date BETWEEN 61 AND 90) AS b90,
       sum(open_minor) FILTER (WHERE current_date - due_date BETWEEN 91 AND 120) AS b120,
       sum(open_minor) FILTER (WHERE current_date - due_date > 120) AS over
FROM raw_invoices WHERE open_minor > 0 GROUP BY currency
"""


async def timed(label: str, repeat: int, run: Callable[[], Awaitable[Any]]) -> float:
    await run()  # warm the cache, as a serving system is
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) * 1000)
    median = statistics.median(samples)
    p95 = sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]
    print(f"{label:<48} median {median:9.1f} ms   p95 {p95:9.1f} ms", flush=True)
    return median


async def bench(server_url: str, args: argparse.Namespace) -> None:
    async with reporting_database(server_url, "bench_aging") as conn:
        started = time.perf_counter()
        sizes = {"$1::int": str(int(args.invoices)), "$2::int": str(int(args.accounts))}
        await run_script(conn, SEED, sizes)
        print(
            f"seeded {args.invoices:,} invoices over {args.accounts:,} accounts in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        await measure(conn, args.repeat)
        await throughput(conn, args.events, args.batch)


async def measure(conn: asyncpg.Connection, repeat: int) -> None:
    today = date.today()
    standard = buckets()
    middle = await aging(
        conn, AgingFilter(as_of=today), GroupBy.account, standard, Page(limit=1, after=None)
    )

    cursor = encode_cursor(GroupBy.account, middle[0])
    current = await timed(
        "current aging totals (read model)",
        repeat,
        lambda: aging(conn, AgingFilter(as_of=today), GroupBy.currency, standard),
    )
    await timed(
        "100-row page by account (read model)",
        repeat,
        lambda: aging(
            conn, AgingFilter(as_of=today), GroupBy.account, standard, Page(limit=100, after=cursor)
        ),
    )
    await timed(
        "aging totals as of 90 days ago (read model)",
        repeat,
        lambda: aging(conn, AgingFilter(as_of=today - timedelta(90)), GroupBy.currency, standard),
    )
    await timed(
        "100-row page by account as of 90 days ago",
        repeat,
        lambda: aging(
            conn,
            AgingFilter(as_of=today - timedelta(90)),
            GroupBy.account,
            standard,
            Page(limit=100, after=cursor),
        ),
    )
    await timed(
        "aging by segment (read model, target 10 ms)",
        repeat,
        lambda: aging(conn, AgingFilter(as_of=today), GroupBy.segment, standard),
    )
    await timed(
        "aging by collector (read model, target 10 ms)",
        repeat,
        lambda: aging(conn, AgingFilter(as_of=today), GroupBy.collector, standard),
    )
    await timed(
        "aging by team (read model)",
        repeat,
        lambda: aging(conn, AgingFilter(as_of=today), GroupBy.team, standard),
    )
    await timed(
        "aging by collector as of 90 days ago",
        repeat,
        lambda: aging(conn, AgingFilter(as_of=today - timedelta(90)), GroupBy.collector, standard),
    )
    raw = await timed(
        "current aging totals (raw invoice table)", repeat, lambda: conn.fetch(RAW_TOTALS)
    )
    print(
        f"read model / raw table, current totals: {current / raw:.5f} "
        f"(the raw table takes {raw / current:,.0f}x as long)",
        flush=True,
    )


def billing_history(events: int) -> list[EventContract]:
    """Invoices issued over 1,000 new accounts, then a part payment applied to each."""
    today = date.today()
    accounts = [new_id() for _ in range(1000)]
    issued = [
        InvoiceIssued(
            invoice_id=new_id(),
            account_id=accounts[i % 1000],
            external_id=f"T-{i}",
            currency="USD",
            total_minor=10_000 + i,
            issue_date=today - timedelta(30 + i % 90),
            due_date=today - timedelta(i % 90),
        )
        for i in range(events // 2)
    ]
    paid = [
        PaymentApplied(
            payment_id=new_id(),
            account_id=e.account_id,
            invoice_id=e.invoice_id,
            amount_minor=5_000,
            currency="USD",
            remaining_minor=0,
            applied_on=e.due_date,
        )
        for e in issued
    ]
    return [*issued, *paid]


async def throughput(conn: asyncpg.Connection, events: int, batch: int) -> None:
    envelopes = [cloud(e) for e in billing_history(events)]
    started = time.perf_counter()
    for first in range(0, len(envelopes), batch):
        async with conn.transaction():
            await project_billing_event.many(conn, envelopes[first : first + batch])
    seconds = time.perf_counter() - started
    print(
        f"projection throughput: {len(envelopes):,} billing events in {seconds:.1f} s = "
        f"{len(envelopes) / seconds:,.0f} events/s (batches of {batch})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    run_on_postgres(lambda url: bench(url, args), prefix="rx-bench-aging-")


if __name__ == "__main__":
    main()
