"""Automatic dunning decisions: when a send may go out, to whom, and whether at all.

Pure: the sender (service_layer.dunning) asks these before it claims a send.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import time
from email import policy
from email.message import Message
from enum import StrEnum
from typing import Any


class CatchUp(StrEnum):
    """What the first run on an account behind its cadence sends (go-live, a long hold).

    `first_not_done`: the earliest step due and never sent, one step a business day, so a
    customer hears the reminder before the final notice. `latest`: only the most advanced
    step due; the earlier ones count as done.
    """

    FIRST_NOT_DONE = "first_not_done"
    LATEST = "latest"


@dataclass(frozen=True)
class SendWindow:
    start: time
    end: time

    def contains(self, local: time) -> bool:
        """Local wall time in [start, end)."""
        return self.start <= local < self.end


@dataclass(frozen=True)
class Recipients:
    to: tuple[str, ...]
    cc: tuple[str, ...]
    addressee: str | None
    """The name the letter is addressed to: the first `to` contact's."""


def recipients(
    contacts: Iterable[Mapping[str, Any]], to_roles: Sequence[str], cc_roles: Sequence[str]
) -> Recipients:
    """Billing contacts by role: `to_roles` receive, `cc_roles` are copied. An account whose
    contacts carry no role at all gets its first contact with an email, as before roles."""
    emailable = [c for c in contacts if c.get("email")]
    to = [c for c in emailable if c.get("role") in to_roles]
    if not to and not any(c.get("role") for c in emailable):
        to = emailable[:1]
    addresses = {c["email"] for c in to}
    cc = [
        c["email"] for c in emailable if c.get("role") in cc_roles and c["email"] not in addresses
    ]
    return Recipients(
        tuple(dict.fromkeys(c["email"] for c in to)),
        tuple(dict.fromkeys(cc)),
        to[0].get("name") if to else None,
    )


def withheld(*, do_not_contact: bool, opt_out: bool, recipients: Recipients) -> str | None:
    """Why nothing may be sent to the account (the reason recorded), or None."""
    if do_not_contact:
        return "do not contact"
    if opt_out:
        return "opted out of email"
    if not recipients.to:
        return "no billing contact with an email address"
    return None


@dataclass(frozen=True)
class Bounce:
    """What a delivery status notification (RFC 3464) says about one message."""

    message_id: str
    status: str
    recipient: str | None
    diagnostic: str | None

    @property
    def permanent(self) -> bool:
        return self.status.startswith("5")


class NotADsn(ValueError):
    """The body is no delivery status notification we can tie to a message."""


def read_dsn(raw: bytes) -> Bounce:
    """The original Message-ID and the first recipient's status from a `multipart/report`.

    Mail gateways forward the DSN as it arrived; the original message comes back as
    `message/rfc822` or `text/rfc822-headers`, where its Message-ID is found.
    """
    report = email.message_from_bytes(raw, policy=policy.default)
    if report.get_content_type() != "multipart/report":
        raise NotADsn("a DSN is a multipart/report (RFC 3464)")
    status: str | None = None
    recipient = diagnostic = message_id = None
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in _blocks(part):
                if status is None and block.get("Status"):
                    status = str(block["Status"]).strip()
                    recipient = _address(block.get("Final-Recipient"))
                    diagnostic = str(block.get("Diagnostic-Code") or "").strip() or None
        elif kind in ("message/rfc822", "text/rfc822-headers") and message_id is None:
            original = (
                _blocks(part)[0]
                if kind == "message/rfc822"
                else email.message_from_string(
                    str(part.get_payload(decode=False)), policy=policy.default
                )
            )
            message_id = str(original.get("Message-ID") or "").strip() or None
    if status is None or not STATUS.fullmatch(status):
        raise NotADsn("the report has no per-recipient Status (e.g. 5.1.1)")
    if message_id is None:
        raise NotADsn("the report does not carry the original message's Message-ID")
    return Bounce(message_id, status, recipient, diagnostic)


def _blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


STATUS = re.compile(r"[245]\.[0-9]{1,3}\.[0-9]{1,3}")


def _address(field: object) -> str | None:
    """`rfc822; ann@acme.test` -> `ann@acme.test`."""
    if field is None:
        return None
    return str(field).rpartition(";")[2].strip() or None
