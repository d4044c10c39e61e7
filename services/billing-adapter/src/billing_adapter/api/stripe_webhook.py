"""`POST /v1/webhooks/stripe`: Stripe's signed events in; `GET .../events`: what came of them.

The webhook authenticates by its signature, not by a bearer token: Stripe
cannot send one. So anyone can send it anything: a body larger than
`STRIPE_WEBHOOK_MAX_BYTES` is refused (413) from its `Content-Length` before a
byte is read, or as soon as the bytes streamed in pass the limit, so a forged
giant costs nothing. Nothing is stored before the signature and its timestamp
check out; a bad, missing or stale one is a 400 problem, and so is every
delivery while no secret is configured (nothing could be verified). A signed
body that is not a Stripe event is a 400 too. Every refusal is logged and
counted in `stripe_webhook_refused_total{reason}`. Every accepted event gets a 200
(applied, ignored, parked, rejected or a redelivery), which is what stops
Stripe retrying; the body says which (see `service_layer/stripe_connector.py`).
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Depends, Header, Query, Request
from prometheus_client import Counter
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from billing_adapter.adapters import stripe_events
from billing_adapter.adapters.stripe_events import ReceivedRow
from billing_adapter.adapters.stripe_objects import MalformedEvent, StripeEvent, parse_event
from billing_adapter.adapters.stripe_signature import SignatureError, verify
from billing_adapter.api.common import trace
from billing_adapter.service_layer.stripe_connector import receive, replay_parked
from billing_adapter.settings import BillingDependencies, StripeSettings
from receivables_platform.web.app import composed
from receivables_platform.web.auth import require_roles
from receivables_platform.web.connection import pooled
from receivables_platform.web.problems import Problem, problem_type

router = APIRouter(prefix="/v1/webhooks/stripe", tags=["webhooks"])
log = structlog.get_logger("billing_adapter.stripe")
REFUSED = Counter(
    "stripe_webhook_refused_total",
    "Deliveries refused, by reason: too_large, unreadable (the body did not "
    "arrive whole), no_secret, signature (bad, missing or stale), malformed_json "
    "and not_an_event (signed, but no Stripe event)",
    ["reason"],
)
OPERATORS = require_roles("integration", "admin")


async def dependencies(request: Request) -> BillingDependencies:
    """What the spec composed at start (`async`, so FastAPI does not run it in a thread)."""
    return composed(request, BillingDependencies)


async def stripe_settings(request: Request) -> StripeSettings:
    return composed(request, BillingDependencies).stripe


Deps = Annotated[BillingDependencies, Depends(dependencies)]
Settings = Annotated[StripeSettings, Depends(stripe_settings)]


class Receipt(BaseModel):
    event_id: str
    type: str
    outcome: Literal["applied", "ignored", "parked", "rejected", "duplicate"]
    detail: str | None = None


def _refused(reason: str, problem: Problem) -> Problem:
    REFUSED.labels(reason=reason).inc()
    log.warning(
        "stripe webhook delivery refused",
        reason=reason,
        status=problem.status,
        detail=problem.detail,
    )
    return problem


def _too_large(limit: int) -> Problem:
    return _refused(
        "too_large",
        Problem(
            413,
            "Payload too large",
            f"a Stripe event is at most {limit} bytes here",
            type=problem_type("payload-too-large"),
            field="body",
        ),
    )


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The body, or a 413 as soon as it is known to pass `limit`: by its length, or while read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise _refused(
            "unreadable",
            Problem(
                400,
                "Body not received",
                "the connection closed before the body arrived whole",
                type=problem_type("body-not-received"),
                field="body",
            ),
        ) from None
    return b"".join(chunks)


def _signed_event(payload: bytes, signature: str | None, settings: StripeSettings) -> StripeEvent:
    try:
        if not settings.secrets:
            raise SignatureError(
                "no signing secret is configured (STRIPE_WEBHOOK_SECRET), so no "
                "signature can be checked; Stripe will retry"
            )
        verify(
            payload,
            signature,
            settings.secrets,
            now=time.time(),
            tolerance=settings.webhook_tolerance_seconds,
        )
    except SignatureError as bad:
        raise _refused(
            "signature" if settings.secrets else "no_secret",
            Problem(
                400,
                "Invalid signature",
                str(bad),
                type=problem_type("invalid-signature"),
                field="header.Stripe-Signature",
            ),
        ) from None
    try:
        if b"\\u0000" in payload:  # PostgreSQL cannot store it, and Stripe never sends it
            raise MalformedEvent("body", "the event contains a NUL character")
        return parse_event(json.loads(payload))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _refused(
            "malformed_json",
            Problem(
                400,
                "Malformed JSON",
                "the body is not JSON",
                type=problem_type("malformed-json"),
                field="body",
            ),
        ) from None
    except MalformedEvent as bad:
        raise _refused(
            "not_an_event",
            Problem(
                400,
                "Not a Stripe event",
                bad.detail,
                type=problem_type("not-a-stripe-event"),
                field=bad.field,
            ),
        ) from None


@router.post(
    "",
    response_model=Receipt,
    responses={
        400: {
            "description": "Bad, missing or stale signature (or no secret "
            "configured to check it), or not a Stripe event"
        },
        413: {"description": "Larger than STRIPE_WEBHOOK_MAX_BYTES"},
    },
)
async def stripe_webhook(
    request: Request, settings: Settings, stripe_signature: Annotated[str | None, Header()] = None
) -> Receipt:
    """Verify, apply once, then replay parked events that this one unblocked."""
    payload = await _bounded_body(request, settings.webhook_max_bytes)
    event = _signed_event(payload, stripe_signature, settings)
    async with pooled(request) as conn:
        settled = await receive(conn, event, settings.mapping, trace(request))
        if settled is not None and settled.outcome == "applied":
            await replay_parked(conn, settings.mapping, trace(request))
    if settled is None:
        return Receipt(
            event_id=event.id, type=event.type, outcome="duplicate", detail="already received"
        )
    return Receipt(
        event_id=event.id, type=event.type, outcome=settled.outcome, detail=settled.detail
    )


@router.get("/events", response_model=list[ReceivedRow], dependencies=[Depends(OPERATORS)])
async def received_events(
    request: Request,
    outcome: Annotated[Literal["applied", "ignored", "parked", "rejected"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ReceivedRow]:
    """Stripe events received, newest first; `outcome=parked` or `rejected` need an eye.

    A parked event's `waiting_for` is `kind:external id` (e.g. `account:cus_...`).
    """
    async with pooled(request) as conn:
        return await stripe_events.listing(conn, outcome, limit)


class Replayed(BaseModel):
    replayed: int


@router.post("/events/replay", response_model=Replayed, dependencies=[Depends(OPERATORS)])
async def replay(request: Request, settings: Settings) -> Replayed:
    """Replay parked events whose account, invoice or payment now exists.

    Each applied webhook does this by itself; this is for when what they wait
    for came another way, e.g. customers backfilled by bulk import or the REST
    API under their `cus_...` ids.
    """
    async with pooled(request) as conn:
        return Replayed(replayed=await replay_parked(conn, settings.mapping, trace(request)))
