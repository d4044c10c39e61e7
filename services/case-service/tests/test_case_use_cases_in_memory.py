"""The case use cases over in-memory fakes: what they decide, append and write with the
events, checked without a database (the same use cases run over PostgreSQL in
test_case_api.py and test_corrections_and_sla.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid4

import pytest

from case_service.adapters.billing_view import KnownInvoice
from case_service.domain import commands as c
from case_service.domain.case import evolve
from case_service.domain.state import Case
from case_service.service_layer import cases
from case_service.service_layer.cases import CaseStore, execute, get_case
from case_service.testing import ACCOUNT, AGENT, CASE, INVOICE, T0, at, note, open_case, status
from receivables_devkit.testing.fakes import (
    InMemoryRepository,
    InMemoryTable,
    InMemoryTransactions,
)
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.cases import (
    CaseNoteAdded,
    CaseOpened,
    CaseStatus,
    CorrectionDirection,
)
from receivables_platform.domain import NotFound, Refused
from receivables_platform.web.etag import Precondition, version_check
from receivables_platform.web.problems import Problem


class Rows:
    """The case row and notifications the use case writes with the events, as calls."""

    def __init__(self, fail: bool = False) -> None:
        self.written: list[tuple[CaseStatus, int, datetime]] = []
        self.fail = fail

    async def __call__(
        self, conn: object, state: Case, events: Sequence[EventContract], at: datetime
    ) -> None:
        if self.fail:
            raise RuntimeError("the row write failed")
        self.written.append((state.status, len(events), at))


class Billing(InMemoryTable):
    """Billing's accounts and invoices as case-service learnt them: (kind, id) -> row."""

    async def account_exists(self, conn: object, account_id: UUID, /) -> bool:
        return ("account", account_id) in self.rows

    async def invoices(
        self, conn: object, invoice_ids: Sequence[UUID], /
    ) -> dict[UUID, KnownInvoice]:
        return {i: self.rows[("invoice", i)] for i in invoice_ids if ("invoice", i) in self.rows}


class Agents(InMemoryTable):
    async def register_on_first_use(self, conn: object, user_id: str, /) -> None:
        self.rows.setdefault((user_id,), True)

    async def is_active_agent(self, conn: object, user_id: str, /) -> bool:
        return bool(self.rows.get((user_id,)))


class Numbers(InMemoryTable):
    async def __call__(self, conn: object) -> str:
        self.rows[("last",)] = number = self.rows.get(("last",), 0) + 1
        return f"CASE-{number:06d}"


@pytest.fixture
def repository() -> InMemoryRepository[Case]:
    return InMemoryRepository(prefix="case", initial=Case, evolve=evolve)


@pytest.fixture
def rows() -> Rows:
    return Rows()


@pytest.fixture
def billing() -> Billing:
    known = Billing()
    known.rows[("account", ACCOUNT)] = True
    known.rows[("invoice", INVOICE)] = KnownInvoice(INVOICE, ACCOUNT, "EUR")
    return known


@pytest.fixture
def agents() -> Agents:
    return Agents()


def case_store(
    repository: InMemoryRepository[Case],
    rows: Rows,
    billing: Billing | None = None,
    agents: Agents | None = None,
) -> CaseStore:
    billing, agents, numbers = billing or Billing(), agents or Agents(), Numbers()
    return CaseStore(
        repository,
        rows,
        billing,
        agents,
        numbers,
        InMemoryTransactions(repository, billing, agents, numbers),
    )


@pytest.fixture
def store(repository, rows, billing, agents) -> CaseStore:
    return case_store(repository, rows, billing, agents)


async def test_opening_appends_the_opened_event_keyed_by_the_account_and_writes_the_row(
    store, repository, rows
):
    loaded = await execute(None, open_case(), store=store)
    assert loaded.version == 1 and loaded.state.status is CaseStatus.NEW
    [opened] = repository.events(CASE)
    assert isinstance(opened, CaseOpened) and opened.case_number == "CASE-000001"
    assert repository.streams[f"case-{CASE}"][0].subject == str(ACCOUNT)
    assert rows.written == [(CaseStatus.NEW, 1, T0)]


