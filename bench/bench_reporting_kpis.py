"""Reporting KPI benchmark: the KPI report and the weekly review on a large book.

Seeds the aging benchmark's book (`--invoices` over `--accounts`, 40 collectors in 5
teams, a third of the invoices part-paid after their due date) through the read
model's triggers, as the projections' writes go, plus `--contacts` calls over the last
90 days and auto-pay enrolments on half the accounts (a third of those cancelled).
Then times, as the API runs them:

- the KPI report (`GET /v1/kpis`) for this week and this month, by collector, by team
  and for everyone, which reads the sums kept per collector;
- the AR, auto-pay and collections-secured figures computed the old way, from every
  invoice, account and payment (`*_by_scan`), once each, for comparison;
- the weekly review's JSON (two weeks of KPIs, the aging change, root causes);
- projection throughput (`--events` billing events through the billing projection),
  which now also keeps credit sales and payments past due at commit.

Prints median and p95 milliseconds over `--repeat` runs. Not a timed test.

    .venv/bin/python bench/bench_reporting_kpis.py --help
Uses DATABASE_URL when set, else embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import asyncpg
from bench_reporting_aging import SEED, throughput, timed
from own_postgres import reporting_database, run_on_postgres, run_script

from reporting_service.adapters import kpi_query as q
from reporting_service.adapters.kpi_query import KpiGroup
from reporting_service.domain.kpis import iso_week, parse_period
from reporting_service.service_layer.kpis import KpiQuery, kpi_report
from reporting_service.service_layer.weekly_review import weekly_review

TOUCHES_AND_AUTOPAY = """
INSERT INTO col_contacts (contact_id, account_id, collector_id, channel, outcome,
                          business_date, attempted_at)
SELECT gen_random_uuid(),
       ('00000000-0000-7000-8000-' || lpad(to_hex(1 + (g * 7919) % $2::int), 12, '0'))::uuid,
       'collector-' || (1 + g % 40), 'call', 'voicemail', current_date - (g % 90), now()
FROM generate_series(1, $3::int) g;
INSERT INTO ar_autopay_history (event_id, account_id, enrolled, effective_date)
SELECT gen_random_uuid()::text,
       ('00000000-0000-7000-8000-' || lpad(to_hex(a), 12, '0'))::uuid, true,
       current_date - (a % 400)
FROM generate_series(1, $2::int, 2) a;
INSERT INTO ar_autopay_history (event_id, account_id, enrolled, effective_date)
SELECT gen_random_uuid()::text,
       ('00000000-0000-7000-8000-' || lpad(to_hex(a), 12, '0'))::uuid, false,
       current_date - (a % 200)
FROM generate_series(1, $2::int, 6) a;
VACUUM ANALYZE
"""


async def bench(server_url: str, args: argparse.Namespace) -> None:
    async with reporting_database(server_url, "bench_kpis") as conn:
        started = time.perf_counter()
        sizes = {
            "$1::int": str(int(args.invoices)),
            "$2::int": str(int(args.accounts)),
            "$3::int": str(int(args.contacts)),
        }
        await run_script(conn, SEED + ";\n" + TOUCHES_AND_AUTOPAY, sizes)
        print(
            f"seeded {args.invoices:,} invoices over {args.accounts:,} accounts, "
            f"{args.contacts:,} calls in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        await measure(conn, args.repeat)
        await throughput(conn, args.events, args.batch)


async def measure(conn: asyncpg.Connection, repeat: int) -> None:
    year, week, _ = date.today().isocalendar()
    this_week = f"{year}-W{week:02d}"
    periods = {
        "this week": iso_week(this_week).up_to(date.today()),
        "this month": parse_period(date.today().strftime("%Y-%m")).up_to(date.today()),
    }
    for label, period in periods.items():
        for group in KpiGroup:
            await timed(
                f"KPI report, {label}, by {group.value}",
                repeat,
                lambda period=period, group=group: kpi_report(conn, KpiQuery(period, "USD", group)),
            )
    week = periods["this week"]
    for group in (KpiGroup.collector, KpiGroup.team):
        await timed(
            f"AR figures by {group.value}, scanning invoices",
            1,
            lambda group=group: q.ar_figures_by_scan(conn, week, "USD", group),
        )
    await timed(
        "auto-pay by collector, scanning accounts",
        1,
        lambda: q.autopay_by_scan(conn, week, KpiGroup.collector),
    )
    await timed(
        "collections secured, looking invoices up",
        1,
        lambda: q.collections_secured_by_scan(conn, week, "USD", KpiGroup.collector, 14),
    )
    await timed(
        "weekly review (JSON)",
        repeat,
        lambda: weekly_review(conn, this_week, "USD", 3, 14),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--contacts", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    run_on_postgres(lambda url: bench(url, args), prefix="rx-bench-kpis-")


if __name__ == "__main__":
    main()
