"""KPI formulas against values computed by hand from docs/architecture.md#metrics."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting_service.domain.kpis import (
    MAX_PERIOD_DAYS,
    ArFigures,
    InvalidPeriod,
    Period,
    PeriodOutOfRange,
    PromiseFigures,
    ar_kpis,
    as_number,
    autopay_conversion,
    autopay_penetration,
    cadence_completion,
    cei,
    dso,
    mean,
    median,
    parse_period,
    promise_kept_rate_by_amount,
    promise_kept_rate_by_count,
    within,
)


def test_dso_best_possible_dso_add_and_cei_for_a_month():
    # November: opened with 50,000.00 owed, sold 120,000.00 on credit, closed with 80,000.00
    # owed of which 60,000.00 not yet due. 30 days.
    figures = ArFigures(
        opening_ar=5_000_000,
        credit_sales=12_000_000,
        closing_ar=8_000_000,
        closing_current_ar=6_000_000,
    )
    kpis = ar_kpis(figures, 30)
    assert kpis.dso == 20  # 80,000 / 120,000 x 30
    assert kpis.best_possible_dso == 15  # 60,000 / 120,000 x 30
    assert kpis.add == 5
    # (50,000 + 120,000 - 80,000) / (50,000 + 120,000 - 60,000) x 100 = 90,000 / 110,000 x 100
    assert kpis.cei == Fraction(900, 11)
    assert as_number(kpis.cei) == 81.82


def test_no_credit_sales_means_no_dso_rather_than_a_division_by_zero():
    assert dso(1_000, 0, 30) is None
    kpis = ar_kpis(ArFigures(0, 0, 0, 0), 7)
    assert (kpis.dso, kpis.best_possible_dso, kpis.add, kpis.cei) == (None, None, None, None)


def test_cei_is_100_when_everything_due_was_collected():
    # opening 1,000 + sales 500 - closing 300, all of the closing AR current
    assert cei(1_000, 500, 300, 300) == 100


def test_promise_kept_rate_by_count_and_by_amount():
    # 3 kept (paid in full: 100 + 200 + 300), 1 partly kept (400 promised, 100 paid),
    # 1 broken (500 promised, 0 paid)
    figures = PromiseFigures(
        kept=3,
        partially_kept=1,
        broken=1,
        promised_minor=100 + 200 + 300 + 400 + 500,
        paid_minor=100 + 200 + 300 + 100,
    )
    assert promise_kept_rate_by_count(figures) == Fraction(3, 5)
    assert promise_kept_rate_by_amount(figures) == Fraction(700, 1500)
    assert promise_kept_rate_by_count(PromiseFigures(0, 0, 0, 0, 0)) is None


def test_cadence_completion_and_auto_pay_rates():
    assert cadence_completion(completed=7, due=10) == Fraction(7, 10)
    assert cadence_completion(0, 0) is None
    assert autopay_conversion(enrolled_in_period=3, not_on_autopay_at_start=40) == Fraction(3, 40)
    assert autopay_penetration(on_autopay_at_end=13, accounts_at_end=52) == Fraction(1, 4)


def test_mean_and_median_time_to_resolution():
    days = [Fraction(2), Fraction(3), Fraction(10), Fraction(1, 2)]
    assert mean(days) == Fraction(31, 8)
    assert median(days) == Fraction(5, 2)
    assert mean([]) is None and median([]) is None


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-W47", date(2026, 11, 16), date(2026, 11, 22)),
        ("2026-W01", date(2025, 12, 29), date(2026, 1, 4)),
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026-11-20", date(2026, 11, 20), date(2026, 11, 20)),
    ],
)
def test_periods(text: str, start: date, end: date):
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)


def test_the_previous_period_has_the_same_length_and_ends_the_day_before():
    week = parse_period("2026-W47")
    assert week.previous() == parse_period("2026-W46")
    assert week.days == 7


@pytest.mark.parametrize(
    "text",
    [
        "2026-W54",
        "2026-13",
        "last week",
        "2026-11-31",
        # issue 16: these raised OverflowError or ValueError (a 500), or read a non-ISO shape
        "9999-W52",
        "9999-12",
        "0000-01",
        "0000-W01",
        "2025-W53",
        "20261120",
        "2026-W47-1",
        "2026-11\n",
        "\u0662\u0660\u0662\u0666-11",
        "-2026-11",
        "99999-01",
    ],
)
def test_bad_periods_are_refused(text: str):
    with pytest.raises(InvalidPeriod):
        parse_period(text)


EDGE_YEARS = st.sampled_from([0, 1, 1989, 1990, 2025, 2026, 2099, 2100, 9998, 9999])
PERIOD_TEXT = (
    st.builds(
        "{:04d}{}".format,
        EDGE_YEARS | st.integers(0, 9999),
        st.sampled_from(["-W01", "-W52", "-W53", "-01", "-12", "-01-01", "-12-31", "-02-29"]),
    )
    | st.from_regex(r"-?[0-9]{1,5}(-W?[0-9]{1,3}){0,2}", fullmatch=True)
    | st.text(max_size=12)
)


@settings(max_examples=500)
@given(PERIOD_TEXT)
def test_any_period_text_is_a_period_or_refused_as_one(text: str):
    try:
        period = parse_period(text)
    except InvalidPeriod:
        return
    assert period.start <= period.end and period.days <= 31


@pytest.mark.parametrize(
    ("text", "inside"),
    [
        ("0001-W01", False),
        ("0001-01-01", False),
        ("1989-12", False),
        ("2100-01", False),
        ("2099-W53", False),  # Monday 28 December 2099 to Sunday 3 January 2100
        ("1990-01", True),
        ("2099-12", True),
        ("2099-12-31", True),
    ],
)
def test_a_period_within_the_business_dates(text: str, inside: bool):
    earliest, latest = date(1990, 1, 1), date(2099, 12, 31)
    if inside:
        assert within(parse_period(text), earliest, latest) == parse_period(text)
    else:
        with pytest.raises(PeriodOutOfRange):
            within(parse_period(text), earliest, latest)


def test_a_period_covers_at_most_ten_years_so_the_one_before_stays_on_the_calendar():
    longest = Period(date(2000, 1, 1), date(2000, 1, 1) + timedelta(MAX_PERIOD_DAYS - 1))
    assert longest.previous().days == MAX_PERIOD_DAYS
    with pytest.raises(InvalidPeriod):
        Period(date(2000, 1, 1), date(5873, 10, 15))