async def test_a_case_without_an_account_is_keyed_by_its_own_id(store, repository):
    await execute(None, open_case(account_id=None, invoice_ids=()), store=store)
    assert repository.streams[f"case-{CASE}"][0].subject == str(CASE)


async def test_later_commands_decide_on_the_state_folded_from_the_stream(store, repository):
    await execute(None, open_case(), store=store)
    await execute(None, status(CaseStatus.INVESTIGATING), store=store)
    loaded = await execute(None, note(), store=store)
    assert loaded.version == 3 and loaded.state.status is CaseStatus.INVESTIGATING
    assert isinstance(repository.events(CASE)[-1], CaseNoteAdded)
    assert (await get_case(None, CASE, store=store)).version == 3


async def test_a_refused_command_appends_nothing_and_writes_no_row(store, repository, rows):
    await execute(None, open_case(), store=store)
    with pytest.raises(Refused):
        await execute(None, open_case(at=at(1)), store=store)
    assert len(repository.events(CASE)) == 1 and len(rows.written) == 1


async def test_a_stale_if_match_is_refused_before_anything_is_decided(store, repository, rows):
    await execute(None, open_case(), store=store)
    stale = version_check(Precondition(frozenset({0})))
    with pytest.raises(Problem) as refused:
        await execute(None, status(CaseStatus.INVESTIGATING), check=stale, store=store)
    assert refused.value.status == 412
    assert len(repository.events(CASE)) == 1 and len(rows.written) == 1


async def test_events_roll_back_with_a_row_write_that_fails(repository):
    with pytest.raises(RuntimeError):
        await execute(None, open_case(), store=case_store(repository, Rows(fail=True)))
    assert repository.events(CASE) == []


async def test_a_case_never_opened_is_not_found(store):
    with pytest.raises(NotFound):
        await get_case(None, CASE, store=store)


async def test_opened_cases_are_numbered_in_turn(store, repository):
    first = await cases.open_case(None, open_case(case_number=""), store=store)
    second = await cases.open_case(None, open_case(case_id=uuid4(), case_number=""), store=store)
    assert (first.state.case_number, second.state.case_number) == ("CASE-000001", "CASE-000002")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"account_id": uuid4()}, "account_id"),
        ({"invoice_ids": (uuid4(),)}, "body.invoice_ids.0"),
        ({"account_id": None}, "account_id"),
    ],
)
async def test_a_case_links_only_an_account_billing_knows_and_that_account_s_invoices(
    store, repository, change, field
):
    with pytest.raises(Refused) as refused:
        await cases.open_case(None, open_case(**change), store=store)
    assert refused.value.field == field and repository.events(CASE) == []


async def test_an_owner_must_be_an_active_agent_unless_they_take_the_case_themselves(store, agents):
    with pytest.raises(Refused) as refused:
        await cases.open_case(None, open_case(owner_id="pat"), store=store)
    assert refused.value.field == "owner_id"
    opened = await cases.open_case(
        None, open_case(owner_id=AGENT), owner_registers=True, store=store
    )
    assert opened.state.owner_id == AGENT and agents.rows == {(AGENT,): True}


async def test_a_correction_is_requested_in_the_invoice_s_currency_or_refused(store):
    await cases.open_case(None, open_case(), store=store)

    def correction(**change: object) -> c.RequestCorrection:
        return replace(
            c.RequestCorrection(
                case_id=CASE,
                correction_id=uuid4(),
                invoice_id=INVOICE,
                amount_minor=500,
                direction=CorrectionDirection.CREDIT,
                currency="",
                reason="Billed twice",
                reason_code="DUPLICATE",
                actor=AGENT,
                at=at(1),
            ),
            **change,
        )

    with pytest.raises(Refused) as refused:
        await cases.request_correction(None, correction(currency="USD"), check=None, store=store)
    assert refused.value.field == "currency"
    with pytest.raises(Refused) as refused:
        await cases.request_correction(
            None, correction(invoice_id=uuid4()), check=None, store=store
        )
    assert refused.value.field == "invoice_id"
    requested = await cases.request_correction(None, correction(), check=None, store=store)
    assert requested.version == 2
