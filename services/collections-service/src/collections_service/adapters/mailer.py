"""Email out through a real SMTP server (`SMTP_URL`), and the statements rendered for it.

Sending is the platform's (`receivables_platform.mail`, configured by
`SMTP_URL`); this module renders what is sent. Templates are Jinja2 files
per language under `templates/<language>/<template>.subject.j2` and
`.txt.j2`; a language without the template falls back to English.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound

from receivables_platform import mail
from receivables_platform.domain import Refused
from receivables_platform.mail import SmtpTarget

FALLBACK_LANGUAGE = "en"
_ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "XOF", "XAF", "UGX", "PYG"})


def money(amount_minor: int, currency: str) -> str:
    """Minor units as the amount a reader expects (no float on the way)."""
    if currency in _ZERO_DECIMAL:
        return f"{amount_minor:,} {currency}"
    sign = "-" if amount_minor < 0 else ""
    major, minor = divmod(abs(amount_minor), 100)
    return f"{sign}{major:,}.{minor:02d} {currency}"


_env = Environment(loader=PackageLoader("collections_service", "templates"),
                   undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)  # noqa: S701 - plain text mail
_env.filters["money"] = money


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    language: str


def render(template: str, language: str, context: dict[str, Any]) -> Rendered:
    """The template in `language` (else English); an unknown template is the caller's error."""
    for lang in dict.fromkeys((language, FALLBACK_LANGUAGE)):
        try:
            subject = _env.get_template(f"{lang}/{template}.subject.j2")
            body = _env.get_template(f"{lang}/{template}.txt.j2")
        except TemplateNotFound:
            continue
        return Rendered(subject.render(context).strip(), body.render(context), lang)
    raise Refused(f"there is no email template {template!r}", field="template")


@dataclass(frozen=True)
class Mailer:
    """The platform's SMTP transport (`SMTP_URL`), with the statement's headers."""

    target: SmtpTarget

    @classmethod
    def from_url(cls, url: str) -> Mailer:
        return cls(SmtpTarget.from_url(url))

    @property
    def sender(self) -> str:
        return self.target.sender

    def message(self, to: str, rendered: Rendered) -> EmailMessage:
        message = mail.compose(self.target, to=to, subject=rendered.subject, body=rendered.body)
        message["Content-Language"] = rendered.language
        return message

    async def send(self, message: EmailMessage) -> str:
        """Its Message-ID once the server took it; `MailNotSent` (permanent on 5xx) if not."""
        return await mail.send(self.target, message)
