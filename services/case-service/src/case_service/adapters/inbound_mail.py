"""Reading a raw RFC 5322 message: who sent it, what it answers, its text and attachments.

Uses the standard library's parser with the modern policy (encoded words and
parameters decoded, multipart walked). The parser is lenient by design, so the
defects it records decide what we refuse: a message without a sender, without
the blank line between headers and body, or whose multipart structure is
broken is answered 422 naming what is wrong, rather than filed half-read.
What only the database cannot hold (raw 8-bit header bytes, stray NULs) is
kept readable as U+FFFD, not refused: the customer cannot resend it corrected.

What would make the case's event too big for the topic, or the parser's stack
too deep, is refused up front with the limit it passed: more attachments than
`INBOUND_EMAIL_MAX_ATTACHMENTS` (each one is a few hundred bytes of the event:
6,500 tiny ones in a 1 MB email made an event Kafka would not take), larger
ones than the byte limits, parts nested deeper than `MAX_NESTING` (the
standard library's parser recurses per level and overflows the stack). An
attachment of a type not accepted is filed by name and hash, without its bytes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email import errors, policy
from email.feedparser import BytesFeedParser
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from case_service.adapters.attachment_limits import AttachmentLimits, media_type
from receivables_platform.contracts.cases import Attachment
from receivables_platform.text import storable

CASE_TAG = re.compile(r"\[(CASE-\d{6,})\]")
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
FATAL_DEFECTS = (
    errors.MissingHeaderBodySeparatorDefect,
    errors.StartBoundaryNotFoundDefect,
    errors.NoBoundaryInMultipartDefect,
    errors.CloseBoundaryNotFoundDefect,
    errors.MultipartInvariantViolationDefect,
    errors.InvalidMultipartContentTransferEncodingDefect,
)


MAX_NESTING = 32
"""Multipart and message/rfc822 parts inside each other: real mail, forwards of forwards
included, stays far below; a thousand levels overflowed the parser's stack."""


class MalformedMessage(ValueError):
    def __init__(self, detail: str, field: str = "body") -> None:
        super().__init__(detail)
        self.detail, self.field = detail, field


class OverLimit(ValueError):
    """The message is well-formed but passes a limit: `status` 413 for bytes, 422 for a count."""

    def __init__(self, detail: str, *, status: int, limit: int) -> None:
        super().__init__(detail)
        self.detail, self.status, self.limit = detail, status, limit


class InboundEmailLimits(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    max_attachments: int = Field(
        default=100, ge=1, le=1000, validation_alias="INBOUND_EMAIL_MAX_ATTACHMENTS"
    )
    """Attachments one inbound email may carry; more is refused (422) and opens no case."""
    max_attachment_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, validation_alias="INBOUND_EMAIL_MAX_ATTACHMENT_BYTES"
    )
    """The largest single attachment of an inbound email, in bytes (413 above it)."""
    max_attachments_total_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1, validation_alias="INBOUND_EMAIL_MAX_ATTACHMENTS_BYTES"
    )
    """All attachments of one inbound email together, in bytes (413 above it)."""


class _TooDeep(Exception):
    pass


class _NestingLimitedParser(BytesFeedParser):
    """The standard parser, stopped at MAX_NESTING levels instead of at the stack's end.

    It parses each nested part with a generator inside its parent's (`_parsegen`), so
    the depth is counted there.
    """

    def __init__(self) -> None:
        self._depth = 0
        super().__init__(policy=policy.default)

    def _parsegen(self) -> Iterator[Any]:
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise _TooDeep
            yield from super()._parsegen()  # type: ignore[misc]
        finally:
            self._depth -= 1


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
    contents: Mapping[str, bytes] = field(default_factory=dict)
    """The bytes to keep, by SHA-256: those of the types `ATTACHMENT_CONTENT_TYPES` accepts.
    The others (an .exe, an HTML page) are recorded by name and hash but never kept, so
    never served from our origin; the email itself is filed, the customer cannot resend it."""


def _defects(message: EmailMessage) -> list[str]:
    found = []
    for part in message.walk():
        found += [type(d).__name__ for d in part.defects if isinstance(d, FATAL_DEFECTS)]
    return found


def _header(message: EmailMessage, name: str) -> str:
    try:
        return storable(str(message.get(name, "") or ""))
    except (errors.HeaderParseError, ValueError, IndexError) as exc:
        raise MalformedMessage(
            f"header {name} cannot be decoded: {exc}", f"header.{name}"
        ) from None


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


def _attachments(
    message: EmailMessage, limits: InboundEmailLimits, types: AttachmentLimits
) -> tuple[tuple[Attachment, ...], dict[str, bytes]]:
    found, contents, total = [], {}, 0
    for index, part in enumerate(message.iter_attachments()):
        if index == limits.max_attachments:
            raise OverLimit(
                f"the message has more than {limits.max_attachments} attachments, "
                "the most one email may bring",
                status=422,
                limit=limits.max_attachments,
            )
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        total += len(data)
        if len(data) > limits.max_attachment_bytes:
            raise OverLimit(
                f"attachment {index + 1} is {len(data)} bytes, over the "
                f"{limits.max_attachment_bytes}-byte limit on one attachment",
                status=413,
                limit=limits.max_attachment_bytes,
            )
        if total > limits.max_attachments_total_bytes:
            raise OverLimit(
                f"the attachments are over the {limits.max_attachments_total_bytes}"
                "-byte limit on all of one email's attachments together",
                status=413,
                limit=limits.max_attachments_total_bytes,
            )
        content_type = media_type(storable(part.get_content_type()))[:200]
        digest = hashlib.sha256(data).hexdigest()
        if types.allows(content_type):
            contents[digest] = data
        found.append(
            Attachment(
                filename=storable(part.get_filename() or f"attachment-{index + 1}")[:500],
                content_type=content_type,
                size_bytes=len(data),
                sha256=digest,
            )
        )
    return tuple(found), contents


def _parsed(raw: bytes) -> EmailMessage:
    parser = _NestingLimitedParser()
    try:
        parser.feed(raw)
        message = parser.close()
    except _TooDeep:
        raise MalformedMessage(
            f"the message nests parts more than {MAX_NESTING} levels deep"
        ) from None
    assert isinstance(message, EmailMessage)
    return message


def parse(raw: bytes, limits: InboundEmailLimits, types: AttachmentLimits) -> InboundMessage:
    if not raw.strip():
        raise MalformedMessage("the request body is empty; send the raw RFC 5322 message")
    message = _parsed(raw)
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
    answers = tuple(
        dict.fromkeys(
            MESSAGE_ID.findall(_header(message, "In-Reply-To"))
            + MESSAGE_ID.findall(_header(message, "References"))[::-1]
        )
    )
    attachments, contents = _attachments(message, limits, types)
    return InboundMessage(
        message_id=message_id,
        sender=sender.lower(),
        sender_name=name or None,
        subject=subject,
        text=_text(message),
        case_tag=tag.group(1) if tag else None,
        answers=answers,
        attachments=attachments,
        contents=contents,
    )
