"""The account summary a collector console shows, and teams set by supervisors, over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from uuid import uuid4

import httpx
import pytest

from receivables_platform.contracts.billing import AccountRegistered, InvoiceIssued
from receivables_platform.contracts.cases import CaseOpened, CaseOrigin, CasePriority, CaseType
from receivables_platform.contracts.collections import (
    AccountAssigned,
    AssignmentBasis,
    Channel,
    CommitmentMade,
    ContactAttempted,
    ContactOutcome,
)
from receivables_platform.db.pool import connect
from receivables_platform.service import build_app
from receivables_platform.web.auth import issue_token
from receivables_platform.web.testserver import running_server
from reporting_service.consumers.projections import PROJECTIONS
from reporting_service.spec import SPEC
from reporting_service.testing import cloud

SECRET = "test-secret-for-reporting-accounts-0123"
COLLECTOR = {"Authorization": f"Bearer {issue_token(SECRET, 'ann', ['collector'])}"}
SUPERVISOR = {"Authorization": f"Bearer {issue_token(SECRET, 'sue', ['supervisor'])}"}
ACCOUNT, INVOICE, CASE = uuid4(), uuid4(), uuid4()


def at(day: int) -> datetime:
    return datetime(2026, 11, day, 9, tzinfo=UTC)


@pytest.fixture
async def client(fresh_database) -> AsyncIterator[httpx.AsyncClient]:
    url = await fresh_database(SPEC.versions_dir)
    conn = await connect(url)
    events = {
        "billing": [
            AccountRegistered(
                account_id=ACCOUNT,
                external_id="CUS-7",
                name="Acme",
                contacts=[],
                payment_terms_days=30,
                segment="smb",
                currency="USD",
            ),
            InvoiceIssued(
                invoice_id=INVOICE,
                account_id=ACCOUNT,
                external_id="INV-7",
                currency="USD",
                total_minor=12_000,
                issue_date=date(2026, 9, 1),
                due_date=date(2026, 10, 1),
            ),
        ],
        "collections": [
            AccountAssigned(
                account_id=ACCOUNT,
                collector_id="ann",
                basis=AssignmentBasis.EXPLICIT,
                assigned_by="sue",
                effective_on=date(2026, 10, 2),
            ),
            *(
                ContactAttempted(
                    contact_id=uuid4(),
                    account_id=ACCOUNT,
                    collector_id="ann",
                    channel=Channel.CALL,
                    outcome=outcome,
                    invoice_ids=[INVOICE],
                    amount_past_due_minor=12_000,
                    currency="USD",
                    attempted_at=at(day),
                    business_date=date(2026, 11, day),
                )
                for day, outcome in (
                    (10, ContactOutcome.NO_ANSWER),
                    (12, ContactOutcome.REACHED_PROMISED),
                )
            ),
            CommitmentMade(
                commitment_id=uuid4(),
                account_id=ACCOUNT,
                collector_id="ann",
                amount_minor=6_000,
                currency="USD",
                promised_date=date(2026, 11, 30),
                grace_days=2,
                invoice_ids=[INVOICE],
                channel=Channel.CALL,
                made_on=date(2026, 11, 12),
                made_at=at(12),
            ),
        ],
        "cases": [
            CaseOpened(
                case_id=CASE,
                case_number="CASE-000042",
                account_id=ACCOUNT,
                type=CaseType.DISPUTE,
                origin=CaseOrigin.COLLECTIONS,
                priority=CasePriority.HIGH,
                subject="Wrong rate",
                description="d",
                invoice_ids=[INVOICE],
                opened_by="ann",
                opened_at=at(12),
                sla_target_days=14,
                sla_due_at=at(26),
            )
        ],
    }
    for name, contracts in events.items():
        for contract in contracts:
            await PROJECTIONS[name].handler(conn, cloud(contract, source=f"urn:{name}"))
    await conn.close()
    app = build_app(SPEC, SPEC.settings(database_url=url, jwt_secret=SECRET))
    app.state.clock = lambda: at(20)
    async with running_server(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as c:
        yield c


async def test_the_summary_has_balance_buckets_contact_promises_cases_and_collector(client):
    response = await client.get(f"/v1/accounts/{ACCOUNT}/summary", headers=COLLECTOR)
    assert response.status_code == 200, response.text
    summary = response.json()
    assert (summary["name"], summary["segment"], summary["collector_id"], summary["as_of"]) == (
        "Acme",
        "smb",
        "ann",
        "2026-11-20",
    )
    [usd] = summary["balances"]
    # due 1 October, 50 days past due on 20 November; disputed by the open case
    assert (usd["currency"], usd["total_minor"], usd["buckets"]["31-60"]) == ("USD", 12_000, 12_000)
    assert usd["in_dispute_minor"] == 12_000
    assert summary["last_contact"]["outcome"] == "reached_promised"
    assert [p["amount_minor"] for p in summary["open_promises"]] == [6_000]
    assert [c["case_number"] for c in summary["open_cases"]] == ["CASE-000042"]


async def test_an_unknown_account_is_a_404_naming_it(client):
    response = await client.get(f"/v1/accounts/{uuid4()}/summary", headers=COLLECTOR)
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "path.account_id"


async def test_a_summary_as_of_a_day_outside_the_business_dates_is_a_422(client):
    for as_of in ("9999-12-31", "0001-01-01", "0", "1700000000"):
        response = await client.get(
            f"/v1/accounts/{ACCOUNT}/summary", headers=COLLECTOR, params={"as_of": as_of}
        )
        assert response.status_code == 422, (as_of, response.text)
        assert response.json()["errors"][0]["field"] == "query.as_of"


async def test_supervisors_put_collectors_in_teams_and_aging_follows(client):
    assert (
        await client.put("/v1/collectors/ann/team", headers=COLLECTOR, json={"team": "east"})
    ).status_code == 403
    assert (
        await client.put("/v1/collectors/ann/team", headers=SUPERVISOR, json={"team": ""})
    ).status_code == 422
    response = await client.put(
        "/v1/collectors/ann/team", headers=SUPERVISOR, json={"team": "east"}
    )
    assert response.status_code == 200
    aging = await client.get(
        "/v1/aging", headers=COLLECTOR, params={"group_by": "team", "as_of": "2026-11-20"}
    )
    assert [(r["team"], r["total_minor"]) for r in aging.json()["rows"]] == [("east", 12_000)]
