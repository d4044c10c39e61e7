"""Search over HTTP: names with typos, numbers read out, contacts, cases, and who sees what."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from uuid import uuid4

import httpx
import pytest

from receivables_platform.contracts.billing import (
    AccountRegistered,
    AccountUpdated,
    Contact,
    InvoiceIssued,
)
from receivables_platform.contracts.cases import CaseOpened, CaseOrigin, CasePriority, CaseType
from receivables_platform.db.pool import connect
from receivables_platform.service import build_app
from receivables_platform.web.auth import issue_token
from receivables_platform.web.testserver import running_server
from reporting_service.consumers.projections import PROJECTIONS
from reporting_service.spec import SPEC
from reporting_service.testing import cloud

SECRET = "test-secret-for-reporting-search-0123456"
COLLECTOR = {"Authorization": f"Bearer {issue_token(SECRET, 'ann', ['collector'])}"}
INTEGRATION = {"Authorization": f"Bearer {issue_token(SECRET, 'erp', ['integration'])}"}
ACME, GLOBEX, INVOICE, CASE = uuid4(), uuid4(), uuid4(), uuid4()


def account(account_id, external_id, name, contacts):
    return AccountRegistered(
        account_id=account_id,
        external_id=external_id,
        name=name,
        contacts=contacts,
        payment_terms_days=30,
        currency="USD",
    )


@pytest.fixture
async def client(fresh_database) -> AsyncIterator[httpx.AsyncClient]:
    url = await fresh_database(SPEC.versions_dir)
    conn = await connect(url)
    billing = [
        account(
            ACME,
            "CUS-1001",
            "Acme Industrial Supply",
            [Contact(name="Wile Coyote", email="Wile@Acme.example", phone="+1 (555) 010-4477")],
        ),
        account(GLOBEX, "CUS-2002", "Globex Corporation", [Contact(email="ap@globex.example")]),
        InvoiceIssued(
            invoice_id=INVOICE,
            account_id=ACME,
            external_id="INV-0012345",
            currency="USD",
            total_minor=12_000,
            issue_date=date(2026, 9, 1),
            due_date=date(2026, 10, 1),
        ),
        *(
            InvoiceIssued(
                invoice_id=uuid4(),
                account_id=GLOBEX,
                external_id=f"INV-001236{n:02}",
                currency="USD",
                total_minor=100,
                issue_date=date(2026, 9, 1),
                due_date=date(2026, 10, 1),
            )
            for n in range(60)
        ),
    ]
    cases = [
        CaseOpened(
            case_id=CASE,
            case_number="CASE-000042",
            account_id=ACME,
            type=CaseType.DISPUTE,
            origin=CaseOrigin.INBOUND_PHONE,
            priority=CasePriority.HIGH,
            subject="Wrong rate",
            description="d",
            invoice_ids=[INVOICE],
            opened_by="ann",
            opened_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
            sla_target_days=14,
            sla_due_at=datetime(2026, 11, 16, 9, tzinfo=UTC),
        )
    ]
    for contract in billing:
        await PROJECTIONS["billing"].handler(conn, cloud(contract))
    for contract in cases:
        await PROJECTIONS["cases"].handler(conn, cloud(contract, source="urn:cases"))
    await conn.close()
    app = build_app(SPEC, SPEC.settings(database_url=url, jwt_secret=SECRET))
    async with running_server(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as c:
        yield c


async def found(client, q, headers=COLLECTOR, **params):
    response = await client.get("/v1/search", params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["results"]


async def test_a_misspelt_name_fragment_finds_the_account_first(client):
    for q in ("acmee", "Acne", "industrail", "  ACME  "):
        results = await found(client, q)
        assert results, q
        assert (results[0]["kind"], results[0]["id"], results[0]["title"]) == (
            "account",
            str(ACME),
            "Acme Industrial Supply",
        ), q
        assert str(GLOBEX) not in [r["id"] for r in results], q


async def test_an_invoice_number_read_out_finds_the_invoice_and_its_account(client):
    [best, *_] = await found(client, "inv-0012345")
    assert (best["kind"], best["id"], best["account_id"], best["subtitle"], best["score"]) == (
        "invoice",
        str(INVOICE),
        str(ACME),
        "Acme Industrial Supply",
        1.0,
    )


async def test_a_number_prefix_lists_invoices_within_the_limit(client):
    results = await found(client, "INV-00123", limit=5)
    assert len(results) == 5
    assert {r["kind"] for r in results} == {"invoice"}


async def test_an_external_id_finds_the_account(client):
    [best, *_] = await found(client, "cus-2002")
    assert (best["kind"], best["id"], best["score"]) == ("account", str(GLOBEX), 1.0)


async def test_emails_and_phones_in_any_punctuation_find_the_contact(client):
    for q in ("wile@acme.example", "WILE@", "555-010-4477", "5550104477", "0104477"):
        [best, *_] = await found(client, q)
        assert (best["kind"], best["account_id"]) == ("contact", str(ACME)), q
        assert best["title"] == "Wile Coyote"


async def test_a_case_number_or_its_digits_find_the_case(client):
    for q in ("CASE-000042", "case 42", "42", "case-0000"):
        results = await found(client, q)
        assert [(r["kind"], r["id"]) for r in results if r["kind"] == "case"] == [
            ("case", str(CASE))
        ], q


async def test_integrations_never_see_contacts(client):
    for q in ("wile@acme.example", "555 010 4477", "coyote"):
        assert [r for r in await found(client, q, INTEGRATION) if r["kind"] == "contact"] == []
        assert [r for r in await found(client, q) if r["kind"] == "contact"], q


async def test_results_are_ranked_best_first(client):
    results = await found(client, "acme")
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": " a  "},
        {"q": "x" * 201},
        {"q": "x" * 5000},
        {"q": "ac\x00me"},
        {"q": "ac\x07me"},
    ],
)
async def test_a_bad_query_is_a_422_naming_q(client, params):
    response = await client.get("/v1/search", params=params, headers=COLLECTOR)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "query.q"


@pytest.mark.parametrize("limit", ["0", "51", "-1", "x", "1.5"])
async def test_a_bad_limit_is_a_422_naming_limit(client, limit):
    response = await client.get(
        "/v1/search", params={"q": "acme", "limit": limit}, headers=COLLECTOR
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "query.limit"


async def test_wildcards_and_quotes_are_searched_for_literally(client):
    for q in ("%%", "__", "INV-%", "' OR 1=1 --", "\\\\"):
        results = await found(client, q)
        assert [r for r in results if r["kind"] == "invoice"] == [], q


async def test_search_needs_a_token(client):
    assert (await client.get("/v1/search", params={"q": "acme"})).status_code == 401


async def test_a_renamed_account_is_found_by_its_new_name_misspelt_not_its_old(fresh_database):
    """Misspelt names are matched word by word against the words names are made of; those
    follow a rename, so the new name is found and the old one no longer is."""
    url = await fresh_database(SPEC.versions_dir)
    conn = await connect(url)
    try:
        for contract in (
            account(ACME, "CUS-1001", "Acme Industrial Supply", []),
            account(GLOBEX, "CUS-2002", "Globex Corporation", []),
            AccountUpdated(account_id=ACME, name="Vandelay Latex Imports"),
        ):
            await PROJECTIONS["billing"].handler(conn, cloud(contract))
    finally:
        await conn.close()
    app = build_app(SPEC, SPEC.settings(database_url=url, jwt_secret=SECRET))
    async with running_server(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as c:
        for q in ("vandelya", "latx imprts", "VANDELAY"):
            [best, *_] = await found(c, q)
            assert (best["kind"], best["id"], best["title"]) == (
                "account",
                str(ACME),
                "Vandelay Latex Imports",
            ), q
        assert [r for r in await found(c, "acmee industrail") if r["kind"] == "account"] == []
        [globex, *_] = await found(c, "globx")
        assert globex["id"] == str(GLOBEX)
