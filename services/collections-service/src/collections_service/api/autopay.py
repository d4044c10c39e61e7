"""Auto-pay conversion: candidates, offers and what the customer answered."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from collections_service.api.common import (
    READERS,
    CollectorQuery,
    Conn,
    IfMatch,
    Rt,
    Staff,
    oversees,
    trace,
)
from collections_service.api.models import (
    AnswerRequest,
    Candidate,
    CandidatePage,
    OfferRequest,
    OfferView,
    PayLinkView,
)
from collections_service.api.refusals import RefusalRoute
from collections_service.service_layer import autopay, pay_links
from receivables_platform.web.etag import set_etag
from receivables_platform.web.idempotency import IdempotentRequest
from receivables_platform.web.pages import CursorQuery, decode_cursor, page_of

router = APIRouter(tags=["auto-pay conversion"], route_class=RefusalRoute)


@router.get("/v1/autopay/candidates", response_model=CandidatePage)
async def candidates(
    conn: Conn,
    rt: Rt,
    principal: Staff,
    collector_id: CollectorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: CursorQuery = None,
) -> CandidatePage:
    """Not on auto-pay, paid late on 2+ invoices in 180 days, most late payments first; a
    collector sees their own."""
    who = collector_id if oversees(principal) else principal.sub
    after = decode_cursor(cursor, int, UUID) if cursor else None
    rows = await autopay.candidates(conn, rt.clock.today(), who, after=after, limit=limit)
    page, next_cursor = page_of(rows, limit, autopay.candidate_key)
    return CandidatePage(
        items=[Candidate.model_validate(dict(r)) for r in page], next_cursor=next_cursor
    )


@router.post("/v1/autopay/offers", status_code=201, response_model=OfferView)
async def offer(
    body: OfferRequest, request: Request, rt: Rt, principal: Staff, idem: IdempotentRequest
) -> Response:
    """Record that the account was offered auto-pay (collections.autopay.offered): its
    conversion is then counted when the account enrols."""
    offer_id = await autopay.offer(
        idem.conn,
        body.account_id,
        body.channel,
        by=principal.sub,
        today=rt.clock.today(),
        contact_id=body.contact_id,
        correlation_id=trace(request),
    )
    row = await autopay.get(idem.conn, offer_id)
    return await idem.respond(
        OfferView.of(row),
        status_code=201,
        version=row["version"],
        headers={"Location": f"/v1/autopay/offers/{offer_id}"},
    )


@router.get(
    "/v1/autopay/offers/{offer_id}", response_model=OfferView, dependencies=[Depends(READERS)]
)
async def read(offer_id: UUID, response: Response, conn: Conn) -> OfferView:
    """One auto-pay offer and its answer; the ETag is its version for recording the answer."""
    row = await autopay.get(conn, offer_id)
    set_etag(response, row["version"])
    return OfferView.of(row)


@router.post(
    "/v1/autopay/offers/{offer_id}/enrolment-link",
    response_model=PayLinkView,
    responses={
        404: {"description": "No such offer"},
        409: {"description": "The customer declined or already enrolled"},
        502: {"description": "Billing-adapter or its payment provider failed"},
        503: {"description": "No BILLING_ADAPTER_URL is configured"},
    },
)
async def enrolment_link(offer_id: UUID, conn: Conn, rt: Rt, principal: Staff) -> PayLinkView:
    """A link where the customer saves a payment method for auto-pay (billing's provider, in
    setup mode), to send with the offer. Made once per offer: asking again answers the same
    link. The enrolment comes back through billing's webhook as `autopay.enrolled`, which
    converts the offer."""
    made = await pay_links.for_offer(conn, rt, offer_id)
    return PayLinkView.of(made.account_id, made.link)


@router.post("/v1/autopay/offers/{offer_id}/answer", response_model=OfferView)
async def answer(
    offer_id: UUID,
    body: AnswerRequest,
    request: Request,
    response: Response,
    conn: Conn,
    rt: Rt,
    principal: Staff,
    if_match: IfMatch,
) -> OfferView:
    """What the customer said; the conversion itself is seen in billing's enrolment."""
    version = await autopay.answer(
        conn,
        offer_id,
        body.outcome,
        today=rt.clock.today(),
        check=if_match.check,
        correlation_id=trace(request),
    )
    set_etag(response, version)
    return OfferView.of(await autopay.get(conn, offer_id))
