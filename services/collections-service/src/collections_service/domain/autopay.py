"""An auto-pay offer's life: made to an account not on auto-pay, answered by the customer,
converted when billing's enrolment follows within the window. Pure decide/evolve over the
offer's stream.

A candidate is an account not on auto-pay that paid late (money applied to an invoice after
its due date) on `MIN_LATE_PAYMENTS` or more invoices in the last `LATE_LOOKBACK`. An
enrolment within `CONVERSION_WINDOW` of an offer is that offer's conversion; the newest offer
in the window gets the credit, once, so two collectors never both count one enrolment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from uuid import UUID

from collections_service.domain.refusals import conflict, not_found
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import (
    AutoPayConverted,
    AutoPayOfferAnswered,
    AutoPayOffered,
    AutoPayOfferOutcome,
    Channel,
)

LATE_LOOKBACK = timedelta(days=180)
MIN_LATE_PAYMENTS = 2
CONVERSION_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Offer:
    offer_id: UUID | None = None
    account_id: UUID | None = None
    collector_id: str | None = None
    offered_on: date | None = None
    outcome: AutoPayOfferOutcome | None = None
    converted_on: date | None = None


def evolve(offer: Offer, event: EventContract) -> Offer:
    match event:
        case AutoPayOffered():
            return Offer(event.offer_id, event.account_id, event.collector_id, event.offered_on)
        case AutoPayOfferAnswered():
            return replace(offer, outcome=event.outcome)
        case AutoPayConverted():
            return replace(offer, converted_on=event.enrolled_on)
    return offer


@dataclass(frozen=True)
class MakeOffer:
    offer_id: UUID
    account_id: UUID
    channel: Channel
    by: str
    today: date
    contact_id: UUID | None = None


def make(command: MakeOffer, *, on_autopay: bool) -> list[EventContract]:
    """An account already paying by auto-pay has nothing to be offered."""
    if on_autopay:
        raise conflict(
            "the account is already on auto-pay", field="account_id", title="Already on auto-pay"
        )
    return [
        AutoPayOffered(
            offer_id=command.offer_id,
            account_id=command.account_id,
            collector_id=command.by,
            channel=command.channel,
            offered_on=command.today,
            contact_id=command.contact_id,
        )
    ]


def answer(offer: Offer, outcome: AutoPayOfferOutcome, *, today: date) -> list[EventContract]:
    """The customer's answer, once; "undecided" leaves room for a later yes or no."""
    if offer.offer_id is None or offer.account_id is None or offer.collector_id is None:
        raise not_found("no such auto-pay offer", field="offer_id")
    if offer.outcome not in (None, AutoPayOfferOutcome.UNDECIDED):
        raise conflict(
            f"the offer was already answered ({offer.outcome})",
            field="outcome",
            title="Offer answered",
        )
    return [
        AutoPayOfferAnswered(
            offer_id=offer.offer_id,
            account_id=offer.account_id,
            collector_id=offer.collector_id,
            outcome=outcome,
            answered_on=today,
        )
    ]


def credited(offers: Sequence[Offer], enrolled_on: date) -> Offer | None:
    """The offer an enrolment converts: the newest not yet converted, made within the window
    before it (ties go to the later offer id, as UUIDv7 ids are made in order)."""
    within = [
        o
        for o in offers
        if o.converted_on is None
        and o.offered_on is not None
        and o.offer_id is not None
        and enrolled_on - CONVERSION_WINDOW <= o.offered_on <= enrolled_on
    ]
    return max(within, key=lambda o: (o.offered_on, o.offer_id), default=None)


def convert(offer: Offer, enrolled_on: date) -> list[EventContract]:
    """The enrolment credited to this offer; an offer converts once."""
    if (
        offer.offer_id is None
        or offer.account_id is None
        or offer.collector_id is None
        or offer.offered_on is None
        or offer.converted_on is not None
    ):
        return []
    return [
        AutoPayConverted(
            offer_id=offer.offer_id,
            account_id=offer.account_id,
            collector_id=offer.collector_id,
            offered_on=offer.offered_on,
            enrolled_on=enrolled_on,
            days_after_offer=(enrolled_on - offer.offered_on).days,
        )
    ]
