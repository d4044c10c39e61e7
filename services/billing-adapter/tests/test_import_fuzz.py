"""Bulk-import fuzz: hostile CSV and JSON Lines files uploaded to a running billing-adapter.

Hypothesis writes files of accounts, invoices or payments in which good rows
sit among bad ones (wrong types, huge, zero and negative amounts, unknown
currencies and accounts, impossible and far dates, NULs, bytes that are not
UTF-8, missing and extra cells or keys, a stray quote, truncated JSON, lines
that are not objects, conflicting duplicate external ids), with or without a
byte-order mark and with LF or CRLF endings. Each file goes through
`POST /v1/imports` over real HTTP into real PostgreSQL, and the job must
finish with every bad row reported by row number, field and reason while the
good rows are imported exactly once; uploading the file again changes nothing.
Derandomized and bounded, so CI replays the same files in about a minute.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st

from billing_adapter.spec import SPEC
from receivables_platform.business_dates import business_dates
from receivables_platform.contracts.billing import PaymentMethod
from receivables_platform.service import build_app
from receivables_platform.web.auth import issue_token
from receivables_platform.web.testserver import running_server

SECRET = "test-secret-for-billing-import-fuzz-0123456789"
TAG = "{tag}"  # each example's external ids are made unique by the test, not the strategy
FUZZ = settings(
    max_examples=180,
    deadline=timedelta(seconds=30),
    derandomize=True,
    database=None,
    print_blob=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
COLUMNS = {
    "accounts": (
        "external_id",
        "name",
        "currency",
        "payment_terms_days",
        "segment",
        "contact_email",
    ),
    "invoices": (
        "external_id",
        "account_external_id",
        "currency",
        "total_minor",
        "tax_minor",
        "issue_date",
        "due_date",
    ),
    "payments": (
        "external_id",
        "account_external_id",
        "amount_minor",
        "currency",
        "method",
        "reference",
        "received_on",
    ),
}
AMOUNT = {"invoices": "total_minor", "payments": "amount_minor", "accounts": "payment_terms_days"}
DATE = {"invoices": "issue_date", "payments": "received_on"}
WHOLE_ROW = ""
"""An expected error on the row as a whole (its shape), reported with no field."""


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, 'billing-system', ['integration'])}"}


@dataclass(frozen=True)
class Row:
    """One record as the file will say it, and the field it must be refused for (None: good)."""

    values: dict[str, Any]
    fault: str | None = None
    raw: bytes | None = None  # the record's own bytes when it is not a rendering of values


TEXT = st.text(
    st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from(',"\n\r;\\'),
    min_size=1,
    max_size=30,
).filter(str.strip)
TODAY = business_dates().today()
DAYS = st.dates(date(2000, 1, 1), TODAY)  # a later date is a fault: nothing is dated after today


def good_values(kind: str, index: int) -> st.SearchStrategy[dict[str, Any]]:
    external_id = f"{kind[0].upper()}{TAG}-{index}"
    if kind == "accounts":
        return st.fixed_dictionaries(
            {
                "external_id": st.just(external_id),
                "name": TEXT,
                "currency": st.sampled_from(["USD", "EUR", "JPY"]),
                "payment_terms_days": st.integers(0, 365),
            },
            optional={
                "segment": st.sampled_from(["smb", "enterprise"]),
                "contact_email": st.sampled_from(["ap@customer.test", "x.y@z.example"]),
            },
        )
    if kind == "invoices":
        return st.fixed_dictionaries(
            {
                "external_id": st.just(external_id),
                "account_external_id": st.just("CUS-USD"),
                "total_minor": st.integers(1, 10**12),
                "issue_date": DAYS,
            },
            optional={"currency": st.just("USD"), "tax_minor": st.just(0)},
        )
    return st.fixed_dictionaries(
        {
            "external_id": st.just(external_id),
            "account_external_id": st.just("CUS-USD"),
            "amount_minor": st.integers(1, 10**12),
            "currency": st.just("USD"),
            "method": st.sampled_from([m.value for m in PaymentMethod]),
            "received_on": DAYS,
        },
        optional={"reference": TEXT},
    )


def _set(field: str, value: Any) -> Callable[[dict[str, Any]], tuple[dict[str, Any], str]]:
    return lambda values: ({**values, field: value}, field)


def faults(kind: str) -> list[Callable[[dict[str, Any]], tuple[dict[str, Any], str]]]:
    """Ways to make a row bad, each naming the field the service must blame."""
    amount = AMOUNT[kind]
    common = [
        _set(amount, v)
        for v in ("-5", "abc", "1.5", "1e3", str(10**30), str(2**63), -1, 10**30, 2**63, "")
    ]
    common += [_set("external_id", "x" * 201), _set("currency", "ZZZ"), _set("currency", "usd")]
    if kind == "accounts":
        return [
            *common,
            _set("name", "a\x00b"),
            _set("name", "n" * 201),
            _set("payment_terms_days", 366),
            _set("contact_email", "not-an-email"),
            lambda v: ({k: x for k, x in v.items() if k != "name"}, "name"),
        ]
    dated = DATE[kind]
    specific = [
        _set(amount, 0),
        _set(dated, "2026-02-30"),
        _set(dated, "yesterday"),
        _set(dated, (TODAY + timedelta(days=1)).isoformat()),
        _set(dated, "2026-13-01"),
        _set("account_external_id", "CUS-NOBODY"),
        _set("account_external_id", "\x00"),
    ]
    if kind == "invoices":
        specific += [
            _set("tax_minor", -1),
            _set("due_date", "1999-12-31"),
            _set("issue_date", "9999-12-31"),
        ]
    else:
        specific += [_set("method", "bitcoin"), _set("reference", "r\x00f")]
    return [*common, *specific]


@st.composite
def rows_of(draw: st.DrawFn, kind: str) -> list[Row]:
    rows: list[Row] = []
    for index in range(draw(st.integers(0, 12))):
        values = draw(good_values(kind, index))
        choice = draw(st.sampled_from(("good", "good", "fault", "again", "conflict")))
        good = [r for r in rows if r.fault is None]
        if choice == "again" and good:
            rows.append(draw(st.sampled_from(good)))  # the same row twice: imported once
        elif choice == "conflict" and good and kind != "accounts":
            earlier = draw(st.sampled_from(good)).values
            rows.append(Row({**earlier, AMOUNT[kind]: earlier[AMOUNT[kind]] + 1}, "external_id"))
        elif choice == "fault":
            bad, field = draw(st.sampled_from(faults(kind)))(
                {**values, "external_id": f"B{TAG}-{index}"}
            )
            rows.append(Row(bad, field))
        else:
            rows.append(Row(values))
    return rows


def _cell(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def render_csv(kind: str, rows: list[Row], newline: str) -> bytes:
    out = io.StringIO()
    # minimal quoting quotes a cell's CR or LF only when the line ends with that character
    writer = csv.writer(
        out,
        lineterminator=newline,
        quoting=csv.QUOTE_MINIMAL if newline == "\r\n" else csv.QUOTE_ALL,
    )
    writer.writerow(COLUMNS[kind])
    for row in rows:
        if row.raw is not None:
            out.write(row.raw.decode("utf-8", "surrogateescape") + newline)
        else:
            writer.writerow([_cell(row.values.get(column, "")) for column in COLUMNS[kind]])
    return out.getvalue().encode("utf-8", "surrogateescape")


def _body(values: dict[str, Any]) -> dict[str, Any]:
    """A CSV row's values as a JSON Lines row: the contact column is a list of contacts."""
    body = {k: v for k, v in values.items() if k != "contact_email"}
    if "contact_email" in values:
        body["contacts"] = [{"email": values["contact_email"]}]
    return body


