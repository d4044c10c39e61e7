"""Console page-render benchmark: p50/p95 per screen, the whole stack as `make run` starts it.

The four services and the console run as processes over one PostgreSQL server and
the broker; a book of accounts is loaded through the services' public APIs (billing
accounts and invoices, a collector's portfolio, the day's cadence, cases), so every
read model is filled the way production fills it. Then one person with every role
requests each screen `--requests` times, one after another, and the time to the last
byte of the HTML is recorded. The console's time includes the API calls it makes.

Loading through the APIs is slow (every invoice is an event through the broker), so
the book loaded that way is small. `--seed-accounts` / `--seed-invoices` then put the
issue's scale (50,000 accounts, 1M invoices, 40 collectors, a case on every tenth
account) straight into reporting's read model, through its own triggers as the
projections' writes go, so the screens that read the whole book (search, the
supervisor's aging, KPIs and trend, the drill) answer over it; the write-side services
keep the API-loaded book, which is what one person's screens read (their worklist, one
account, one case). Target: p95 under 150 ms per screen. Not a test.

    .venv/bin/python bench/bench_console_pages.py --accounts 300 --invoices 3 --requests 50
    .venv/bin/python bench/bench_console_pages.py --seed-accounts 50000 --seed-invoices 1000000
Uses DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS when set, else embedded servers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import asyncpg
import httpx
from process_cpu import stop

from receivables_devkit.infra.servers import servers
from receivables_devkit.testing.console import book_on_worklist
from receivables_devkit.testing.load import percentile
from receivables_devkit.testing.stories import Stories
from receivables_devkit.testing.system import RunningSystem
from receivables_platform import event_loop

TARGET_P95_MS = 150.0
PERSON = "bench-rep"


async def load_book(s: Stories, accounts: int, invoices: int) -> tuple[str, str]:
    """The collector's book, and a case on every tenth account; one account and one case
    to open."""
    made = await book_on_worklist(s, PERSON, accounts, invoices=invoices)
    cases = [
        (
            await s.create(
                "case-service",
                "/v1/cases",
                {
                    "type": "billing_inquiry",
                    "origin": "inbound_phone",
                    "account_id": account_id,
                    "subject": f"Question {n}",
                    "description": "Why this amount?",
                },
                roles=("case_agent",),
            )
        )["case_id"]
        for n, account_id in enumerate(made)
        if n % 10 == 0
    ]
    return made[0], cases[0]


SEED = """
INSERT INTO ar_accounts (account_id, external_id, name, segment, currency)
SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(a), 12, '0'))::uuid,
       'CUS-' || lpad(a::text, 6, '0'),
       (ARRAY['Northwind', 'Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne',
              'Tyrell', 'Hooli', 'Vandelay'])[1 + a % 10] || ' Seeded ' || a || ' '
           || (ARRAY['Inc', 'LLC', 'Ltd', 'GmbH', 'Co'])[1 + (a / 10) % 5],
       (ARRAY['smb', 'enterprise', 'public'])[1 + a % 3], 'USD'
FROM generate_series(1, $accounts) a;
INSERT INTO ar_account_contacts (account_id, position, name, email, phone, phone_digits)
SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(a), 12, '0'))::uuid, 0,
       'Contact ' || a, 'billing.' || a || '@customer' || (a % 97) || '.example',
       '+1 (555) ' || lpad((a % 1000)::text, 3, '0') || '-' || lpad((a / 1000)::text, 4, '0'),
       '1555' || lpad((a % 1000)::text, 3, '0') || lpad((a / 1000)::text, 4, '0')
FROM generate_series(1, $accounts) a;
INSERT INTO collector_teams (collector_id, team)
SELECT 'collector-' || c, 'team-' || (c % 5) FROM generate_series(1, 40) c
ON CONFLICT DO NOTHING;
INSERT INTO col_assignments (account_id, collector_id, effective_on)
SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(a), 12, '0'))::uuid,
       'collector-' || (1 + abs(hashtext(a::text)) % 40), current_date - 500
FROM generate_series(1, $accounts) a;
INSERT INTO ar_invoices (invoice_id, account_id, external_id, currency, total_minor,
                         issue_date, due_date)
SELECT gen_random_uuid(),
       ('00000000-0000-7000-8000-' || lpad(to_hex(1 + i % $accounts), 12, '0'))::uuid,
       'SEED-' || lpad(i::text, 7, '0'), 'USD', 1000 + (i::bigint * 7919) % 500000,
       current_date - 30 - (i % 400), current_date - (i % 400)
FROM generate_series(1, $invoices) i;
INSERT INTO ar_balance_changes (event_id, invoice_id, account_id, kind, amount_minor,
                                effective_date)
SELECT gen_random_uuid()::text, invoice_id, account_id, 'payment', -(total_minor / 2),
       due_date + 5
