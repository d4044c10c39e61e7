"""Search benchmark: what a representative types, over 50,000 accounts and 1M invoices.

Loads the read model straight with SQL (generate_series, not through events):
`--accounts` accounts with generated company names and one contact each (email and
phone), `--invoices` invoices numbered INV-0000001.., and `--cases` cases, then times
the search use case as the API runs it (a supervisor, who may see every kind) on
queries that vary per run:

- a name fragment with a typo ("nortwind logstics");
- an invoice number as read out ("inv-0456789");
- an email;
- a phone number in other punctuation than stored;
- a case number by its digits ("case 1234").

Prints median and p95 milliseconds per query type (target p95 < 50 ms). Not a test.

    .venv/bin/python bench/bench_search.py --help
Uses DATABASE_URL when set, else embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

import asyncpg
from own_postgres import reporting_database, run_on_postgres, run_script

from reporting_service.domain.search import read_query
from reporting_service.service_layer.search import search

FIRST = [
    "Northwind",
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Gringotts",
    "Oscorp",
    "Duff",
    "Pied Piper",
    "Massive Dynamic",
    "Aperture",
    "Black Mesa",
]
CITY = [
    "of Boston",
    "of Denver",
    "of Austin",
    "of Tacoma",
    "of Dayton",
    "of Fresno",
    "of Tulsa",
    "of Omaha",
    "of Reno",
    "of Akron",
    "of Provo",
    "of Macon",
    "of Salem",
    "of Tampa",
    "of Mesa",
    "of Irvine",
    "of Joliet",
    "of Peoria",
    "of Yonkers",
    "of Laredo",
    "of Toledo",
    "of Quincy",
    "of Camden",
    "of Elgin",
    "of Flint",
    "of Gary",
    "of Hilo",
    "of Ogden",
    "of Pueblo",
    "of Waco",
]
FORM = ["Inc", "LLC", "Ltd", "GmbH", "Co"]
SECOND = [
    "Logistics",
    "Industrial Supply",
    "Foods",
    "Energy",
    "Health",
    "Holdings",
    "Media",
    "Retail",
    "Construction",
    "Pharma",
    "Robotics",
    "Textiles",
    "Mining",
    "Aviation",
    "Insurance",
    "Labs",
    "Motors",
    "Brewing",
    "Software",
    "Farms",
]

SEED = """
SET session_replication_role = replica;
INSERT INTO ar_accounts (account_id, external_id, name, segment, currency)
SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(a), 12, '0'))::uuid,
       'CUS-' || lpad(a::text, 6, '0'),
       ($3::text[])[1 + a % 20] || ' ' || ($4::text[])[1 + (a / 20) % 20] || ' '
           || ($6::text[])[1 + (a / 400) % 30] || ' ' || ($7::text[])[1 + (a / 12000) % 5],
       (ARRAY['smb', 'enterprise', 'public'])[1 + a % 3], 'USD'
FROM generate_series(1, $2::int) a;
INSERT INTO ar_account_contacts (account_id, position, name, email, phone, phone_digits)
SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(a), 12, '0'))::uuid, 0,
       'Contact ' || a, 'billing.' || a || '@customer' || (a % 97) || '.example',
       '+1 (555) ' || lpad((a % 1000)::text, 3, '0') || '-' || lpad((a / 1000)::text, 4, '0'),
       '1555' || lpad((a % 1000)::text, 3, '0') || lpad((a / 1000)::text, 4, '0')
FROM generate_series(1, $2::int) a;
INSERT INTO ar_invoices (invoice_id, account_id, external_id, currency, total_minor,
                         issue_date, due_date)
SELECT gen_random_uuid(),
       ('00000000-0000-7000-8000-' || lpad(to_hex(1 + i % $2::int), 12, '0'))::uuid,
       'INV-' || lpad(i::text, 7, '0'), 'USD', 1000 + (i::bigint * 7919) % 500000,
       current_date - 30 - (i % 400), current_date - (i % 400)
FROM generate_series(1, $1::int) i;
INSERT INTO cases (case_id, case_number, account_id, type, status, opened_at)
SELECT gen_random_uuid(), 'CASE-' || lpad(c::text, 6, '0'),
       ('00000000-0000-7000-8000-' || lpad(to_hex(1 + c % $2::int), 12, '0'))::uuid,
       'dispute', 'investigating', now() - make_interval(days => c % 300)
FROM generate_series(1, $5::int) c;
SET session_replication_role = DEFAULT;
SELECT search_index_all();
VACUUM ANALYZE
"""


def typo(word: str, rng: random.Random) -> str:
    """One letter dropped, doubled or swapped with its neighbour."""
    at = rng.randrange(1, len(word) - 1)
    return rng.choice(
        [
            word[:at] + word[at + 1 :],
            word[:at] + word[at] + word[at:],
            word[:at] + word[at + 1] + word[at] + word[at + 2 :],
        ]
    )


def queries(args: argparse.Namespace, rng: random.Random) -> dict[str, Callable[[], str]]:
    def name() -> str:
        return f"{typo(rng.choice(FIRST), rng)} {typo(rng.choice(SECOND), rng)[:6]}".lower()

    def phone() -> str:
        a = rng.randint(1, args.accounts)
        return f"555.{a % 1000:03d}.{a // 1000:04d}"

    return {
        "name fragment with a typo": lambda: typo(rng.choice(FIRST + SECOND), rng).lower(),
        "two name fragments, two typos": name,
        "invoice number": lambda: f"inv-{rng.randint(1, args.invoices):07d}",
        "email": lambda: f"billing.{(a := rng.randint(1, args.accounts))}@customer{a % 97}.example",
        "phone": phone,
        "case number (digits)": lambda: f"case {rng.randint(1, args.cases)}",
    }


async def measure(conn: asyncpg.Connection, args: argparse.Namespace) -> None:
    rng = random.Random(19)
    roles = ["supervisor"]
    for label, make in queries(args, rng).items():
        await search(conn, read_query(make()), roles, 20)  # warm, as a serving system is
        samples, hits = [], 0
        for _ in range(args.repeat):
            query = read_query(make())
            started = time.perf_counter()
            found = await search(conn, query, roles, 20)
            samples.append((time.perf_counter() - started) * 1000)
            hits += bool(found)
        p95 = sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]
        print(
            f"{label:<28} median {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms"
            f"   ({hits}/{args.repeat} found something)",
            flush=True,
        )


async def bench(server_url: str, args: argparse.Namespace) -> None:
    def words(listed: list[str]) -> str:
        return "ARRAY[" + ",".join(f"'{w}'" for w in listed) + "]"

    async with reporting_database(server_url, "bench_search") as conn:
        started = time.perf_counter()
        sizes = {
            "$1::int": str(int(args.invoices)),
            "$2::int": str(int(args.accounts)),
            "$5::int": str(int(args.cases)),
            "$3::text[]": words(FIRST),
            "$4::text[]": words(SECOND),
            "$6::text[]": words(CITY),
            "$7::text[]": words(FORM),
        }
        await run_script(conn, SEED, sizes)
        print(
            f"loaded {args.accounts:,} accounts, {args.invoices:,} invoices and "
            f"{args.cases:,} cases in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        await measure(conn, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    run_on_postgres(lambda url: bench(url, args), prefix="rx-bench-search-")


if __name__ == "__main__":
    main()
