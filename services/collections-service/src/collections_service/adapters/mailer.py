"""Email out through a real SMTP server (`SMTP_URL`), with a statement's headers.

Sending is the platform's (`receivables_platform.mail`, configured by
`SMTP_URL`); rendering is the domain's (`domain.templates`), from the
templates in `adapters.templates`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from collections_service.domain.templates import Rendered
from receivables_platform import mail
from receivables_platform.mail import SmtpTarget


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

    def message(self, to: str, rendered: Rendered, cc: Sequence[str] = ()) -> EmailMessage:
        message = mail.compose(self.target, to=to, subject=rendered.subject, body=rendered.body)
        if cc:
            message["Cc"] = ", ".join(cc)
        message["Content-Language"] = rendered.language
        return message

    async def send(self, message: EmailMessage) -> str:
        """Its Message-ID once the server took it; `MailNotSent` (permanent on 5xx) if not."""
        return await mail.send(self.target, message)
