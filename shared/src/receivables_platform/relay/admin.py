"""`/v1/outbox/blocked`: the keys the relay set aside, and how an operator resolves them.

A key is blocked when the broker refused one of its records for good (too
large for the topic, invalid for a broker-side check); its later events wait
behind that record so the key's order holds. An operator either fixes the
cause (raises the topic's `max.message.bytes`) and retries, or skips the
refused event with a reason: it is then never published, and the block keeps
who skipped it and why. Both wake the relay at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field, field_validator

from receivables_platform.relay import outbox
from receivables_platform.store import OUTBOX_CHANNEL
from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.bodies import RequestBody
from receivables_platform.web.connection import pooled
from receivables_platform.web.problems import Problem, problem_type

ADMINS = require_roles("admin")
BlockId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The block's id, from the list")]


class BlockedKey(BaseModel):
    block_id: int
    topic: str
    key: str = Field(description="The Kafka key: the account whose events wait")
    outbox_id: int = Field(description="The outbox row the broker refused")
    event_id: str | None
    event_type: str | None
    stream_id: str | None
    error: str = Field(description="The broker's answer")
    blocked_at: datetime
    waiting_rows: int = Field(description="Unpublished rows of the key, the refused one included")


class BlockedKeys(BaseModel):
    blocked: list[BlockedKey]


class SkipRequest(RequestBody):
    reason: str = Field(
        min_length=1, max_length=2000, description="Why the refused event is never to be published"
    )

    @field_validator("reason")
    @classmethod
    def _said(cls, reason: str) -> str:
        if not reason.strip():
            raise ValueError("reason must say why the event is skipped")
        return reason.strip()


class Resolved(BaseModel):
    block_id: int
    resolution: str


def outbox_admin_router() -> APIRouter:
    router = APIRouter(prefix="/v1/outbox", tags=["outbox"])

    @router.get("/blocked", response_model=BlockedKeys)
    async def blocked(request: Request, _: Principal = Depends(ADMINS)) -> BlockedKeys:
        """Keys set aside after the broker refused one of their events, oldest first."""
        async with pooled(request) as conn:
            found = await outbox.blocked_keys(conn)
        return BlockedKeys(
            blocked=[
                BlockedKey(
                    block_id=b.id,
                    topic=b.topic,
                    key=b.message_key,
                    outbox_id=b.outbox_id,
                    event_id=b.event_id,
                    event_type=b.event_type,
                    stream_id=b.stream_id,
                    error=b.error,
                    blocked_at=b.blocked_at,
                    waiting_rows=b.waiting_rows,
                )
                for b in found
            ]
        )

    @router.post("/blocked/{block_id}/retry", response_model=Resolved)
    async def retry(
        request: Request, block_id: BlockId, principal: Principal = Depends(ADMINS)
    ) -> Resolved:
        """Send the refused event again, with the key's later ones behind it (after the
        broker's limit was raised); refused again, the key is blocked again."""
        return await _resolve(request, block_id, principal, skip=False, reason=None)

    @router.post("/blocked/{block_id}/skip", response_model=Resolved)
    async def skip(
        request: Request,
        block_id: BlockId,
        body: SkipRequest,
        principal: Principal = Depends(ADMINS),
    ) -> Resolved:
        """Never publish the refused event (consumers will not see it) and let the key's
        later events go; the reason and the caller are kept with the block."""
        return await _resolve(request, block_id, principal, skip=True, reason=body.reason)

    return router


async def _resolve(
    request: Request, block_id: int, principal: Principal, *, skip: bool, reason: str | None
) -> Resolved:
    async with pooled(request) as conn:
        found, resolved = await outbox.resolve_block(
            conn, block_id, skip=skip, reason=reason, by=principal.sub, channel=OUTBOX_CHANNEL
        )
    if not found:
        raise Problem(
            404,
            "Not found",
            f"there is no outbox block {block_id}",
            type=problem_type("not-found"),
            field="path.block_id",
        )
    if not resolved:
        raise Problem(
            409,
            "Already resolved",
            f"outbox block {block_id} is resolved already",
            type=problem_type("already-resolved"),
            field="path.block_id",
        )
    return Resolved(block_id=block_id, resolution="skip" if skip else "retry")
