"""The account timeline over HTTP: everything in order, pages that hold, kinds, rebuilds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from uuid import uuid4

import httpx
import pytest

from receivables_platform.contracts.billing import (
    AccountRegistered,
    AccountUpdated,
    AdjustmentKind,
    ApprovalAction,
    ApprovalGranted,
    ApprovalRequested,
    InvoiceAdjusted,
    InvoiceIssued,
    PaymentApplied,
)
from receivables_platform.contracts.cases import (
    Attachment,
    CaseCustomerConfirmed,
    CaseCustomerUpdated,
    CaseEscalated,
    CaseEscalationAnswered,
    CaseLinked,
    CaseNoteAdded,
    CaseOpened,
    CaseOrigin,
    CasePriority,
    CaseType,
    CustomerChannel,
    EscalationTeam,
    NoteSource,
)
from receivables_platform.contracts.collections import (
    AccountNoteAdded,
    AccountProfileChanged,
    Channel,
    CommitmentBroken,
    CommitmentMade,
    ContactAttempted,
    ContactOutcome,
    HoldPlaced,
    HoldSource,
    ProfileFieldChange,
)
from receivables_platform.db.pool import connect
from receivables_platform.envelope import CloudEvent
from receivables_platform.service import build_app
from receivables_platform.web.auth import issue_token
from receivables_platform.web.testserver import running_server
from reporting_service.consumers.projections import PROJECTIONS
from reporting_service.spec import SPEC
from reporting_service.testing import cloud

SECRET = "test-secret-for-reporting-timeline-0123"
COLLECTOR = {"Authorization": f"Bearer {issue_token(SECRET, 'ann', ['collector'])}"}
ACCOUNT, INVOICE, CASE, PROMISE = uuid4(), uuid4(), uuid4(), uuid4()


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def story() -> dict[str, list]:
    """An account's November; the email case is opened before anyone knew the account."""
    return {
        "billing": [
            AccountRegistered(
                account_id=ACCOUNT,
                external_id="CUS-7",
                name="Acme",
                contacts=[],
                payment_terms_days=30,
                currency="USD",
            ),
            InvoiceIssued(
                invoice_id=INVOICE,
                account_id=ACCOUNT,
                external_id="INV-7",
                currency="USD",
                total_minor=12_000,
                issue_date=date(2026, 11, 1),
                due_date=date(2026, 11, 3),
            ),
            PaymentApplied(
                payment_id=uuid4(),
                account_id=ACCOUNT,
                invoice_id=INVOICE,
                amount_minor=2_000,
                currency="USD",
                remaining_minor=10_000,
                applied_on=date(2026, 11, 9),
            ),
        ],
        "collections": [
            ContactAttempted(
                contact_id=uuid4(),
                account_id=ACCOUNT,
                collector_id="ann",
                channel=Channel.CALL,
                outcome=ContactOutcome.REACHED_PROMISED,
                invoice_ids=[INVOICE],
                amount_past_due_minor=12_000,
                currency="USD",
                attempted_at=at(4),
                business_date=date(2026, 11, 4),
            ),
            CommitmentMade(
                commitment_id=PROMISE,
                account_id=ACCOUNT,
                collector_id="ann",
                amount_minor=6_000,
                currency="USD",
                promised_date=date(2026, 11, 6),
                grace_days=0,
                invoice_ids=[INVOICE],
                channel=Channel.CALL,
                made_on=date(2026, 11, 4),
                made_at=at(4, 10),
            ),
            CommitmentBroken(
                commitment_id=PROMISE,
                account_id=ACCOUNT,
                collector_id="ann",
                amount_minor=6_000,
                paid_minor=0,
                currency="USD",
                promised_date=date(2026, 11, 6),
                broken_on=date(2026, 11, 7),
            ),
            HoldPlaced(
                hold_id=uuid4(),
                account_id=ACCOUNT,
                invoice_ids=[INVOICE],
                source=HoldSource.MANUAL,
                reason="customer disputes the rate",
                placed_by="ann",
                placed_on=date(2026, 11, 12),
            ),
        ],
        "cases": [
            CaseOpened(
                case_id=CASE,
                case_number="CASE-000042",
                account_id=None,
                type=CaseType.DISPUTE,
                origin=CaseOrigin.INBOUND_EMAIL,
                priority=CasePriority.HIGH,
                subject="Wrong rate",
                description="d",
                invoice_ids=[],
                opened_by="mailbox",
                opened_at=at(10),
                sla_target_days=14,
                sla_due_at=at(24),
            ),
            CaseNoteAdded(
                case_id=CASE,
                account_id=None,
                note_id=uuid4(),
                body="The rate...",
                source=NoteSource.INBOUND_EMAIL,
                author="mailbox",
                added_at=at(10),
                email_from="wile@acme.example",
                email_subject="Wrong rate",
            ),
            CaseLinked(
                case_id=CASE,
                account_id=ACCOUNT,
                type=CaseType.DISPUTE,
                invoice_ids=[INVOICE],
                added_invoice_ids=[INVOICE],
                linked_by="cal",
                linked_at=at(11),
            ),
            CaseEscalated(
                case_id=CASE,
                account_id=ACCOUNT,
                escalation_id=uuid4(),
                team=EscalationTeam.BILLING_OPERATIONS,
                question="Which rate?",
                due_date=date(2026, 11, 14),
                escalated_by="cal",
                escalated_at=at(13),
            ),
            CaseCustomerUpdated(
                case_id=CASE,
                account_id=ACCOUNT,
                update_id=uuid4(),
                channel=CustomerChannel.PHONE,
                summary="Explained the rate",
                sent_by="cal",
                sent_at=at(14),
            ),
            CaseCustomerConfirmed(
                case_id=CASE,
                account_id=ACCOUNT,
                confirmed_by_name="Wile",
                channel=CustomerChannel.EMAIL,
                confirmed_at=at(15),
                recorded_by="cal",
                recorded_at=at(15),
            ),
        ],
    }


