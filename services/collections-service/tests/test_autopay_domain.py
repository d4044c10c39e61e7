"""An auto-pay offer as pure decide/evolve: offered, answered once, converted once by the
enrolment it earned."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from collections_service.domain import autopay
from collections_service.domain.autopay import MakeOffer, Offer
from collections_service.domain.refusals import Refusal, RefusalKind
from receivables_platform.contracts.collections import (
    AutoPayConverted,
    AutoPayOfferAnswered,
    AutoPayOffered,
    AutoPayOfferOutcome,
    Channel,
)
from receivables_platform.domain import fold
from receivables_platform.ids import new_id

ACCOUNT = UUID("01900000-0000-7000-8000-0000000000b2")
TODAY = date(2026, 11, 2)


def offered(on: date = TODAY, offer_id: UUID | None = None) -> Offer:
    command = MakeOffer(offer_id or new_id(), ACCOUNT, Channel.CALL, "kim", on)
    return fold(autopay.evolve, Offer(), autopay.make(command, on_autopay=False))


def test_an_account_already_on_auto_pay_is_not_offered_it() -> None:
    command = MakeOffer(uuid4(), ACCOUNT, Channel.EMAIL, "kim", TODAY)
    with pytest.raises(Refusal) as refused:
        autopay.make(command, on_autopay=True)
    assert refused.value.kind is RefusalKind.CONFLICT and refused.value.field == "account_id"
    [event] = autopay.make(command, on_autopay=False)
    assert isinstance(event, AutoPayOffered) and event.collector_id == "kim"


def test_an_offer_is_answered_once_but_undecided_leaves_room_for_an_answer() -> None:
    offer = offered()
    [maybe] = autopay.answer(offer, AutoPayOfferOutcome.UNDECIDED, today=TODAY)
    offer = autopay.evolve(offer, maybe)
    [yes] = autopay.answer(offer, AutoPayOfferOutcome.ACCEPTED, today=TODAY)
    assert isinstance(yes, AutoPayOfferAnswered) and yes.collector_id == "kim"
    with pytest.raises(Refusal) as refused:
        autopay.answer(autopay.evolve(offer, yes), AutoPayOfferOutcome.DECLINED, today=TODAY)
    assert refused.value.kind is RefusalKind.CONFLICT and refused.value.field == "outcome"
    assert "accepted" in refused.value.detail


def test_an_offer_never_made_cannot_be_answered() -> None:
    with pytest.raises(Refusal) as refused:
        autopay.answer(Offer(), AutoPayOfferOutcome.ACCEPTED, today=TODAY)
    assert refused.value.kind is RefusalKind.NOT_FOUND


def test_the_newest_offer_within_30_days_before_the_enrolment_gets_the_credit() -> None:
    old = offered(TODAY - timedelta(days=31))
    early = offered(TODAY - timedelta(days=30))
    newest = offered(TODAY - timedelta(days=3))
    after = offered(TODAY + timedelta(days=1))
    assert autopay.credited([old, newest, early, after], TODAY) == newest
    assert autopay.credited([old, early], TODAY) == early
    assert autopay.credited([old, after], TODAY) is None


def test_the_same_day_s_offers_go_to_the_later_one() -> None:
    first, second = offered(offer_id=new_id()), offered(offer_id=new_id())
    assert autopay.credited([second, first], TODAY) == second


def test_an_offer_converts_once_and_says_how_many_days_it_took() -> None:
    offer = offered(TODAY - timedelta(days=12))
    [converted] = autopay.convert(offer, TODAY)
    assert isinstance(converted, AutoPayConverted) and converted.days_after_offer == 12
    offer = autopay.evolve(offer, converted)
    assert autopay.convert(offer, TODAY) == []
    assert autopay.credited([offer], TODAY) is None
