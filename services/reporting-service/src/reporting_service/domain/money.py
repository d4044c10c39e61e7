"""Amounts for people: minor units shown in the currency's own major unit.

A yen has no minor unit and a dinar has three, so dividing by 100 shows a
yen total a hundred times too small; ISO 4217's exponent (from Babel's CLDR
data) says how far to move the point.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision

REVIEW_LOCALE = "en_US"


def major_units(amount_minor: int, currency: str) -> Decimal:
    """12345 USD is 123.45; 12345 JPY is 12345."""
    return Decimal(amount_minor).scaleb(-get_currency_precision(currency))


def format_money(amount_minor: int | None, currency: str) -> str:
    """`$1,234.50`, `¥5,000`; an empty string for no amount."""
    if amount_minor is None:
        return ""
    return format_currency(major_units(amount_minor, currency), currency, locale=REVIEW_LOCALE)
