"""Reading a bulk import file one row at a time: CSV or JSON Lines, validated like the REST API.

A file is another door into the same use cases, so it lives beside the HTTP
routes: its rows are request bodies, and each leaves here as the service
layer's `SourceRow`, the create command ready to build (`incoming`).

Rows are validated by the very request models the REST API uses (plus an
account reference by the billing system's id, since an export names customers
that way), so a row is refused for exactly what a request would be. Nothing
holds more than one row: a file of any size streams through in constant memory.

CSV is flat: an invoice is a total (and tax), which the domain makes one line;
an account has at most one contact (`contact_name`, `contact_email`,
`contact_phone`). Lines, instalments and several contacts need JSON Lines, whose
rows are the REST bodies as they are. Empty CSV cells are absent values.

A file is read as UTF-8 with or without a byte-order mark (`open_import`);
bytes that are not UTF-8 refuse only the row they are in, naming its column
in CSV, so one bad byte in a million-row export does not stop the import.
"""

from __future__ import annotations

import csv
from collections.abc import Generator, Iterable, Iterator
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import IO, Self
from uuid import UUID

from pydantic import BaseModel, ValidationError, model_validator

from billing_adapter.api.accounts import register_command
from billing_adapter.api.invoices import issue_command
from billing_adapter.api.models import (
    ContactIn,
    ExternalId,
    IssueInvoiceRequest,
    RecordPaymentRequest,
    RegisterAccountRequest,
)
from billing_adapter.domain.commands import RecordPayment
from billing_adapter.service_layer.bulk_import import (
    FileRefused,
    Incoming,
    Kind,
    Rejection,
    SourceRow,
)
from receivables_platform.text import storable, undecodable

ENCODING, DECODE_ERRORS = "utf-8-sig", "surrogateescape"
"""How an import file is read: a BOM is dropped, bytes that are not UTF-8 are kept for the
row they are in to be refused (see `open_import`)."""