def render_jsonl(rows: list[Row], newline: str) -> bytes:
    lines = [
        row.raw if row.raw is not None else json.dumps(_body(row.values), default=_cell).encode()
        for row in rows
    ]
    return b"".join(line + newline.encode() for line in lines)


@st.composite
def shape_faults(draw: st.DrawFn, kind: str, fmt: str, rows: list[Row]) -> list[Row]:
    """Rows whose bytes, not values, are wrong: cells, keys, encodings, JSON itself."""
    for index in range(draw(st.integers(0, 3))):
        external_id = f"S{TAG}-{index}"
        if fmt == "csv":
            raw, field = draw(
                st.sampled_from(
                    [
                        (f"{external_id},too,few".encode(), WHOLE_ROW),
                        (f"{external_id},a,b,c,d,e,f,g,h".encode(), WHOLE_ROW),
                        (f"{external_id},\xff\xfe bad bytes".encode("latin-1"), WHOLE_ROW),
                    ]
                )
            )
        else:
            raw, field = draw(
                st.sampled_from(
                    [
                        (b'{"external_id": "' + external_id.encode() + b'", "na', WHOLE_ROW),
                        (b"[1, 2, 3]", WHOLE_ROW),
                        (b"42", WHOLE_ROW),
                        (b"null", WHOLE_ROW),
                        (b'"just a string"', WHOLE_ROW),
                        (b"\xff\xfe{}", WHOLE_ROW),
                        (
                            json.dumps({"external_id": external_id, "surplus": 1}).encode(),
                            "surplus",
                        ),
                    ]
                )
            )
        at = draw(st.integers(0, len(rows)))
        rows.insert(at, Row({"external_id": external_id}, field, raw))
    if fmt == "csv" and draw(st.booleans()):  # a stray quote swallows the rest of the file
        rows.append(Row({"external_id": "Q"}, WHOLE_ROW, f'Q{TAG},"unterminated'.encode()))
    return rows


