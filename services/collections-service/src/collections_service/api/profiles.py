"""Customer behaviour: notes ("pays on day 45", "needs a PO number"), tags, preferred channel,
contact hours and the language statements go out in. Collectors keep them as they learn them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from collections_service.adapters import profiles, queries, reads
from collections_service.api.common import READERS, Conn, IfMatch, Staff
from collections_service.api.models import Body
from collections_service.api.refusals import RefusalRoute
from receivables_platform.contracts.collections import Channel
from receivables_platform.web.etag import set_etag
from receivables_platform.web.idempotency import IdempotentRequest

router = APIRouter(tags=["customer behaviour"], route_class=RefusalRoute)
Tag = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9 _\-]+$")]


class Profile(Body):
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    preferred_channel: Channel | None = None
    contact_hours: str | None = Field(default=None, max_length=200,
                                      examples=["Mon-Thu 09:00-12:00 CET"])
    language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    do_not_contact: bool = Field(default=False, description="No automatic email, ever")
    email_opt_out: bool = Field(default=False, description="The customer asked for no "
                                "dunning emails; collectors still call")


class NoteRequest(Body):
    body: str = Field(min_length=1, max_length=4000)


class Note(BaseModel):
    note_id: UUID
    account_id: UUID
    body: str
    author: str
    created_at: datetime


@router.get("/v1/accounts/{account_id}/profile", response_model=Profile,
            dependencies=[Depends(READERS)])
async def read(account_id: UUID, response: Response, conn: Conn) -> Profile:
    """How the customer likes to be reached: tags, channel, hours, language and opt-outs; the
    ETag is the profile's version for the next replace."""
    row = await queries.account_row(conn, account_id)
    set_etag(response, row["profile_version"])
    return Profile(tags=list(row["tags"]), preferred_channel=row["preferred_channel"],
                   contact_hours=row["contact_hours"], language=row["language"],
                   do_not_contact=row["do_not_contact"], email_opt_out=row["email_opt_out"])


@router.put("/v1/accounts/{account_id}/profile", response_model=Profile)
async def replace(account_id: UUID, body: Profile, response: Response, conn: Conn,
                  principal: Staff, if_match: IfMatch) -> Profile:
    """Replace the profile (If-Match the one you read: two editors never overwrite blindly)."""
    async with conn.transaction():
        row = await queries.account_row(conn, account_id)
        version = if_match.check(row["profile_version"])
        written = await profiles.replace_profile(
            conn, account_id, tags=body.tags,
            preferred_channel=body.preferred_channel.value if body.preferred_channel else None,
            contact_hours=body.contact_hours, language=body.language,
            do_not_contact=body.do_not_contact, email_opt_out=body.email_opt_out,
            version=version)
        if not written:  # another editor got in between: answer as a stale If-Match
            if_match.check(version + 1)
    set_etag(response, version + 1)
    return body


@router.post("/v1/accounts/{account_id}/notes", status_code=201, response_model=Note)
async def add_note(account_id: UUID, body: NoteRequest, principal: Staff,
                   idem: IdempotentRequest) -> Response:
    """Add a customer behaviour note (how they pay, whom to call) that every collector sees."""
    await queries.account_row(idem.conn, account_id)
    row = await profiles.add_note(idem.conn, account_id, body.body, principal.sub)
    return await idem.respond(Note.model_validate(dict(row)), status_code=201)


@router.get("/v1/accounts/{account_id}/notes", response_model=list[Note],
            dependencies=[Depends(READERS)])
async def notes(account_id: UUID, conn: Conn) -> list[Note]:
    """The account's customer behaviour notes, newest first."""
    rows = await reads.notes_of(conn, account_id)
    return [Note.model_validate(dict(r)) for r in rows]
