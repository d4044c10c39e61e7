"""Billing and case events as a producer would send them, and a service to try them on.

In the package (not under tests/) so whole-system tests can feed the same
events through the real broker that the service tests feed straight to the
handler.
"""

from __future__ import annotations

import email
import socket
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from email.policy import default
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from collections_service.consumers import on_event
from collections_service.runtime import Runtime
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import (
    AccountRegistered,
    Contact,
    InvoiceIssued,
    PaymentApplied,
)
from receivables_platform.db.pool import connect
from receivables_platform.envelope import CloudEvent
from receivables_platform.ids import new_id
from receivables_platform.web.auth import issue_token

SECRET = "test-secret-for-collections-0123456789"  # noqa: S105 - tests only
MONDAY = date(2026, 11, 2)


def at(day: date, hour: int = 8) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def cloud_event(contract: EventContract, *, account_id: UUID, source: str) -> CloudEvent:
    return CloudEvent(
        source=source,
        type=contract.event_type,
        subject=str(account_id),
        partitionkey=str(account_id),
        schemaversion=contract.version,
        data=contract.payload(),
    )


@dataclass
class BillingFeed:
    """Sends billing (and case) events into a collections database through its handler."""

    database_url: str
    runtime: Runtime
    sent: list[CloudEvent] = field(default_factory=list)

    async def send(self, *contracts: EventContract, source: str = "billing-adapter") -> None:
        conn = await connect(self.database_url)
        try:
            for contract in contracts:
                account_id = getattr(contract, "account_id")  # noqa: B009 - every contract has it
                event = cloud_event(contract, account_id=account_id, source=source)
                await self.deliver(conn, event)
        finally:
            await conn.close()

    async def deliver(self, conn: asyncpg.Connection, event: CloudEvent) -> None:
        async with conn.transaction():
            await on_event(conn, event, self.runtime)
        self.sent.append(event)

    async def redeliver_all(self) -> None:
        conn = await connect(self.database_url)
        try:
            for event in list(self.sent):
                async with conn.transaction():
                    await on_event(conn, event, self.runtime)
        finally:
            await conn.close()


def account(account_id: UUID | None = None, **overrides: Any) -> AccountRegistered:
    return AccountRegistered(
        **{
            "account_id": account_id or new_id(),
            "external_id": f"CUS-{uuid4().hex[:8]}",
            "name": "Acme Corp",
            "currency": "USD",
            "payment_terms_days": 30,
            "segment": "smb",
            "contacts": [Contact(name="Ann", email="ann@acme.test", phone="+1 555 0100")],
            **overrides,
        }
    )


def invoice(account_id: UUID, due: date, total: int = 10_000, **overrides: Any) -> InvoiceIssued:
    return InvoiceIssued(
        **{
            "invoice_id": new_id(),
            "account_id": account_id,
            "external_id": f"INV-{uuid4().hex[:8]}",
            "currency": "USD",
            "total_minor": total,
            "issue_date": date.fromordinal(due.toordinal() - 30),
            "due_date": due,
            **overrides,
        }
    )


def in_instalments(account_id: UUID, *plan: tuple[date, int], **overrides: Any) -> InvoiceIssued:
    """An invoice paid in instalments; its due date is the last one's, as billing sends it."""
    total = sum(amount for _, amount in plan)
    return invoice(
        account_id,
        plan[-1][0],
        total,
        **{
            "lines": [
                {
                    "description": "Fit-out",
                    "quantity": 1,
                    "unit_price_minor": total,
                    "amount_minor": total,
                }
            ],
            "subtotal_minor": total,
            "tax_minor": 0,
            "instalments": [{"due_date": d, "amount_minor": a} for d, a in plan],
            **overrides,
        },
    )


def applied(
    issued: InvoiceIssued, amount: int, on: date, payment_id: UUID | None = None
) -> PaymentApplied:
    return PaymentApplied(
        payment_id=payment_id or new_id(),
        account_id=issued.account_id,
        invoice_id=issued.invoice_id,
        amount_minor=amount,
        currency="USD",
        remaining_minor=max(issued.total_minor - amount, 0),
        applied_on=on,
    )


def as_(sub: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, roles or ('collector',))}"}


SUPERVISOR = as_("sue", "supervisor")
KIM = as_("kim", "collector")
LEE = as_("lee", "collector")


def creating(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key or str(uuid4())}


class Inbox:
    """An SMTP server's handler: keeps what it accepted, refuses one mailbox."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[list[str]] = []
        self.refused = "gone@acme.test"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address == self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(list(envelope.rcpt_tos))
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
