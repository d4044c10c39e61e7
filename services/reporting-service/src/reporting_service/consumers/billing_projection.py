"""Projects `billing.events.v1` into the AR read model.

Runs inside the consumer runner's transaction; redeliveries never reach it
(the runner dedupes by CloudEvents id). Events may arrive out of order across
streams, so every write is an upsert that fills what it knows.
"""

from __future__ import annotations

import asyncpg

from receivables_platform.contracts.base import decode
from receivables_platform.contracts.billing import InvoiceIssued
from receivables_platform.envelope import CloudEvent

HANDLED = {InvoiceIssued.event_type}


async def project_billing_event(conn: asyncpg.Connection, event: CloudEvent) -> None:
    if event.type not in HANDLED:
        return
    contract = decode(event.type, event.schemaversion, event.data)
    if isinstance(contract, InvoiceIssued):
        await _invoice_issued(conn, contract)


async def _invoice_issued(conn: asyncpg.Connection, e: InvoiceIssued) -> None:
    await conn.execute(
        """
        INSERT INTO ar_invoices (invoice_id, account_id, external_id, currency, total_minor,
                                 issue_date, due_date)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (invoice_id) DO UPDATE SET
            account_id = EXCLUDED.account_id, external_id = EXCLUDED.external_id,
            currency = EXCLUDED.currency, total_minor = EXCLUDED.total_minor,
            issue_date = EXCLUDED.issue_date, due_date = EXCLUDED.due_date, updated_at = now()
        """,
        e.invoice_id, e.account_id, e.external_id, e.currency, e.total_minor, e.issue_date,
        e.due_date,
    )
