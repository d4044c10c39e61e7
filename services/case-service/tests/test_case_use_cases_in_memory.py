"""The case use cases over in-memory fakes: what they decide, append and write with the
events, checked without a database (the same use cases run over PostgreSQL in
test_case_api.py and test_corrections_and_sla.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest

from case_service.domain.case import evolve
from case_service.domain.state import Case
from case_service.service_layer.cases import CaseStore, execute, get_case
from case_service.testing import ACCOUNT, CASE, T0, at, note, open_case, status
from receivables_devkit.testing.fakes import InMemoryRepository
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.cases import CaseNoteAdded, CaseOpened, CaseStatus
from receivables_platform.domain import NotFound, Refused
from receivables_platform.web.etag import Precondition, version_check
from receivables_platform.web.problems import Problem


class Rows:
    """The case row and notifications the use case writes with the events, as calls."""

    def __init__(self, fail: bool = False) -> None:
        self.written: list[tuple[CaseStatus, int, datetime]] = []
        self.fail = fail

    async def __call__(self, conn: object, state: Case, events: Sequence[EventContract],
                       at: datetime) -> None:
        if self.fail:
            raise RuntimeError("the row write failed")
        self.written.append((state.status, len(events), at))


@pytest.fixture
def repository() -> InMemoryRepository[Case]:
    return InMemoryRepository(prefix="case", initial=Case, evolve=evolve)


@pytest.fixture
def rows() -> Rows:
    return Rows()


@pytest.fixture
def store(repository: InMemoryRepository[Case], rows: Rows) -> CaseStore:
    return CaseStore(repository, rows)


async def test_opening_appends_the_opened_event_keyed_by_the_account_and_writes_the_row(
        store, repository, rows):
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
        await execute(None, open_case(), store=CaseStore(repository, Rows(fail=True)))
    assert repository.events(CASE) == []


async def test_a_case_never_opened_is_not_found(store):
    with pytest.raises(NotFound):
        await get_case(None, CASE, store=store)