@dataclass(frozen=True)
class ImportFile:
    kind: str
    fmt: str
    rows: list[Row]
    data: bytes

    def tagged(self, tag: str) -> ImportFile:
        return replace(self, data=self.data.replace(TAG.encode(), tag.encode()))


def rendered(
    kind: str, fmt: str, rows: list[Row], newline: str = "\n", bom: bool = False
) -> ImportFile:
    data = render_csv(kind, rows, newline) if fmt == "csv" else render_jsonl(rows, newline)
    return ImportFile(kind, fmt, rows, "\ufeff".encode() * bom + data)


@st.composite
def import_files(draw: st.DrawFn) -> ImportFile:
    kind = draw(st.sampled_from(sorted(COLUMNS)))
    fmt = draw(st.sampled_from(["csv", "jsonl"]))
    rows = draw(shape_faults(kind, fmt, draw(rows_of(kind))))
    file = rendered(kind, fmt, rows, draw(st.sampled_from(["\n", "\r\n"])), draw(st.booleans()))
    note(f"{kind} {fmt}:\n{file.data.decode('utf-8', 'backslashreplace')}")
    return file


GOOD_INVOICE = {
    "external_id": f"I{TAG}-1",
    "account_external_id": "CUS-USD",
    "total_minor": 1200,
    "issue_date": "2026-10-01",
}
GOOD_ACCOUNT = {
    "external_id": f"A{TAG}-1",
    "name": "Société",
    "currency": "EUR",
    "payment_terms_days": 30,
}
HANDMADE = [  # what the fuzz once found, tried first on every run
    ImportFile("accounts", "csv", [], ",".join(COLUMNS["accounts"]).encode()),
    rendered(
        "invoices",
        "csv",
        [
            Row(GOOD_INVOICE),
            Row(
                {**GOOD_INVOICE, "external_id": f"B{TAG}", "issue_date": "9999-12-31"}, "issue_date"
            ),
        ],
    ),
    rendered(
        "invoices",
        "jsonl",
        [
            Row({**GOOD_INVOICE, "total_minor": 10**30}, "total_minor"),
            Row({**GOOD_INVOICE, "external_id": f"J{TAG}"}),
        ],
    ),
    rendered(
        "accounts",
        "csv",
        [Row(GOOD_ACCOUNT), Row({}, "name", f"B{TAG},Soci\xe9t\xe9,EUR,30,,".encode("latin-1"))],
        "\r\n",
        bom=True,
    ),
    rendered(
        "accounts",
        "jsonl",
        [
            Row(GOOD_ACCOUNT),
            Row({}, "a\ufffdb", json.dumps({**GOOD_ACCOUNT, "a\x00b": 1}).encode()),
        ],
        bom=True,
    ),
]


