"""Email out through a real SMTP server (`SMTP_URL`), and the statements rendered for it.

`SMTP_URL` is `smtp://[user:password@]host[:port]` (STARTTLS when the server
offers it) or `smtps://...` (TLS from the start). Templates are Jinja2 files
per language under `templates/<language>/<template>.subject.j2` and
`.txt.j2`; a language without the template falls back to English.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound

from receivables_platform.domain import Refused

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


class MailError(Exception):
    def __init__(self, detail: str, *, permanent: bool) -> None:
        super().__init__(detail)
        self.detail, self.permanent = detail, permanent


@dataclass(frozen=True)
class Mailer:
    url: str
    sender: str
    timeout: float = 30

    def message(self, to: str, rendered: Rendered) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = rendered.subject
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message["Content-Language"] = rendered.language
        message.set_content(rendered.body)
        return message

    async def send(self, message: EmailMessage) -> str:
        """Hand the message to the server; its Message-ID, or MailError (permanent on 5xx)."""
        parts = urlsplit(self.url)
        secure = parts.scheme == "smtps"
        try:
            await aiosmtplib.send(
                message, hostname=parts.hostname or "localhost",
                port=parts.port or (465 if secure else 25),
                username=unquote(parts.username) if parts.username else None,
                password=unquote(parts.password) if parts.password else None,
                use_tls=secure, start_tls=None if not secure else False,
                timeout=self.timeout)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            detail = "; ".join(f"{r.code} {r.message} <{r.recipient}>" for r in exc.recipients)
            raise MailError(detail, permanent=all(c >= 500 for c in codes)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise MailError(f"{exc.code} {exc.message}", permanent=exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        return str(message["Message-ID"])
