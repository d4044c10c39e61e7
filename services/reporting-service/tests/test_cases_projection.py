"""Cases that change after they open: invoices linked later, a question found to be a dispute."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from uuid import uuid4

import asyncpg
import pytest

from receivables_platform.contracts.cases import (
    CaseLinked,
    CaseOpened,
    CaseOrigin,
    CasePriority,
    CaseReclassified,
    CaseType,
)
from receivables_platform.db.pool import connect
from reporting_service.consumers.projections import PROJECTIONS
from reporting_service.spec import SPEC
from reporting_service.testing import cloud

ACCOUNT, INVOICE, CASE = uuid4(), uuid4(), uuid4()
OPENED = datetime(2026, 11, 2, 9, tzinfo=UTC)
LINKED = datetime(2026, 11, 4, 9, tzinfo=UTC)


@pytest.fixture
async def conn(fresh_database) -> AsyncIterator[asyncpg.Connection]:
    connection = await connect(await fresh_database(SPEC.versions_dir))
    yield connection
    await connection.close()


async def test_an_emailed_question_linked_to_an_invoice_and_reclassified_as_a_dispute(
    conn: asyncpg.Connection,
) -> None:
    events = [
        CaseOpened(
            case_id=CASE,
            case_number="CASE-000042",
            account_id=ACCOUNT,
            type=CaseType.BILLING_INQUIRY,
            origin=CaseOrigin.INBOUND_EMAIL,
            priority=CasePriority.NORMAL,
            subject="Seats",
            description="3 seats?",
            invoice_ids=[],
            opened_by="inbound-email",
            opened_at=OPENED,
            sla_target_days=14,
            sla_due_at=OPENED,
        ),
        CaseLinked(
            case_id=CASE,
            account_id=ACCOUNT,
            type=CaseType.BILLING_INQUIRY,
            invoice_ids=[INVOICE],
            added_invoice_ids=[INVOICE],
            linked_by="agent",
            linked_at=LINKED,
        ),
        CaseReclassified(
            case_id=CASE,
            account_id=ACCOUNT,
            type=CaseType.DISPUTE,
            previous_type=CaseType.BILLING_INQUIRY,
            invoice_ids=[INVOICE],
            reason="refuses to pay the third seat",
            reclassified_by="agent",
            reclassified_at=LINKED,
        ),
    ]
    envelopes = [cloud(contract, source="urn:cases") for contract in events]
    for _ in range(2):  # redelivered: changes nothing
        for envelope in envelopes:
            await PROJECTIONS["cases"].handler(conn, envelope)

    case = await conn.fetchrow("SELECT type, invoice_ids FROM cases WHERE case_id = $1", CASE)
    assert (case["type"], case["invoice_ids"]) == ("dispute", [INVOICE])
    flags = await conn.fetch(
        "SELECT invoice_id, since_date FROM ar_invoice_flags "
        "WHERE flag = 'dispute' AND source = $1",
        str(CASE),
    )
    assert [(f["invoice_id"], f["since_date"]) for f in flags] == [(INVOICE, date(2026, 11, 4))]
