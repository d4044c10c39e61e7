"""Console page-render benchmark: p50/p95 per screen, the whole stack as `make run` starts it.

The four services and the console run as processes over one PostgreSQL server and
the broker; a book of accounts is loaded through the services' public APIs (billing
accounts and invoices, a collector's portfolio, the day's cadence, cases), so every
read model is filled the way production fills it. Then one person with every role
requests each screen `--requests` times, one after another, and the time to the last
byte of the HTML is recorded. The console's time includes the API calls it makes.

Loading through the APIs is slow (every invoice is an event through the broker), so
the default book is small; the 50,000-account / 1M-invoice read side is measured by
bench_search.py and bench_reporting_aging.py. Target: p95 under 150 ms per screen.
Not a test.

    .venv/bin/python bench/bench_console_pages.py --accounts 300 --invoices 3 --requests 50
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

import httpx
from client_loop import run_client
from process_cpu import stop

from receivables_devkit.infra.servers import servers
from receivables_devkit.testing.console import book_on_worklist
from receivables_devkit.testing.load import percentile
from receivables_devkit.testing.stories import Stories
from receivables_devkit.testing.system import RunningSystem

TARGET_P95_MS = 150.0
PERSON = "bench-rep"


async def load_book(s: Stories, accounts: int, invoices: int) -> tuple[str, str]:
    """The collector's book, and a case on every tenth account; one account and one case
    to open."""
    made = await book_on_worklist(s, PERSON, accounts, invoices=invoices)
    cases = [(await s.create("case-service", "/v1/cases", {
        "type": "billing_inquiry", "origin": "inbound_phone", "account_id": account_id,
        "subject": f"Question {n}", "description": "Why this amount?"},
        roles=("case_agent",)))["case_id"] for n, account_id in enumerate(made) if n % 10 == 0]
    return made[0], cases[0]


async def measure(server: str, bootstrap: str, logs: Path, args: argparse.Namespace) -> int:
    system = RunningSystem(server, bootstrap, logs)
    try:
        await system.start()
        console = await system.start_console()
        started = time.perf_counter()
        async with httpx.AsyncClient(timeout=60) as http:
            account_id, case_id = await load_book(Stories(system, http), args.accounts,
                                                  args.invoices)
        print(f"loaded {args.accounts} accounts, {args.accounts * args.invoices} invoices "
              f"through the APIs in {time.perf_counter() - started:.0f} s", flush=True)
        await asyncio.sleep(args.settle)  # reporting's projections catch up
        year, week, _ = date.today().isocalendar()
        screens = {
            "my-day": "/my-day", "account": f"/accounts/{account_id}",
            "search": "/search?q=Bench+00042", "case-desk": "/cases?queue=unassigned",
            "case": f"/cases/{case_id}", "supervisor": f"/supervisor?week={year}-W{week:02d}",
            "aging-drill": "/supervisor/aging?currency=USD&bucket=1-30",
            "weekly-review": f"/supervisor/weekly-review?week={year}-W{week:02d}",
            "approvals": "/supervisor/approvals",
            "admin": "/admin"}
        async with httpx.AsyncClient(base_url=console, timeout=60) as http:
            page = (await http.get("/sign-in")).text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert csrf, page[:500]
            signed = await http.post("/sign-in/dev", data={
                "csrf_token": csrf.group(1), "sub": PERSON, "next": "/my-day",
                "roles": ["collector", "case_agent", "supervisor", "admin"]})
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
                print(f"{name:<15}{statistics.median(times):>9.1f}{p95:>9.1f}"
                      f"{max(times):>9.1f}{size / 1024:>7.0f}", flush=True)
        print(f"target (p95 under {TARGET_P95_MS:g} ms on every screen): "
              f"{'met' if met else 'NOT met'}; {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.1f}", flush=True)
        return 0
    finally:
        await stop(system, logs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=300, help="accounts to load")
    parser.add_argument("--invoices", type=int, default=3, help="invoices per account")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per screen")
    parser.add_argument("--warm-up", type=int, default=3, help="untimed requests first")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="seconds for the projections to catch up after loading")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="rx-console-") as tmp, \
            servers(Path(tmp)) as (server, bootstrap):
        logs = Path(tempfile.mkdtemp(prefix="rx-console-logs-"))
        return run_client(measure(server, bootstrap, logs, args))


if __name__ == "__main__":
    sys.exit(main())
