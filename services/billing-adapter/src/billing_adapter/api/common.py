"""What billing routes share: roles, a pooled connection, If-Match on the right version."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import Depends, Request

from billing_adapter.domain.state import Account
from billing_adapter.service_layer.accounts import Check
from receivables_platform.domain import NotFound, Refused
from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.connection import connection
from receivables_platform.web.etag import Precondition, version_check
from receivables_platform.web.request_log import correlation_id

WRITERS = require_roles("integration", "admin")
READERS = require_roles("integration", "admin", "supervisor", "collector", "case_agent")
Conn = Annotated[asyncpg.Connection, Depends(connection)]
Writer = Annotated[Principal, Depends(WRITERS)]
"""A writer whose `sub` every billing event it causes records as its `actor`."""


def trace(request: Request) -> str | None:
    return correlation_id(request)


def account_precondition(if_match: Precondition | None) -> Check | None:
    """If-Match on an account write is checked against the account's version."""
    return version_check(if_match)


def invoice_precondition(if_match: Precondition | None, invoice_id: UUID) -> Check | None:
    """An invoice's ETag is the account version it last changed at, not the account's."""

    def invoice_version(state: Account) -> int:
        invoice = state.invoices.get(invoice_id)
        if invoice is None:
            raise NotFound(f"no invoice {invoice_id}", field="invoice_id")
        return invoice.version

    return version_check(if_match, invoice_version)


def payment_precondition(if_match: Precondition | None, payment_id: UUID) -> Check | None:
    def payment_version(state: Account) -> int:
        payment = state.payments.get(payment_id)
        if payment is None:
            raise NotFound(f"no payment {payment_id}", field="payment_id")
        return payment.version

    return version_check(if_match, payment_version)


@contextmanager
def fields_in_body() -> Iterator[None]:
    """Domain fields with a path (`allocations.0.amount_minor`) are in the body too.

    The shared refusal handler prefixes `body.` only to plain names, so a
    nested field would otherwise reach the client without saying where it is.
    """
    try:
        yield
    except Refused as refusal:
        if (
            refusal.field
            and "." in refusal.field
            and not refusal.field.startswith(("body.", "path.", "query.", "header."))
        ):
            refusal.field = f"body.{refusal.field}"
        raise
