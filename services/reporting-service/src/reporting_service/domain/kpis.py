"""KPI formulas exactly as docs/architecture.md#metrics defines them, pure and exact.

Results are `Fraction`s so tests compare them to hand-computed values with no
rounding; the API rounds for display. A ratio whose denominator is zero is
None ("no data"), never 0 or infinity: a collector with no tasks due did not
complete 0% of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from statistics import median as _median


class InvalidPeriod(ValueError):
    pass


MAX_PERIOD_DAYS = 3_660
"""Ten years: every report also reads the period before, which must stay on the calendar."""


@dataclass(frozen=True)
class Period:
    """Inclusive business-date range."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidPeriod("a period ends on or after the day it starts")
        if self.days > MAX_PERIOD_DAYS:
            raise InvalidPeriod(f"a period covers at most {MAX_PERIOD_DAYS} days (ten years)")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one (last week, last month's days)."""
        return Period(self.start - timedelta(self.days), self.start - timedelta(1))

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def up_to(self, today: date) -> Period:
        """The days of this period that have happened by `today`.

        A month still running has no AR at its end yet and no case is open two weeks
        by a date that has not come: its figures are as of today, over the days so far.
        """
        if self.start > today:
            raise PeriodNotStarted(
                f"{self.label} starts after today ({today}): nothing has happened in it yet"
            )
        return self if self.end <= today else Period(self.start, today)


# ASCII digits and nothing after them: `\d` takes any script's digits and `$` a newline
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class PeriodNotStarted(InvalidPeriod):
    """A period whose first day is still to come."""


class PeriodOutOfRange(InvalidPeriod):
    """A real period, but one that reaches outside the dates the platform books."""


def within(period: Period, earliest: date, latest: date) -> Period:
    """The period, when it lies inside `earliest`..`latest` (the business dates).

    Nothing can be booked outside them, so a report there could only be empty; and its
    period before, or a day after its end, may not be a date at all (0001-W01, 9999-12).
    """
    if period.start < earliest or period.end > latest:
        raise PeriodOutOfRange(
            f"{period.label} is outside the business dates {earliest} to {latest}"
        )
    return period


def iso_week(text: str) -> Period:
    """`2026-W47`: Monday to Sunday of that ISO week."""
    match = _WEEK.fullmatch(text)
    if not match:
        raise InvalidPeriod("a week is written YYYY-Www, e.g. 2026-W47")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        return Period(monday, monday + timedelta(6))
    except (ValueError, OverflowError) as exc:  # 9999-W52 ends in a year there is no date of
        raise InvalidPeriod(f"{text} is not a week of the calendar") from exc


def parse_period(text: str) -> Period:
    """An ISO week (2026-W47), a month (2026-11) or a single day (2026-11-20)."""
    if _WEEK.fullmatch(text):
        return iso_week(text)
    if match := _MONTH.fullmatch(text):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise InvalidPeriod("a month is 01 to 12")
        try:
            first = date(year, month, 1)
            following = date(year + month // 12, month % 12 + 1, 1)
        except ValueError as exc:  # year 0, or a month whose end is in year 10000
            raise InvalidPeriod(f"{text} is not a month of the calendar") from exc
        return Period(first, following - timedelta(1))
    if not _DAY.fullmatch(text):  # fromisoformat also reads 20261120 and 2026-W47-1
        raise InvalidPeriod("a period is YYYY-Www, YYYY-MM or YYYY-MM-DD")
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidPeriod(f"{text} is not a day of the calendar") from exc
    return Period(day, day)


def ratio(numerator: int | Fraction, denominator: int | Fraction) -> Fraction | None:
    return None if denominator == 0 else Fraction(numerator) / Fraction(denominator)


def dso(ending_ar: int, credit_sales: int, days: int) -> Fraction | None:
    """DSO = ending AR / credit sales in period x days in period."""
    share = ratio(ending_ar, credit_sales)
    return None if share is None else share * days


def best_possible_dso(current_ar: int, credit_sales: int, days: int) -> Fraction | None:
    """Best possible DSO = current AR / credit sales x days."""
    share = ratio(current_ar, credit_sales)
    return None if share is None else share * days


def average_days_delinquent(
    dso_value: Fraction | None, best_value: Fraction | None
) -> Fraction | None:
    """ADD = DSO - best possible DSO."""
    if dso_value is None or best_value is None:
        return None
    return dso_value - best_value


def cei(
    opening_ar: int, credit_sales: int, closing_total_ar: int, closing_current_ar: int
) -> Fraction | None:
    """CEI = (opening AR + credit sales - closing total AR)
    / (opening AR + credit sales - closing current AR) x 100."""
    share = ratio(
        opening_ar + credit_sales - closing_total_ar, opening_ar + credit_sales - closing_current_ar
    )
    return None if share is None else share * 100


@dataclass(frozen=True)
class ArFigures:
    """What the AR KPIs need for one currency and one group over one period."""

    opening_ar: int
    credit_sales: int
    closing_ar: int
    closing_current_ar: int


@dataclass(frozen=True)
class ArKpis:
    dso: Fraction | None
    best_possible_dso: Fraction | None
    add: Fraction | None
    cei: Fraction | None
    dso_withheld: str | None = None  # why DSO (and best possible DSO, ADD) is None


MEANINGFUL_DSO_DAYS = 365
"""Above a year of sales outstanding, DSO says the period sold too little to divide by.

A month with one small invoice against a large book gives tens of thousands of days:
a number no one can act on, which would also drown every average it enters."""

NO_CREDIT_SALES = "no_credit_sales"
CREDIT_SALES_TOO_SMALL = "credit_sales_too_small"


def dso_withheld(figures: ArFigures, days: int) -> str | None:
    """Why the period's credit sales cannot carry a DSO, or None when they can."""
    if figures.credit_sales <= 0:
        return NO_CREDIT_SALES
    if figures.closing_ar * days > MEANINGFUL_DSO_DAYS * figures.credit_sales:
        return CREDIT_SALES_TOO_SMALL
    return None


def ar_kpis(figures: ArFigures, days: int) -> ArKpis:
    figures_cei = cei(
        figures.opening_ar, figures.credit_sales, figures.closing_ar, figures.closing_current_ar
    )
    withheld = dso_withheld(figures, days)
    if withheld is not None:
        return ArKpis(
            dso=None, best_possible_dso=None, add=None, cei=figures_cei, dso_withheld=withheld
        )
    dso_value = dso(figures.closing_ar, figures.credit_sales, days)
    best = best_possible_dso(figures.closing_current_ar, figures.credit_sales, days)
    return ArKpis(
        dso=dso_value,
        best_possible_dso=best,
        add=average_days_delinquent(dso_value, best),
        cei=figures_cei,
    )


@dataclass(frozen=True)
class PromiseFigures:
    """Promises judged in the period; a partly kept promise is not kept by count."""

    kept: int
    partially_kept: int
    broken: int
    promised_minor: int  # of every judged promise
    paid_minor: int  # paid against them when judged


def promise_kept_rate_by_count(f: PromiseFigures) -> Fraction | None:
    """Promise-kept rate = kept / (kept + broken); partly kept counts with broken."""
    return ratio(f.kept, f.kept + f.partially_kept + f.broken)


def promise_kept_rate_by_amount(f: PromiseFigures) -> Fraction | None:
    """By amount: what was paid of what was promised, over the same judged promises."""
    return ratio(f.paid_minor, f.promised_minor)


def cadence_completion(completed: int, due: int) -> Fraction | None:
    """Tasks completed / tasks due (due that day or carried over to it)."""
    return ratio(completed, due)


def autopay_conversion(enrolled_in_period: int, not_on_autopay_at_start: int) -> Fraction | None:
    """Accounts enrolled in the period / accounts not on auto-pay at its start."""
    return ratio(enrolled_in_period, not_on_autopay_at_start)


def autopay_penetration(on_autopay_at_end: int, accounts_at_end: int) -> Fraction | None:
    """Share of all accounts on auto-pay at the end of the period."""
    return ratio(on_autopay_at_end, accounts_at_end)


def mean(values: list[Fraction]) -> Fraction | None:
    return ratio(sum(values, Fraction(0)), len(values)) if values else None


def median(values: list[Fraction]) -> Fraction | None:
    return Fraction(_median(values)) if values else None


def as_number(value: Fraction | None, places: int = 2) -> float | None:
    """For display: rounded half-even to `places` decimals."""
    return None if value is None else round(float(value), places)
