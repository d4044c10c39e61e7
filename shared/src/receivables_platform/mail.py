"""Email through a real SMTP server, configured by one URL (`SMTP_URL`).

`smtp://user:password@host:587?from=cases@example.com&starttls=true` (or
`smtps://` for implicit TLS on 465). Sending runs the standard library's
`smtplib` in a worker thread: one short conversation per message, no
connection kept between requests, so nothing goes stale between sends.
A refused or unreachable server raises `MailNotSent`, which routes answer
as 502 before anything is recorded.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit


class MailNotSent(Exception):
    """The SMTP server could not be reached or refused the message.

    `permanent` when the server refused with a 5xx (a bad mailbox: retrying will
    not help); a connection failure or a 4xx may pass on a later try.
    """

    def __init__(self, detail: str, *, permanent: bool = False) -> None:
        super().__init__(detail)
        self.detail, self.permanent = detail, permanent


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_url(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"SMTP_URL must be smtp://host:port or smtps://host:port, got {url!r}")
        query = parse_qs(parts.query)
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            sender=query.get("from", ["receivables@localhost"])[0],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit,
            starttls=query.get("starttls", ["false"])[0].lower() == "true",
        )


def compose(
    target: SmtpTarget, *, to: str, subject: str, body: str, in_reply_to: str | None = None
) -> EmailMessage:
    message = EmailMessage()
    # a header is one line: a subject typed over several (or a pasted one) is joined
    subject = " ".join(subject.split())
    message["From"], message["To"], message["Subject"] = target.sender, to, subject
    message["Message-ID"] = make_msgid(domain=target.sender.rpartition("@")[2] or None)
    if in_reply_to:
        message["In-Reply-To"] = message["References"] = in_reply_to
    message.set_content(body)
    return message


def _send_now(target: SmtpTarget, message: EmailMessage) -> None:
    context = ssl.create_default_context()
    try:
        smtp: smtplib.SMTP = (
            smtplib.SMTP_SSL(target.host, target.port, timeout=target.timeout, context=context)
            if target.implicit_tls
            else smtplib.SMTP(target.host, target.port, timeout=target.timeout)
        )
        with smtp:
            if target.starttls:
                smtp.starttls(context=context)
            if target.username and target.password:
                smtp.login(target.username, target.password)
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        refusals = "; ".join(
            f"{code} {reply.decode(errors='replace')} <{who}>"
            for who, (code, reply) in exc.recipients.items()
        )
        raise MailNotSent(refusals, permanent=all(c >= 500 for c in codes)) from exc
    except smtplib.SMTPResponseException as exc:
        reply = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        raise MailNotSent(f"{exc.smtp_code} {reply}", permanent=exc.smtp_code >= 500) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailNotSent(f"{target.host}:{target.port}: {exc}") from exc


async def send(target: SmtpTarget, message: EmailMessage) -> str:
    """Send and return the Message-ID (how a reply threads back)."""
    await asyncio.to_thread(_send_now, target, message)
    return str(message["Message-ID"])