def published(events: dict[str, list]) -> list[tuple[str, CloudEvent]]:
    """The envelopes once, so a replay delivers the very same events (same ids)."""
    envelopes = []
    for name, contracts in events.items():
        for contract in contracts:
            if getattr(contract, "account_id", None) is None:  # keyed by the case instead
                event = cloud(contract.model_copy(update={"account_id": CASE}))
                event = event.model_copy(update={"data": contract.payload()})
            else:
                event = cloud(contract)
            envelopes.append((name, event))
    return envelopes


async def project(url: str, envelopes: list[tuple[str, CloudEvent]]) -> None:
    conn = await connect(url)
    for name, event in envelopes:
        await PROJECTIONS[name].handler(conn, event)
    await conn.close()


@pytest.fixture
def history() -> list[tuple[str, CloudEvent]]:
    return published(story())


@pytest.fixture
async def database(fresh_database, history) -> str:
    url = await fresh_database(SPEC.versions_dir)
    await project(url, history)
    return url


@pytest.fixture
async def client(database) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(SPEC, SPEC.settings(database_url=database, jwt_secret=SECRET))
    async with running_server(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as c:
        yield c


async def timeline(client, **params):
    response = await client.get(
        f"/v1/accounts/{ACCOUNT}/timeline", params=params, headers=COLLECTOR
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_everything_that_happened_newest_first(client):
    page = await timeline(client)
    assert page["account_id"] == str(ACCOUNT) and page["next_cursor"] is None
    entries = page["entries"]
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
    kinds = [e["kind"] for e in reversed(entries)]
    assert kinds == [
        "invoice",
        "call",
        "promise",
        "promise",
        "payment",
        "case",
        "email",
        "case",
        "hold",
        "case",
        "call",
        "case",
    ]
    titles = [e["title"] for e in reversed(entries)]
    assert titles[0] == "Invoice INV-7 issued"
    assert titles[3] == "Promise to pay by 2026-11-06 broken"
    assert titles[4] == "Payment applied to invoice INV-7"
    assert titles[6] == "CASE-000042: email from wile@acme.example: Wrong rate"
    assert titles[9] == "CASE-000042: escalated to billing operations"
    assert all(e["event_id"] for e in entries)


async def test_a_call_on_the_case_and_its_emails_are_contact_history_naming_the_case(client):
    contacts = (await timeline(client, kind=["call", "email"]))["entries"]
    assert [(e["kind"], e["detail"].get("case_number")) for e in contacts] == [
        ("call", "CASE-000042"),
        ("email", "CASE-000042"),
        ("call", None),
    ]
    assert contacts[0]["detail"]["summary"] == "Explained the rate"


async def test_pages_follow_the_cursor_without_repeats_while_entries_arrive(client, database):
    first = await timeline(client, limit=5)
    assert len(first["entries"]) == 5 and first["next_cursor"]
    # a payment arrives while the collector reads: newer than the first page, it stays out
    # of the next pages, which neither repeat nor skip what was there
    await project(
        database,
        published(
            {
                "billing": [
                    PaymentApplied(
                        payment_id=uuid4(),
                        account_id=ACCOUNT,
                        invoice_id=INVOICE,
                        amount_minor=1_000,
                        currency="USD",
                        remaining_minor=9_000,
                        applied_on=date(2026, 11, 30),
                    )
                ]
            }
        ),
    )
    seen = [e["event_id"] for e in first["entries"]]
    cursor = first["next_cursor"]
    while cursor:
        page = await timeline(client, limit=5, cursor=cursor)
        seen += [e["event_id"] for e in page["entries"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 12
    assert len((await timeline(client))["entries"]) == 13


async def test_a_kind_filter_keeps_only_those_kinds(client):
    promises = (await timeline(client, kind="promise"))["entries"]
    assert [e["detail"]["status"] for e in promises] == ["broken", "open"]


async def test_profile_edits_and_notes_show_who_changed_what(client, database):
    await project(
        database,
        published(
            {
                "billing": [
                    AccountUpdated(
                        account_id=ACCOUNT,
                        payment_terms_days=45,
                        segment_cleared=True,
                        actor="ops-olga",
                    ),
                    InvoiceAdjusted(
                        invoice_id=INVOICE,
                        account_id=ACCOUNT,
                        adjustment_id=uuid4(),
                        kind=AdjustmentKind.CREDIT,
                        amount_minor=700_000,
                        currency="USD",
                        reason_code="goodwill",
                        effective_date=date(2026, 11, 17),
                        actor="cal",
                        approved_by="sue",
                    ),
                ],
                "collections": [
                    AccountProfileChanged(
                        account_id=ACCOUNT,
                        changed_by="ann",
                        profile_version=2,
                        changes=[
                            ProfileFieldChange(
                                field="preferred_channel", before="email", after="call"
                            )
                        ],
                    ),
                    AccountNoteAdded(
                        account_id=ACCOUNT, note_id=uuid4(), body="pays on day 45", author="ann"
                    ),
                ],
            }
        ),
    )
    profile = (await timeline(client, kind="profile"))["entries"]
    assert sorted(e["title"] for e in profile) == [
        "Billing profile changed: payment terms days, segment (by ops-olga)",
        "Customer profile changed: preferred channel (by ann)",
    ]
    billing = next(e for e in profile if e["title"].startswith("Billing"))
    assert billing["detail"] == {
        "changed": {"payment_terms_days": 45, "segment": None},
        "actor": "ops-olga",
    }
    collections = next(e for e in profile if e["title"].startswith("Customer"))
    assert collections["detail"]["changes"] == [
        {"field": "preferred_channel", "before": "email", "after": "call"}
    ]
    [credit] = (await timeline(client, kind="adjustment"))["entries"]
    assert (credit["detail"]["actor"], credit["detail"]["approved_by"]) == ("cal", "sue")
    [note] = (await timeline(client, kind="note"))["entries"]
    assert (note["title"], note["detail"]["body"]) == ("Note by ann", "pays on day 45")


async def test_attachments_approvals_and_escalation_answers_are_on_the_timeline(client, database):
    approval = uuid4()
    await project(
        database,
        published(
            {
                "billing": [
                    ApprovalRequested(
                        approval_id=approval,
                        account_id=ACCOUNT,
                        invoice_id=INVOICE,
                        action=ApprovalAction.CREDIT,
                        amount_minor=900_000,
                        currency="USD",
                        threshold_minor=500_000,
                        reason_code="goodwill",
                        effective_date=date(2026, 11, 16),
                        case_id=str(CASE),
                        requested_by="cal",
                        requested_at=at(16),
                    ),
                    ApprovalGranted(
                        approval_id=approval,
                        account_id=ACCOUNT,
                        invoice_id=INVOICE,
                        action=ApprovalAction.CREDIT,
                        approved_by="sue",
                        approved_at=at(16, 11),
                    ),
                ],
                "cases": [
                    CaseNoteAdded(
                        case_id=CASE,
                        account_id=ACCOUNT,
                        note_id=uuid4(),
                        body="Contract",
                        author="cal",
                        added_at=at(16, 10),
                        attachments=[
                            Attachment(
                                filename="contract.pdf",
                                content_type="application/pdf",
                                size_bytes=1234,
                                sha256="ab" * 32,
                            )
                        ],
                    ),
                    CaseEscalationAnswered(
                        case_id=CASE,
                        account_id=ACCOUNT,
                        escalation_id=uuid4(),
                        team=EscalationTeam.BILLING_OPERATIONS,
                        answer="The contract rate applies",
                        answered_by="olga",
                        answered_at=at(16, 12),
                        overdue=True,
                    ),
                ],
            }
        ),
    )
    newest = (await timeline(client, limit=4))["entries"]
    assert [(e["kind"], e["title"]) for e in newest] == [
        ("case", "CASE-000042: billing operations answered (overdue)"),
        ("approval", "Credit on invoice INV-7 approved by sue"),
        ("case", "CASE-000042: note by cal [attached: contract.pdf]"),
        ("approval", "Credit on invoice INV-7 awaits approval (requested by cal)"),
    ]
    assert newest[0]["detail"]["answer"] == "The contract rate applies"
    assert newest[2]["detail"]["attachments"][0]["sha256"] == "ab" * 32
    assert (newest[3]["detail"]["amount_minor"], newest[3]["detail"]["currency"]) == (
        900_000,
        "USD",
    )
    only = (await timeline(client, kind="approval"))["entries"]
    assert [e["detail"]["approval_id"] for e in only] == [str(approval)] * 2


async def test_a_rebuild_reproduces_the_timeline(client, database, history):
    before = (await timeline(client))["entries"]
    conn = await connect(database)
    for projection in PROJECTIONS.values():
        for statement in projection.reset_sql:
            await conn.execute(statement)
    assert await conn.fetchval("SELECT count(*) FROM account_timeline") == 0
    await conn.close()
    await project(database, history)
    assert (await timeline(client))["entries"] == before


async def test_an_unknown_account_is_a_404_problem(client):
    response = await client.get(f"/v1/accounts/{uuid4()}/timeline", headers=COLLECTOR)
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "path.account_id"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "invoices"}, "query.kind"),
        ({"kind": ["call", "x" * 500]}, "query.kind"),
        ({"limit": "0"}, "query.limit"),
        ({"limit": "201"}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
        ({"cursor": "W10"}, "query.cursor"),
        ({"cursor": "WyJ4IiwgMV0"}, "query.cursor"),
        ({"cursor": "x" * 2000}, "query.cursor"),
    ],
)
async def test_bad_parameters_are_422_problems_naming_the_field(client, params, field):
    response = await client.get(
        f"/v1/accounts/{ACCOUNT}/timeline", params=params, headers=COLLECTOR
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == field
