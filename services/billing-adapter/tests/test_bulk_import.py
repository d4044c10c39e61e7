"""Bulk import from files over real PostgreSQL: per-row errors, partial import, re-import."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from billing_adapter.api.import_files import Format, open_import, read_rows
from billing_adapter.service_layer.accounts import get_account
from billing_adapter.service_layer.bulk_import import (
    BatchResult,
    FileRefused,
    Kind,
    Rejection,
    Tally,
)
from billing_adapter.service_layer.import_file import import_file
from receivables_platform.db.pool import create_pool

ACCOUNTS_CSV = """external_id,name,currency,payment_terms_days,segment,contact_name,contact_email
CUS-1,Acme Corp,USD,30,smb,Ann,ann@acme.test
CUS-2,Globex,EUR,45,,,
CUS-3,Initech,usd,30,,,
CUS-4,Hooli,USD,thirty,,Bob,not-an-email
"""

INVOICES_CSV = """external_id,account_external_id,total_minor,tax_minor,issue_date,due_date
INV-1,CUS-1,11000,1000,2026-10-01,
INV-2,CUS-1,5000,,2026-10-05,2026-10-20
INV-3,CUS-2,7000,,2026-10-01,2026-09-01
INV-4,CUS-9,100,,2026-10-01,
INV-5,CUS-2,-5,,2026-10-01,
INV-6,CUS-2,500,600,2026-10-01,
INV-7,CUS-2,900,,2026-10-01,
INV-1,CUS-1,11000,1000,2026-10-01,
INV-2,CUS-1,5001,,2026-10-05,2026-10-20
"""


@pytest.fixture
async def pool(billing_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(billing_url, max_size=4)
    yield pool
    await pool.close()


async def run(
    pool: asyncpg.Pool, kind: Kind, fmt: Format, path: Path, batch_size: int = 3
) -> tuple[Tally, list[Rejection]]:
    rejections: list[Rejection] = []

    async def collect(result: BatchResult) -> None:
        rejections.extend(result.rejections)

    with open_import(path) as text:
        tally = await import_file(
            pool, kind, read_rows(kind, fmt, text), on_batch=collect, batch_size=batch_size
        )
    return tally, rejections


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def where(rejections: list[Rejection]) -> set[tuple[int, str | None]]:
    return {(r.row, r.field) for r in rejections}


async def event_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events"))


async def account_id(pool: asyncpg.Pool, external_id: str) -> Any:
    return await pool.fetchval(
        "SELECT internal_id FROM external_ids WHERE kind = 'account' AND external_id = $1",
        external_id,
    )


async def imported_accounts(pool: asyncpg.Pool, tmp_path: Path) -> None:
    tally, rejections = await run(
        pool, Kind.ACCOUNTS, Format.CSV, write(tmp_path, "accounts.csv", ACCOUNTS_CSV)
    )
    assert (tally.read, tally.imported, tally.rejected) == (4, 2, 2)
    assert where(rejections) == {(3, "currency"), (4, "payment_terms_days"), (4, "contact_email")}


async def test_accounts_import_with_per_row_errors_and_one_contact(pool, tmp_path):
    await imported_accounts(pool, tmp_path)
    async with pool.acquire() as conn:
        acme = (await get_account(conn, await account_id(pool, "CUS-1"))).state
        globex = (await get_account(conn, await account_id(pool, "CUS-2"))).state
    assert (acme.name, acme.currency, acme.payment_terms_days, acme.segment) == (
        "Acme Corp",
        "USD",
        30,
        "smb",
    )
    assert [(c.name, c.email) for c in acme.contacts] == [("Ann", "ann@acme.test")]
    assert (globex.currency, globex.contacts, globex.segment) == ("EUR", (), None)
    assert await account_id(pool, "CUS-3") is None and await account_id(pool, "CUS-4") is None


async def test_invoices_good_rows_import_bad_rows_are_reported_by_row_and_field(pool, tmp_path):
    await imported_accounts(pool, tmp_path)
    before = await event_count(pool)
    tally, rejections = await run(
        pool, Kind.INVOICES, Format.CSV, write(tmp_path, "invoices.csv", INVOICES_CSV)
    )
    assert where(rejections) == {
        (3, "due_date"),  # due before issue: the domain's rule
        (4, "account_external_id"),  # no such customer
        (5, "total_minor"),  # negative: the request model's rule
        (6, "tax_minor"),  # tax above the total
        (9, "external_id"),  # INV-2 again with another total: a conflict
    }
    reasons = {r.row: r.reason for r in rejections}
    assert "CUS-9" in reasons[4] and "before the issue date" in reasons[3]
    assert all(r.line == r.row + 1 for r in rejections)  # the header is line 1
    assert (tally.read, tally.imported, tally.unchanged, tally.rejected) == (9, 3, 1, 5)
    assert await event_count(pool) == before + 3
    async with pool.acquire() as conn:
        acme = (await get_account(conn, await account_id(pool, "CUS-1"))).state
        globex = (await get_account(conn, await account_id(pool, "CUS-2"))).state
    assert sorted(
        (i.external_id, i.total_minor, i.tax_minor, str(i.due_date)) for i in acme.invoices.values()
    ) == [
        ("INV-1", 11000, 1000, "2026-10-31"),  # due from Net 30
        ("INV-2", 5000, 0, "2026-10-20"),
    ]
    assert [(i.external_id, i.currency, str(i.due_date)) for i in globex.invoices.values()] == [
        ("INV-7", "EUR", "2026-11-15")
    ]  # Net 45, the account's currency
    assert acme.open_balances() == {"USD": 16000}
    entities = await pool.fetchval("SELECT count(*) FROM account_entities WHERE kind='invoice'")
    assert entities == 3


async def test_importing_the_same_file_again_changes_nothing(pool, tmp_path):
    await imported_accounts(pool, tmp_path)
    path = write(tmp_path, "invoices.csv", INVOICES_CSV)
    _, first_rejections = await run(pool, Kind.INVOICES, Format.CSV, path)
    events = await event_count(pool)
    again, again_rejections = await run(pool, Kind.INVOICES, Format.CSV, path, batch_size=100)
    assert await event_count(pool) == events
    assert (again.read, again.imported, again.unchanged, again.rejected) == (9, 0, 4, 5)
    assert where(again_rejections) == where(first_rejections)
    accounts_again, _ = await run(pool, Kind.ACCOUNTS, Format.CSV, tmp_path / "accounts.csv")
    assert (accounts_again.imported, accounts_again.updated, accounts_again.unchanged) == (0, 0, 2)
    assert await event_count(pool) == events


async def test_a_changed_account_row_updates_only_what_differs(pool, tmp_path):
    await imported_accounts(pool, tmp_path)
    changed = ACCOUNTS_CSV.replace("Acme Corp,USD,30", "Acme Inc,USD,30").replace(
        "Globex,EUR,45", "Globex,USD,45"
    )
    tally, rejections = await run(
        pool, Kind.ACCOUNTS, Format.CSV, write(tmp_path, "changed.csv", changed)
    )
    assert (tally.updated, tally.unchanged) == (1, 0)
    assert (2, "external_id") in where(rejections)  # the currency of an account never changes
    async with pool.acquire() as conn:
        acme = await get_account(conn, await account_id(pool, "CUS-1"), history=True)
    assert (acme.state.name, acme.version, acme.history[-1].type) == (
        "Acme Inc",
        2,
        "billing.account.updated",
    )


async def test_json_lines_carry_lines_instalments_and_report_bad_json(pool, tmp_path):
    await imported_accounts(pool, tmp_path)
    good = {
        "external_id": "INV-J1",
        "account_external_id": "CUS-1",
        "total_minor": 11000,
        "tax_minor": 1000,
        "issue_date": "2026-10-01",
        "lines": [{"description": "Seats", "quantity": 4, "unit_price_minor": 2500}],
        "instalments": [
            {"due_date": "2026-10-15", "amount_minor": 5500},
            {"due_date": "2026-11-15", "amount_minor": 5500},
        ],
    }
    rows = [
        good,
        {**good, "external_id": "INV-J2", "total_minor": 12000},  # lines do not add up
        {**good, "external_id": "INV-J3", "total_minor": "11000"},  # a string, not a number
        {
            **good,
            "external_id": "INV-J4",
            "lines": [{"description": "x", "quantity": 0, "unit_price_minor": 1}],
        },
        {**good, "external_id": "INV-J5", "colour": "red"},
    ]
    text = (
        "\n".join(json.dumps(r) for r in rows[:2])
        + "\n{not json\n\n"
        + "\n".join(json.dumps(r) for r in rows[2:])
        + "\n"
    )
    tally, rejections = await run(
        pool, Kind.INVOICES, Format.JSONL, write(tmp_path, "invoices.jsonl", text)
    )
    assert where(rejections) == {
        (2, "total_minor"),
        (3, None),
        (4, "total_minor"),
        (5, "lines.0.quantity"),
        (6, "colour"),
    }
    assert [r.line for r in sorted(rejections, key=lambda r: r.row)] == [2, 3, 5, 6, 7]
    assert (tally.read, tally.imported, tally.rejected) == (6, 1, 5)
    async with pool.acquire() as conn:
        acme = (await get_account(conn, await account_id(pool, "CUS-1"))).state
    (invoice,) = acme.invoices.values()
    assert [(due.isoformat(), amount) for due, amount in invoice.instalments] == [
        ("2026-10-15", 5500),
        ("2026-11-15", 5500),
    ]
    assert invoice.lines[0][0] == "Seats"  # description


async def test_payments_import_by_account_external_id_or_our_id(pool, tmp_path):
    await imported_accounts(pool, tmp_path)
    acme = await account_id(pool, "CUS-1")
    text = (
        "external_id,account_external_id,account_id,amount_minor,currency,method,"
        "reference,received_on\n"
        "PAY-1,CUS-1,,15000,USD,ach,TRACE-1,2026-11-02\n"
        f"PAY-2,,{acme},2500,USD,card,,2026-11-03\n"
        "PAY-3,CUS-1,,2500,USD,barter,,2026-11-03\n"
        f"PAY-4,CUS-1,{acme},2500,USD,card,,2026-11-03\n"
        "PAY-1,CUS-1,,15000,USD,ach,TRACE-1,2026-11-02\n"
    )
    path = write(tmp_path, "payments.csv", text)
    tally, rejections = await run(pool, Kind.PAYMENTS, Format.CSV, path)
    assert where(rejections) == {(3, "method"), (4, None)}
    assert "exactly one of account_id and account_external_id" in next(
        r.reason for r in rejections if r.row == 4
    )
    assert (tally.imported, tally.unchanged, tally.rejected) == (2, 1, 2)
    async with pool.acquire() as conn:
        state = (await get_account(conn, acme)).state
    assert state.credits() == {"USD": 17500}
    again, _ = await run(pool, Kind.PAYMENTS, Format.CSV, path)
    assert (again.imported, again.unchanged) == (0, 3)


async def test_rows_dated_outside_the_business_dates_are_refused_naming_the_column(pool, tmp_path):
    """An export's placeholder dates (.NET's 0001-01-01, 9999-12-31, a bare 0) refuse their
    row only; in range, the same rows import."""
    await imported_accounts(pool, tmp_path)
    before = await event_count(pool)
    csv_text = (
        "external_id,account_external_id,amount_minor,currency,method,reference,"
        "received_on\n"
        "PAY-D1,CUS-1,100,USD,ach,,0001-01-01\n"
        "PAY-D2,CUS-1,100,USD,ach,,9999-12-31\n"
        "PAY-D3,CUS-1,100,USD,ach,,0\n"
        "PAY-D4,CUS-1,100,USD,ach,,2026-11-02\n"
    )
    tally, rejections = await run(
        pool, Kind.PAYMENTS, Format.CSV, write(tmp_path, "dates.csv", csv_text)
    )
    assert where(rejections) == {(1, "received_on"), (2, "received_on"), (3, "received_on")}
    assert "outside the business dates" in next(r.reason for r in rejections if r.row == 1)
    assert (tally.imported, tally.rejected) == (1, 3)
    good = {
        "external_id": "INV-D1",
        "account_external_id": "CUS-1",
        "total_minor": 100,
        "issue_date": "2026-10-01",
    }
    rows = [
        {**good, "issue_date": "0001-01-01"},
        {**good, "due_date": "9999-12-31"},
        {**good, "issue_date": 0},
        {**good, "instalments": [{"due_date": "2100-01-01", "amount_minor": 100}]},
    ]
    tally, rejections = await run(
        pool,
        Kind.INVOICES,
        Format.JSONL,
        write(tmp_path, "dates.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n"),
    )
    assert where(rejections) == {
        (1, "issue_date"),
        (2, "due_date"),
        (3, "issue_date"),
        (4, "instalments.0.due_date"),
    }
    assert tally.imported == 0
    assert await event_count(pool) == before + 1


async def test_a_file_with_an_unknown_column_is_refused_before_any_row(pool, tmp_path):
    path = write(
        tmp_path,
        "bad.csv",
        "external_id,name,currency,payment_terms_days,vat\nCUS-1,Acme,USD,30,x\n",
    )
    with pytest.raises(FileRefused) as refused:
        await run(pool, Kind.ACCOUNTS, Format.CSV, path)
    assert refused.value.field == "vat"
    assert await event_count(pool) == 0


def invoice_rows(count: int, bad: dict[int, str] | None = None) -> str:
    """`count` good invoice rows of CUS-1 (row n is INV-n), with row n replaced by `bad[n]`."""
    rows = [
        (bad or {}).get(n, f"INV-{n},CUS-1,{100 + n},,2026-10-01,") for n in range(1, count + 1)
    ]
    return INVOICES_CSV.splitlines()[0] + "\n" + "\n".join(rows) + "\n"


def readers_left() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "import-reader" and not t.done()]


async def invoice_count(pool: asyncpg.Pool) -> int:
    return int(
        await pool.fetchval("SELECT count(*) FROM events WHERE type = 'billing.invoice.issued'")
    )


async def test_rows_that_fail_late_are_reported_by_number_and_the_rest_import(pool, tmp_path):
    """Rows are read batches ahead of the one being decided: a row refused while read and
    one refused when decided, both near the end, still come back with their numbers."""
    await imported_accounts(pool, tmp_path)
    path = write(
        tmp_path,
        "invoices.csv",
        invoice_rows(30, {26: "INV-26,CUS-1,-1,,2026-10-01,", 29: "INV-29,CUS-9,100,,2026-10-01,"}),
    )
    tally, rejections = await run(pool, Kind.INVOICES, Format.CSV, path)
    assert where(rejections) == {(26, "total_minor"), (29, "account_external_id")}
    assert (tally.read, tally.imported, tally.rejected) == (30, 28, 2)
    assert await invoice_count(pool) == 28


async def test_a_file_malformed_part_way_stops_after_the_batches_read_before_it(pool, tmp_path):
    """The reader's error reaches the importer in file order: the whole batches before the
    bad row are imported (importing the file again resumes), nothing after it, no task left."""
    await imported_accounts(pool, tmp_path)
    too_long = "x" * (csv.field_size_limit() + 1)
    path = write(tmp_path, "invoices.csv", invoice_rows(30, {20: f"INV-20,{too_long},1,,,"}))
    with pytest.raises(FileRefused, match="malformed CSV"):
        await run(pool, Kind.INVOICES, Format.CSV, path)
    assert await invoice_count(pool) == 18  # six batches of three
    assert readers_left() == []


async def test_a_database_error_part_way_stops_the_reader_too(pool, tmp_path):
    await imported_accounts(pool, tmp_path)
    await pool.execute("""
        CREATE FUNCTION refuse_inv_10() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the disk is full'; END $$;
        CREATE TRIGGER refuse_inv_10 BEFORE INSERT ON external_ids FOR EACH ROW
        WHEN (NEW.external_id = 'INV-10') EXECUTE FUNCTION refuse_inv_10()""")
    with pytest.raises(asyncpg.RaiseError, match="the disk is full"):
        await run(pool, Kind.INVOICES, Format.CSV, write(tmp_path, "i.csv", invoice_rows(30)))
    assert await invoice_count(pool) == 9  # the batch holding INV-10 rolled back
    assert readers_left() == []


async def test_a_row_whose_event_the_broker_would_not_take_is_rejected_alone(
    pool, tmp_path, monkeypatch
):
    """Its batch's other rows import; before, the whole batch failed with the append."""
    from receivables_platform.store import event_limits

    await imported_accounts(pool, tmp_path)
    lines = [
        {"description": "Seat licence " + "x" * 480, "quantity": 1, "unit_price_minor": 100}
        for _ in range(100)
    ]
    small = {
        "external_id": "INV-S1",
        "account_external_id": "CUS-1",
        "total_minor": 100,
        "issue_date": "2026-10-01",
    }
    rows = [
        small,
        {**small, "external_id": "INV-L1", "total_minor": 10000, "lines": lines},
        {**small, "external_id": "INV-S2"},
    ]
    path = write(tmp_path, "invoices.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    monkeypatch.setenv("EVENT_MAX_BYTES", "20000")
    event_limits.cache_clear()
    try:
        before = await event_count(pool)
        tally, rejections = await run(pool, Kind.INVOICES, Format.JSONL, path)
    finally:
        monkeypatch.undo()
        event_limits.cache_clear()
    assert (tally.read, tally.imported, tally.rejected) == (3, 2, 1)
    [rejected] = rejections
    assert (rejected.row, rejected.field) == (2, "lines")
    assert "20000-byte limit" in rejected.reason
    assert await event_count(pool) == before + 2
