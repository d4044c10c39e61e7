"""CSV cells a spreadsheet shows as data: formulas neutralised, typed numbers kept."""

import csv
import io
from decimal import Decimal

import pytest

from receivables_platform.spreadsheet import FormulaSafeWriter, formula_safe


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "+1",
        "-2+3",
        "@SUM(A1)",
        "\tcmd",
        "\rcmd",
        "-12.50",
        '=HYPERLINK("https://evil.example")',
    ],
)
def test_text_that_starts_like_a_formula_gets_a_quote(text: str) -> None:
    assert formula_safe(text) == "'" + text


@pytest.mark.parametrize("text", ["", "billing_error", "12.50", "a=b", " =1", "'quoted"])
def test_other_text_is_unchanged(text: str) -> None:
    assert formula_safe(text) == text


@pytest.mark.parametrize("number", [-1250, 0, 7, -12.5, 3.25, Decimal("-12.50")])
def test_typed_numbers_stay_numbers_even_when_negative(number: int | float | Decimal) -> None:
    assert formula_safe(number) is number


def test_none_is_an_empty_cell_and_non_finite_floats_are_text() -> None:
    assert formula_safe(None) == ""
    assert formula_safe(float("-inf")) == "'-inf"
    assert formula_safe(True) == "True"


def test_the_writer_neutralises_every_cell_and_still_quotes() -> None:
    out = io.StringIO()
    FormulaSafeWriter(out, lineterminator="\n").writerows(
        [["code", "amount"], ['=cmd|"/C calc"!A0', -1250], ["a,b", None]]
    )
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["code", "amount"],
        ['\'=cmd|"/C calc"!A0', "-1250"],
        ["a,b", ""],
    ]
