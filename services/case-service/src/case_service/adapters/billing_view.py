"""Case-service's own view of billing: accounts, their contacts' emails, invoices.

Fed from `billing.events.v1` (see `service_layer/billing_events.py`); read to
refuse a case on an unknown account or invoice and to find the account an
inbound email's sender belongs to. Upserts, because a consumer may see an
account's update before a replayed registration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg


@dataclass(frozen=True)
class KnownInvoice:
    invoice_id: UUID
    account_id: UUID
    currency: str


async def upsert_account(
    conn: asyncpg.Connection, account_id: UUID, name: str, currency: str | None
) -> None:
    await conn.execute(
        "INSERT INTO billing_accounts (account_id, name, currency) VALUES ($1, $2, $3) "
        "ON CONFLICT (account_id) DO UPDATE SET name = $2, "
        "currency = COALESCE($3, billing_accounts.currency)",
        account_id,
        name,
        currency or "",
    )


async def rename_account(conn: asyncpg.Connection, account_id: UUID, name: str) -> None:
    await conn.execute(
        "UPDATE billing_accounts SET name = $2 WHERE account_id = $1", account_id, name
    )


async def replace_contacts(
    conn: asyncpg.Connection, account_id: UUID, contacts: Sequence[tuple[str, str | None]]
) -> None:
    await conn.execute("DELETE FROM billing_contacts WHERE account_id = $1", account_id)
    await conn.executemany(
        "INSERT INTO billing_contacts (account_id, email, name) VALUES ($1, lower($2), $3) "
        "ON CONFLICT DO NOTHING",
        [(account_id, email, name) for email, name in contacts],
    )


async def upsert_invoice(conn: asyncpg.Connection, invoice: KnownInvoice, external_id: str) -> None:
    await conn.execute(
        "INSERT INTO billing_invoices (invoice_id, account_id, external_id, currency) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (invoice_id) DO NOTHING",
        invoice.invoice_id,
        invoice.account_id,
        external_id,
        invoice.currency,
    )


async def account_exists(conn: asyncpg.Connection, account_id: UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM billing_accounts WHERE account_id = $1)", account_id
        )
    )


async def invoices(
    conn: asyncpg.Connection, invoice_ids: Sequence[UUID]
) -> dict[UUID, KnownInvoice]:
    if not invoice_ids:
        return {}  # most cases link none: no round trip for an empty answer
    rows = await conn.fetch(
        "SELECT invoice_id, account_id, currency FROM billing_invoices "
        "WHERE invoice_id = ANY($1::uuid[])",
        list(invoice_ids),
    )
    return {
        UUID(str(r["invoice_id"])): KnownInvoice(
            UUID(str(r["invoice_id"])), UUID(str(r["account_id"])), r["currency"]
        )
        for r in rows
    }


async def invoice_label(conn: asyncpg.Connection, invoice_id: UUID) -> str | None:
    """How people name an invoice: its number and its account's name (None if not seen yet)."""
    row = await conn.fetchrow(
        "SELECT i.external_id, a.name FROM billing_invoices i LEFT JOIN billing_accounts a "
        "USING (account_id) WHERE i.invoice_id = $1",
        invoice_id,
    )
    if row is None:
        return None
    return f"{row['external_id']} ({row['name']})" if row["name"] else str(row["external_id"])


async def accounts_of_email(conn: asyncpg.Connection, email: str) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT DISTINCT account_id FROM billing_contacts WHERE email = lower($1)", email
    )
    return [UUID(str(r["account_id"])) for r in rows]
