"""Email templates supervisors write: checked when saved, rendered for the account's locale.

Bodies come from people through the API, so they are rendered in Jinja2's
immutable sandbox: a template that reaches for `__class__`, `mro` or a method
that changes data fails to save instead of running Python's internals. A
template is checked against sample data when saved (it must render, and carry
the placeholders the template says it needs, such as `pay_link` and
`remittance`), so a broken one never reaches a customer at send time.

Money and dates are formatted by Babel for the template's language: a German
statement reads "1.200,00 €", not "1,200.00 EUR".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, get_currency_precision
from jinja2 import StrictUndefined, TemplateError, meta, pass_context
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from receivables_platform.domain import Refused

LANGUAGES = ("en", "es", "de")
"""The languages the team writes statements in; any other falls back to English, visibly."""
FALLBACK_LANGUAGE = "en"
PLACEHOLDERS = frozenset({"pay_link", "remittance"})
"""Placeholders a template may declare it needs; saving refuses a body that lacks one."""
MAX_TEMPLATE_CHARS = 20_000


def amount(amount_minor: int, currency: str, language: str) -> str:
    """Minor units as a reader of `language` writes money (no float on the way)."""
    digits = get_currency_precision(currency)
    return format_currency(Decimal(amount_minor).scaleb(-digits), currency, locale=language)


def day(value: date, language: str) -> str:
    return format_date(value, "medium", locale=language)


@pass_context
def _money(context: Context, amount_minor: int, currency: str) -> str:
    return amount(amount_minor, currency, str(context.get("locale", FALLBACK_LANGUAGE)))


@pass_context
def _day(context: Context, value: date) -> str:
    return day(value, str(context.get("locale", FALLBACK_LANGUAGE)))


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with `*` and `**` bounded: `{{ "x" * 10**9 }}` would otherwise
    take the server's memory while a template is checked."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 64:
            raise SecurityError("exponent too large for a template")
        if operator == "*":
            count = right if isinstance(left, str | list | tuple) else left
            if isinstance(count, int) and count > MAX_TEMPLATE_CHARS:
                raise SecurityError("repetition too large for a template")
        return super().call_binop(context, operator, left, right)


def _environment() -> ImmutableSandboxedEnvironment:
    env = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.filters["money"] = _money
    env.filters["day"] = _day
    return env


ENVIRONMENT = _environment()


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    language: str
    requested: str
    """The language asked for; differs from `language` when the template had to fall back."""

    @property
    def fell_back(self) -> bool:
        return self.language != self.requested


@dataclass(frozen=True)
class EmailTemplate:
    name: str
    language: str
    version: int
    subject: str
    body: str
    requires: tuple[str, ...] = ()

    def revised_by(self, draft: EmailTemplate) -> EmailTemplate:
        """The draft saved as the version after this one: versions only grow, so a revision
        read at an older version cannot land under a number someone else already used."""
        return replace(draft, name=self.name, language=self.language, version=self.version + 1)

    def render(self, context: Mapping[str, Any], *, requested: str | None = None) -> Rendered:
        scope = {**context, "locale": self.language}
        subject = ENVIRONMENT.from_string(self.subject).render(scope)
        body = ENVIRONMENT.from_string(self.body).render(scope)
        return Rendered(" ".join(subject.split()), body, self.language, requested or self.language)


def language_of(value: str | None) -> str:
    """A known language, or a refusal naming the field (Babel must know it, we must write it)."""
    if value not in LANGUAGES:
        raise Refused(
            f"{value!r} is not one of the team's languages {', '.join(LANGUAGES)}", field="language"
        )
    try:
        Locale.parse(value)
    except (UnknownLocaleError, ValueError):  # pragma: no cover - LANGUAGES are Babel's
        raise Refused(f"{value!r} is not a language Babel knows", field="language") from None
    return value


def choose(available: Iterable[str], wanted: str | None) -> str | None:
    """The language to send in: the one wanted if written, else English, else None."""
    have = set(available)
    for language in (wanted, FALLBACK_LANGUAGE):
        if language in have:
            return language
    return None


def sample_context(language: str) -> dict[str, Any]:
    """What a statement carries, with made-up figures: every saved template must render it."""
    return {
        "account": {"name": "Muster GmbH"},
        "contact_name": "Ana García",
        "invoices": [
            {
                "reference": "INV-0001",
                "due_date": date(2026, 1, 15),
                "balance_minor": 120_000,
                "days_past_due": 30,
            }
        ],
        "total": 120_000,
        "currency": "EUR",
        "today": date(2026, 2, 14),
        "sender_name": "Kim Collector",
        "pay_link": "https://pay.example/acct/123",
        "remittance": "IBAN DE00 0000 0000 0000 0000 00",
        "locale": language,
    }


def checked(template: EmailTemplate) -> EmailTemplate:
    """The template if it renders with sample data and carries what it requires; else a
    refusal naming the field that is wrong."""
    if unknown := set(template.requires) - PLACEHOLDERS:
        raise Refused(
            f"unknown required placeholder(s) {sorted(unknown)}; known: {sorted(PLACEHOLDERS)}",
            field="requires",
        )
    for part in ("subject", "body"):
        text = getattr(template, part)
        field = f"body.{part}"  # spelled out: a bare "body" would name the whole request
        if len(text) > MAX_TEMPLATE_CHARS:
            raise Refused(f"the {part} is longer than {MAX_TEMPLATE_CHARS} characters", field=field)
        try:
            parsed = ENVIRONMENT.parse(text)
            used = meta.find_undeclared_variables(parsed)
            ENVIRONMENT.from_string(text).render(sample_context(template.language))
        except TemplateError as error:  # SecurityError and UndefinedError are TemplateErrors
            raise Refused(
                f"the {part} does not render with sample data: {error}", field=field
            ) from None
        if part == "body" and (missing := [p for p in template.requires if p not in used]):
            raise Refused(
                f"the body must carry the placeholder(s) "
                f"{', '.join('{{ ' + p + ' }}' for p in missing)}",
                field=field,
            )
    return template