def tried_first(*files: ImportFile) -> Callable[[Any], Any]:
    def decorate(test: Any) -> Any:
        for file in reversed(files):
            test = example(file=file)(test)
        return test

    return decorate


@pytest.fixture
async def billing(billing_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings_ = SPEC.settings(database_url=billing_url, jwt_secret=SECRET)
    async with (
        running_server(build_app(SPEC, settings_)) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        registered = await client.post(
            "/v1/accounts",
            headers={**auth(), "Idempotency-Key": "cus-usd"},
            json={
                "external_id": "CUS-USD",
                "name": "Acme",
                "currency": "USD",
                "payment_terms_days": 30,
            },
        )
        assert registered.status_code == 201, registered.text
        yield client


async def upload(client: httpx.AsyncClient, file: ImportFile) -> httpx.Response:
    return await client.post(
        "/v1/imports",
        params={"kind": file.kind, "format": file.fmt},
        content=file.data,
        headers=auth(),
    )


async def run_import(client: httpx.AsyncClient, file: ImportFile) -> dict[str, Any]:
    accepted = await upload(client, file)
    assert accepted.status_code == 202, accepted.text
    async with asyncio.timeout(30):
        while True:
            job = (
                await client.get(
                    accepted.headers["Location"], headers=auth(), params={"errors_limit": 1000}
                )
            ).json()
            if job["state"] not in ("queued", "running"):
                return job
            await asyncio.sleep(0.05)


def expected_counts(rows: list[Row]) -> tuple[int, int, int]:
    """Imported, unchanged and rejected on the first upload."""
    seen: set[str] = set()
    imported = unchanged = 0
    for row in rows:
        if row.fault is None:
            first = row.values["external_id"] not in seen
            imported, unchanged = imported + first, unchanged + (not first)
            seen.add(row.values["external_id"])
    return imported, unchanged, sum(row.fault is not None for row in rows)


def check_rejections(job: dict[str, Any], file: ImportFile) -> None:
    blamed: dict[int, set[str | None]] = {}
    for error in job["errors"]:
        assert error["reason"], error
        blamed.setdefault(error["row"], set()).add(error["field"])
    for number, row in enumerate(file.rows, start=1):
        if row.fault is None:
            assert number not in blamed, f"good row {number} refused: {blamed[number]}"
        else:
            expected = row.fault or None
            if file.fmt == "jsonl" and expected == "contact_email":
                expected = "contacts.0.email"
            assert expected in blamed.get(number, set()), (
                f"row {number} should be refused for {expected}, got {blamed.get(number)}"
            )


async def event_count(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM events"))
    finally:
        await conn.close()


@pytest.mark.timeout(240)
@FUZZ
@given(file=import_files())
@tried_first(*HANDMADE)
async def test_hostile_files_import_their_good_rows_once_and_report_every_bad_one(
    billing: httpx.AsyncClient, billing_url: str, file: ImportFile
):
    await check_import(billing, billing_url, file.tagged(uuid4().hex[:12]))


async def check_import(billing: httpx.AsyncClient, billing_url: str, file: ImportFile) -> None:
    if not file.data:
        refused = await upload(billing, file)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["errors"][0]["field"] == "body"
        return
    job = await run_import(billing, file)
    note(f"first: {job}")
    assert (job["state"], job["failure"]) == ("succeeded", None)
    imported, unchanged, rejected = expected_counts(file.rows)
    assert (job["rows_read"], job["imported"], job["unchanged"], job["rejected"]) == (
        len(file.rows),
        imported,
        unchanged,
        rejected,
    )
    check_rejections(job, file)

    events = await event_count(billing_url)
    again = await run_import(billing, file)
    note(f"again: {again}")
    assert (again["state"], again["imported"], again["updated"], again["rejected"]) == (
        "succeeded",
        0,
        0,
        rejected,
    )
    assert again["unchanged"] == imported + unchanged
    assert await event_count(billing_url) == events, "importing the same file again wrote"
