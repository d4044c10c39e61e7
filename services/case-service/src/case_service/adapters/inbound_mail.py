"""Reading a raw RFC 5322 message: who sent it, what it answers, its text and attachments.

Uses the standard library's parser with the modern policy (encoded words and
parameters decoded, multipart walked). The parser is lenient by design, so the
defects it records decide what we refuse: a message without a sender, without
the blank line between headers and body, or whose multipart structure is
broken is answered 422 naming what is wrong, rather than filed half-read.
What only the database cannot hold (raw 8-bit header bytes, stray NULs) is
kept readable as U+FFFD, not refused: the customer cannot resend it corrected.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email import errors, policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses

from receivables_platform.contracts.cases import Attachment
from receivables_platform.text import storable

CASE_TAG = re.compile(r"\[(CASE-\d{6,})\]")
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
FATAL_DEFECTS = (errors.MissingHeaderBodySeparatorDefect, errors.StartBoundaryNotFoundDefect,
                 errors.NoBoundaryInMultipartDefect, errors.CloseBoundaryNotFoundDefect,
                 errors.MultipartInvariantViolationDefect,
                 errors.InvalidMultipartContentTransferEncodingDefect)


class MalformedMessage(ValueError):
    def __init__(self, detail: str, field: str = "body") -> None:
        super().__init__(detail)
        self.detail, self.field = detail, field


@dataclass(frozen=True)
class InboundMessage:
    message_id: str
    sender: str
    sender_name: str | None
    subject: str
    text: str
    case_tag: str | None
    answers: tuple[str, ...]
    """In-Reply-To then References: the messages this one replies to, nearest first."""
    attachments: tuple[Attachment, ...]


def _defects(message: EmailMessage) -> list[str]:
    found = []
    for part in message.walk():
        found += [type(d).__name__ for d in part.defects if isinstance(d, FATAL_DEFECTS)]
    return found


def _header(message: EmailMessage, name: str) -> str:
    try:
        return storable(str(message.get(name, "") or ""))
    except (errors.HeaderParseError, ValueError, IndexError) as exc:
        raise MalformedMessage(f"header {name} cannot be decoded: {exc}", f"header.{name}") \
            from None


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError) as exc:
        raise MalformedMessage(f"the message text cannot be decoded: {exc}") from None
    if part.get_content_subtype() == "html":
        content = re.sub(r"<[^>]+>", " ", content)
    return storable(str(content)).strip()


def _attachments(message: EmailMessage) -> tuple[Attachment, ...]:
    found = []
    for index, part in enumerate(message.iter_attachments()):
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        found.append(Attachment(
            filename=storable(part.get_filename() or f"attachment-{index + 1}")[:500],
            content_type=storable(part.get_content_type())[:200], size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest()))
    return tuple(found)


def parse(raw: bytes) -> InboundMessage:
    if not raw.strip():
        raise MalformedMessage("the request body is empty; send the raw RFC 5322 message")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    if defects := _defects(message):
        raise MalformedMessage(f"the message is malformed: {', '.join(sorted(set(defects)))}")
    addresses = [(name, addr) for name, addr in getaddresses([_header(message, "From")]) if addr]
    if not addresses or "@" not in addresses[0][1]:
        raise MalformedMessage("the message has no sender address (From)", "header.From")
    name, sender = addresses[0]
    subject = _header(message, "Subject")
    message_id = _header(message, "Message-ID").strip()
    if not MESSAGE_ID.fullmatch(message_id):
        digest = hashlib.sha256(raw).hexdigest()[:32]
        message_id = f"<{digest}@inbound.receivables>"
    tag = CASE_TAG.search(subject)
    answers = tuple(dict.fromkeys(MESSAGE_ID.findall(_header(message, "In-Reply-To"))
                                  + MESSAGE_ID.findall(_header(message, "References"))[::-1]))
    return InboundMessage(message_id=message_id, sender=sender.lower(), sender_name=name or None,
                          subject=subject, text=_text(message),
                          case_tag=tag.group(1) if tag else None, answers=answers,
                          attachments=_attachments(message))
