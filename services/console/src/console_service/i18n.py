"""The interface in the person's language; money and dates in their locale.

Messages come from compiled gettext catalogs (`locale/<lang>/LC_MESSAGES/
messages.mo`, built from the `.po` by `make console-messages`). The language is
the one the person chose, else the best match for the browser's
Accept-Language, else English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, get_currency_precision
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT_LANGUAGE = "en"


@cache
def translations(language: str) -> NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], domain="messages")


def negotiate(accept_language: str | None) -> str:
    """The first language of the header's list that the console speaks."""
    preferred = []
    for part in (accept_language or "").split(","):
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        if tag:
            preferred.append((weight, tag.strip()))
    ordered = [tag.replace("-", "_") for _, tag in sorted(preferred, key=lambda p: -p[0])]
    match = Locale.negotiate(ordered, list(LANGUAGES), sep="_")
    return str(match.language) if match else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Localizer:
    """What a template needs to speak the person's language."""

    language: str

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    def gettext(self, message: str, **values: Any) -> str:
        text = translations(self.language).gettext(message)
        return text % values if values else text

    def money(self, amount_minor: int | None, currency: str | None) -> str:
        if amount_minor is None or not currency:
            return "—"
        digits = get_currency_precision(currency)
        amount = Decimal(amount_minor).scaleb(-digits)
        return format_currency(amount, currency, locale=self.locale)

    def day(self, value: date | str | None) -> str:
        if not value:
            return "—"
        if isinstance(value, str):
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        if isinstance(value, datetime):
            return format_datetime(value, format="medium", locale=self.locale)
        return format_date(value, format="medium", locale=self.locale)


def N_(message: str) -> str:
    """Marks a message for the catalog; the template translates it when it renders."""
    return message
