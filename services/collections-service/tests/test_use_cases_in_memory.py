"""Use cases against in-memory aggregates: the use case's own logic (which aggregates it
asks, what it appends where) without a database; the same use cases run over PostgreSQL in
the API tests."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID, uuid4

from collections_service.domain import account as account_domain
from collections_service.domain import autopay as autopay_domain
from collections_service.domain.account import CollectionAccount
from collections_service.domain.autopay import MakeOffer, Offer
from collections_service.service_layer.autopay import credit_enrolment
from collections_service.service_layer.holds import release_case_holds
from receivables_platform.contracts.collections import (
    AutoPayConverted,
    Channel,
    HoldPlaced,
    HoldRelease,
    HoldReleased,
    HoldSource,
)
from receivables_platform.ids import new_id

from .fakes import InMemoryAggregates

ACCOUNT, OTHER_ACCOUNT = uuid4(), uuid4()
ENROLLED = date(2026, 11, 20)


def offer_book() -> InMemoryAggregates[Offer]:
    return InMemoryAggregates(Offer, autopay_domain.evolve)


def offered(book: InMemoryAggregates[Offer], days_before: int, by: str = "kim") -> UUID:
    offer_id = new_id()
    book.given(
        offer_id,
        *autopay_domain.make(
            MakeOffer(offer_id, ACCOUNT, Channel.CALL, by, ENROLLED - timedelta(days=days_before)),
            on_autopay=False,
        ),
    )
    return offer_id


async def test_an_enrolment_converts_the_newest_offer_in_the_window_once() -> None:
    book = offer_book()
    old, newest, middle = offered(book, 40), offered(book, 2, "lee"), offered(book, 20)
    credited = await credit_enrolment(book, [old, newest, middle], ACCOUNT, ENROLLED)
    assert credited == newest
    [converted] = book.streams[newest][1:]
    assert isinstance(converted, AutoPayConverted) and converted.collector_id == "lee"
    assert book.keys[newest] == ACCOUNT
    assert len(book.streams[old]) == len(book.streams[middle]) == 1
    # each offer converts once: a later enrolment goes to the next newest, then to nobody
    assert await credit_enrolment(book, [old, newest, middle], ACCOUNT, ENROLLED) == middle
    assert await credit_enrolment(book, [old, newest, middle], ACCOUNT, ENROLLED) is None
    assert [len(book.streams[o]) for o in (old, newest, middle)] == [1, 2, 2]


async def test_an_enrolment_with_no_offer_in_the_window_credits_nobody() -> None:
    book = offer_book()
    too_old = offered(book, 31)
    assert await credit_enrolment(book, [too_old], ACCOUNT, ENROLLED) is None
    assert await credit_enrolment(book, [], ACCOUNT, ENROLLED) is None
    assert len(book.streams[too_old]) == 1


def account_book() -> InMemoryAggregates[CollectionAccount]:
    return InMemoryAggregates(CollectionAccount, account_domain.evolve)


def hold(account_id: UUID, case_id: str | None) -> tuple[UUID, HoldPlaced]:
    hold_id = uuid4()
    return hold_id, HoldPlaced(
        hold_id=hold_id,
        account_id=account_id,
        invoice_ids=[uuid4()],
        source=HoldSource.CASE if case_id else HoldSource.MANUAL,
        reason="disputed",
        case_id=case_id,
        placed_on=ENROLLED,
    )


async def test_a_closed_case_lifts_its_holds_and_no_other() -> None:
    book = account_book()
    opened, opened_event = hold(ACCOUNT, "case-7")
    linked, linked_event = hold(ACCOUNT, "case-7")
    manual, manual_event = hold(ACCOUNT, None)
    other_case, other_case_event = hold(ACCOUNT, "case-8")
    book.given(ACCOUNT, opened_event, manual_event, linked_event, other_case_event)
    released = await release_case_holds(
        book, [ACCOUNT], "case-7", HoldRelease.CASE_CLOSED, today=ENROLLED
    )
    assert released == 2
    lifted = [e for e in book.streams[ACCOUNT] if isinstance(e, HoldReleased)]
    assert [e.hold_id for e in lifted] == [opened, linked]
    assert {e.release for e in lifted} == {HoldRelease.CASE_CLOSED}
    state = await book.load(ACCOUNT)
    assert not state.holds[manual].released and not state.holds[other_case].released
    # the case event delivered again lifts nothing
    assert (
        await release_case_holds(book, [ACCOUNT], "case-7", HoldRelease.CASE_CLOSED, today=ENROLLED)
        == 0
    )