FROM ar_invoices WHERE external_id LIKE 'SEED-%' AND (hashtext(invoice_id::text) % 3) = 0;
INSERT INTO cases (case_id, case_number, account_id, type, status, opened_at)
SELECT gen_random_uuid(), 'CASE-S' || lpad(c::text, 6, '0'),
       ('00000000-0000-7000-8000-' || lpad(to_hex(1 + c * 10 % $accounts), 12, '0'))::uuid,
       'dispute', 'investigating', now() - make_interval(days => c % 300)
FROM generate_series(1, $accounts / 10) c;
SELECT search_index_all();
VACUUM ANALYZE
"""


async def seed_reporting(url: str, accounts: int, invoices: int) -> None:
    """The issue's scale in reporting's read model, beside the book the APIs loaded."""
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        sized = SEED.replace("$accounts", str(int(accounts))).replace(
            "$invoices", str(int(invoices))
        )
        for statement in sized.split(";\n"):
            await conn.execute(statement)
    finally:
        await conn.close()
    print(
        f"seeded reporting with {accounts:,} accounts and {invoices:,} invoices in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )


async def measure(server: str, bootstrap: str, logs: Path, args: argparse.Namespace) -> int:
    system = RunningSystem(server, bootstrap, logs)
    try:
        await system.start()
        console = await system.start_console()
        started = time.perf_counter()
        async with httpx.AsyncClient(timeout=60) as http:
            account_id, case_id = await load_book(
                Stories(system, http), args.accounts, args.invoices
            )
        print(
            f"loaded {args.accounts} accounts, {args.accounts * args.invoices} invoices "
            f"through the APIs in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        if args.seed_accounts:
            await seed_reporting(
                system.databases["reporting-service"], args.seed_accounts, args.seed_invoices
            )
        await asyncio.sleep(args.settle)  # reporting's projections catch up
        year, week, _ = date.today().isocalendar()
        screens = {
            "my-day": "/my-day",
            "account": f"/accounts/{account_id}",
            "search": "/search?q=Bench+00042",
            "case-desk": "/cases?queue=unassigned",
            "case": f"/cases/{case_id}",
            "supervisor": f"/supervisor?week={year}-W{week:02d}",
            "aging-drill": "/supervisor/aging?currency=USD&bucket=1-30",
            "weekly-review": f"/supervisor/weekly-review?week={year}-W{week:02d}",
            "approvals": "/supervisor/approvals",
            "admin": "/admin",
            "inbox": "/inbox",
            "templates": "/admin/templates",
            "template": "/admin/templates/overdue_statement/en",
            "preferences": "/preferences",
        }
        async with httpx.AsyncClient(base_url=console, timeout=60) as http:
            page = (await http.get("/sign-in")).text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert csrf, page[:500]
            signed = await http.post(
                "/sign-in/dev",
                data={
                    "csrf_token": csrf.group(1),
                    "sub": PERSON,
                    "next": "/my-day",
                    "roles": ["collector", "case_agent", "supervisor", "admin"],
                },
            )
            assert signed.status_code == 303, signed.text[:500]
            met = True
            print(f"{'screen':<15}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'KiB':>7}", flush=True)
            for name, path in screens.items():
                times, size = [], 0
                for _ in range(args.warm_up):
                    await http.get(path)
                for _ in range(args.requests):
                    begun = time.perf_counter()
                    answer = await http.get(path)
                    times.append((time.perf_counter() - begun) * 1000)
                    assert answer.status_code == 200, (path, answer.status_code)
                    size = len(answer.content)
                p95 = percentile(times, 95)
                met = met and p95 < TARGET_P95_MS
                print(
                    f"{name:<15}{statistics.median(times):>9.1f}{p95:>9.1f}"
                    f"{max(times):>9.1f}{size / 1024:>7.0f}",
                    flush=True,
                )
        print(
            f"target (p95 under {TARGET_P95_MS:g} ms on every screen): "
            f"{'met' if met else 'NOT met'}; {os.cpu_count()} cores, load average "
            f"{os.getloadavg()[0]:.1f}",
            flush=True,
        )
        return 0
    finally:
        await stop(system, logs)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=300, help="accounts to load")
    parser.add_argument("--invoices", type=int, default=3, help="invoices per account")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per screen")
    parser.add_argument(
        "--seed-accounts",
        type=int,
        default=0,
        help="accounts seeded into reporting's read model (50000: the issue)",
    )
    parser.add_argument(
        "--seed-invoices",
        type=int,
        default=0,
        help="invoices seeded with them (1000000: the issue)",
    )
    parser.add_argument("--warm-up", type=int, default=3, help="untimed requests first")
    parser.add_argument(
        "--settle",
        type=float,
        default=5.0,
        help="seconds for the projections to catch up after loading",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with (
        tempfile.TemporaryDirectory(prefix="rx-console-") as tmp,
        servers(Path(tmp)) as (server, bootstrap),
    ):
        logs = Path(tempfile.mkdtemp(prefix="rx-console-logs-"))
        return event_loop.run(measure(server, bootstrap, logs, args))


if __name__ == "__main__":
    sys.exit(main())