class Format(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class _OfAccount(BaseModel):
    """The account by our id, or (what exports carry) by the billing system's customer id."""

    account_id: UUID | None = None
    account_external_id: ExternalId | None = None

    @model_validator(mode="after")
    def _one_account_reference(self) -> Self:
        if (self.account_id is None) == (self.account_external_id is None):
            raise ValueError("give exactly one of account_id and account_external_id")
        return self


class AccountRow(RegisterAccountRequest):
    pass


class InvoiceRow(_OfAccount, IssueInvoiceRequest):
    account_id: UUID | None = None  # type: ignore[assignment]


class PaymentRow(_OfAccount, RecordPaymentRequest):
    account_id: UUID | None = None  # type: ignore[assignment]


Row = AccountRow | InvoiceRow | PaymentRow
MODELS: dict[Kind, type[AccountRow] | type[InvoiceRow] | type[PaymentRow]] = {
    Kind.ACCOUNTS: AccountRow,
    Kind.INVOICES: InvoiceRow,
    Kind.PAYMENTS: PaymentRow,
}
_CONTACT_COLUMNS = {"contact_name": "name", "contact_email": "email", "contact_phone": "phone"}
_NESTED = {"contacts", "lines", "instalments"}


def open_import(path: Path) -> IO[str]:
    return path.open(encoding=ENCODING, errors=DECODE_ERRORS, newline="")


def read_file(kind: Kind, fmt: Format, path: Path) -> Generator[SourceRow]:
    """The rows of the file at `path`, opened on the first row asked for and closed after the
    last: an import job reads its upload only once the job runs."""
    with open_import(path) as text:
        yield from read_rows(kind, fmt, text)


def _field(loc: tuple[int | str, ...]) -> str | None:
    """The dotted field; an unknown key is the file's own text, so made storable."""
    return storable(".".join(str(part) for part in loc)) or None


def _not_utf8(number: int, line: int, field: str | None, text: str) -> SourceRow | None:
    bad = undecodable(text)
    if bad is None:
        return None
    return SourceRow(
        number,
        line,
        None,
        (Rejection(number, line, field, f"not UTF-8: the byte {bad.hex()} is not valid here"),),
    )


def validation_errors(
    number: int, line: int, error: ValidationError, rename: dict[str, str] | None = None
) -> tuple[Rejection, ...]:
    errors = []
    for e in error.errors(include_url=False):
        where = _field(e["loc"])
        errors.append(Rejection(number, line, (rename or {}).get(where or "", where), e["msg"]))
    return tuple(errors)


def csv_columns(kind: Kind, header: list[str]) -> list[str]:
    """The header, checked once: an unknown or nested column refuses the file, not each row."""
    allowed = set(MODELS[kind].model_fields) - _NESTED
    if kind is Kind.ACCOUNTS:
        allowed |= set(_CONTACT_COLUMNS)
    columns = [storable(c.strip()) for c in header]
    unknown = [c for c in columns if c not in allowed]
    if unknown:
        raise FileRefused(
            f"unknown column {unknown[0]!r}; {kind} take {sorted(allowed)} "
            "(lines, instalments and contacts need JSON Lines)",
            field=unknown[0],
        )
    duplicated = {c for c in columns if columns.count(c) > 1}
    if duplicated:
        raise FileRefused(
            f"column {sorted(duplicated)[0]!r} appears twice", field=sorted(duplicated)[0]
        )
    return columns


def _csv_row(kind: Kind, number: int, line: int, cells: dict[str, str]) -> SourceRow:
    values = {k: v for k, v in cells.items() if v != ""}
    contact = {_CONTACT_COLUMNS[k]: values.pop(k) for k in list(values) if k in _CONTACT_COLUMNS}
    errors: tuple[Rejection, ...] = ()
    try:
        row = MODELS[kind].model_validate_strings(values)
    except ValidationError as error:
        errors = validation_errors(number, line, error)
    if contact:
        try:
            contacts = [ContactIn.model_validate_strings(contact)]
        except ValidationError as error:
            column = {v: k for k, v in _CONTACT_COLUMNS.items()}
            errors += validation_errors(number, line, error, column)
    if errors:
        return SourceRow(number, line, None, errors)
    if contact:
        row.contacts = contacts  # type: ignore[union-attr]
    return SourceRow(number, line, incoming(number, line, row))


def read_csv(kind: Kind, text: IO[str]) -> Iterator[SourceRow]:
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        return
    columns = csv_columns(kind, header)
    number = 0
    for cells in reader:
        line = reader.line_num
        if not any(cells):
            continue
        number += 1
        if len(cells) != len(columns):
            yield SourceRow(
                number,
                line,
                None,
                (
                    Rejection(
                        number,
                        line,
                        None,
                        f"{len(cells)} cells where the header has {len(columns)}",
                    ),
                ),
            )
            continue
        if undecodable("".join(cells)) is None:  # one look per row; the column only when bad
            yield _csv_row(kind, number, line, dict(zip(columns, cells, strict=True)))
        else:
            yield next(
                bad
                for column, cell in zip(columns, cells, strict=True)
                if (bad := _not_utf8(number, line, column, cell))
            )


def read_jsonl(kind: Kind, text: Iterable[str]) -> Iterator[SourceRow]:
    model = MODELS[kind]
    number = 0
    for line, raw in enumerate(text, start=1):
        if not raw.strip():
            continue
        number += 1
        if bad := _not_utf8(number, line, None, raw):
            yield bad
            continue
        try:
            row = model.model_validate_json(raw)
        except ValidationError as error:
            yield SourceRow(number, line, None, validation_errors(number, line, error))
        else:
            yield SourceRow(number, line, incoming(number, line, row))


def read_rows(kind: Kind, fmt: Format, text: IO[str]) -> Iterator[SourceRow]:
    """Rows of `text` (opened by `open_import`) in file order; CSV errors are `FileRefused`."""
    rows = read_csv(kind, text) if fmt is Format.CSV else read_jsonl(kind, text)
    try:
        yield from rows
    except csv.Error as exc:
        raise FileRefused(f"malformed CSV: {exc}") from exc


def incoming(number: int, line: int, row: Row) -> Incoming:
    """A valid row as the use case takes it: ids are given once the batch knows them."""
    if isinstance(row, AccountRow):
        command = register_command(row)
        return Incoming(
            number,
            line,
            row.external_id,
            None,
            lambda entity, _: replace(command, account_id=entity),
        )
    account = row.account_id or row.account_external_id
    if isinstance(row, InvoiceRow):
        return Incoming(
            number,
            line,
            row.external_id,
            account,
            lambda entity, owner: issue_command(row, invoice_id=entity, account_id=owner),
        )
    fields = row.model_dump(exclude={"account_id", "account_external_id"})
    return Incoming(
        number,
        line,
        row.external_id,
        account,
        lambda entity, owner: RecordPayment(payment_id=entity, account_id=owner, **fields),
    )
