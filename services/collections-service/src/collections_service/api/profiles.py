"""Customer behaviour: notes ("pays on day 45", "needs a PO number"), tags, preferred channel,
contact hours and the language statements go out in. Collectors keep them as they learn them;
every edit and note is kept with who made it and when (`.../profile/history`, the timeline).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from collections_service.adapters import queries, reads
from collections_service.api.common import READERS, Conn, IfMatch, Staff, trace
from collections_service.api.models import Body
from collections_service.api.refusals import RefusalRoute
from collections_service.domain.profile import CustomerProfile
from collections_service.service_layer import profiles
from receivables_platform.contracts.collections import (
    AccountProfileChanged,
    Channel,
    ProfileFieldChange,
)
from receivables_platform.web.etag import set_etag
from receivables_platform.web.idempotency import IdempotentRequest

router = APIRouter(tags=["customer behaviour"], route_class=RefusalRoute)
Tag = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9 _\-]+$")]


class Profile(Body):
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    preferred_channel: Channel | None = None
    contact_hours: str | None = Field(
        default=None, max_length=200, examples=["Mon-Thu 09:00-12:00 CET"]
    )
    language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    do_not_contact: bool = Field(default=False, description="No automatic email, ever")
    email_opt_out: bool = Field(
        default=False, description="The customer asked for no dunning emails; collectors still call"
    )


class NoteRequest(Body):
    body: str = Field(min_length=1, max_length=4000)


class Note(BaseModel):
    note_id: UUID
    account_id: UUID
    body: str
    author: str
    created_at: datetime


class ProfileEdit(BaseModel):
    """One saved edit of the profile: who, when, and each field from what to what."""

    changed_by: str
    changed_at: datetime
    profile_version: int = Field(description="The profile's version (its ETag) after the edit")
    changes: list[ProfileFieldChange]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "changed_by": "kim",
                    "changed_at": "2026-11-02T15:04:05Z",
                    "profile_version": 2,
                    "changes": [{"field": "preferred_channel", "before": "email", "after": "call"}],
                }
            ]
        }
    )


class ProfileHistory(BaseModel):
    account_id: UUID
    edits: list[ProfileEdit] = Field(
        description="Oldest first; a save that changed nothing is not an edit"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account_id": "01934f9e-8d2a-7c4b-9b1e-3f6a2d5c7e10",
                    "edits": [
                        {
                            "changed_by": "kim",
                            "changed_at": "2026-11-02T15:04:05Z",
                            "profile_version": 2,
                            "changes": [
                                {"field": "preferred_channel", "before": "email", "after": "call"},
                                {"field": "tags", "before": [], "after": ["needs-po"]},
                            ],
                        }
                    ],
                }
            ]
        }
    )


@router.get(
    "/v1/accounts/{account_id}/profile", response_model=Profile, dependencies=[Depends(READERS)]
)
async def read(account_id: UUID, response: Response, conn: Conn) -> Profile:
    """How the customer likes to be reached: tags, channel, hours, language and opt-outs; the
    ETag is the profile's version for the next replace."""
    row = await queries.account_row(conn, account_id)
    set_etag(response, row["profile_version"])
    return Profile(
        tags=list(row["tags"]),
        preferred_channel=row["preferred_channel"],
        contact_hours=row["contact_hours"],
        language=row["language"],
        do_not_contact=row["do_not_contact"],
        email_opt_out=row["email_opt_out"],
    )


@router.put("/v1/accounts/{account_id}/profile", response_model=Profile)
async def replace(
    account_id: UUID,
    body: Profile,
    request: Request,
    response: Response,
    conn: Conn,
    principal: Staff,
    if_match: IfMatch,
) -> Profile:
    """Replace the profile (If-Match the one you read: two editors never overwrite blindly).
    What changed is recorded with who changed it (`GET .../profile/history`)."""
    version = await profiles.replace_profile(
        conn,
        account_id,
        CustomerProfile(
            tags=tuple(body.tags),
            preferred_channel=body.preferred_channel.value if body.preferred_channel else None,
            contact_hours=body.contact_hours,
            language=body.language,
            do_not_contact=body.do_not_contact,
            email_opt_out=body.email_opt_out,
        ),
        by=principal.sub,
        check=if_match.check,
        correlation_id=trace(request),
    )
    set_etag(response, version)
    return body


@router.get(
    "/v1/accounts/{account_id}/profile/history",
    response_model=ProfileHistory,
    dependencies=[Depends(READERS)],
)
async def profile_history(account_id: UUID, conn: Conn) -> ProfileHistory:
    """Every edit of the profile, oldest first: who, when, and each field from what to what."""
    recorded = await profiles.profile_history(conn, account_id)
    edits = []
    for item in recorded:
        edit = item.contract()
        assert isinstance(edit, AccountProfileChanged)
        edits.append(
            ProfileEdit(
                changed_by=edit.changed_by,
                changed_at=item.recorded_at,
                profile_version=edit.profile_version,
                changes=edit.changes,
            )
        )
    return ProfileHistory(account_id=account_id, edits=edits)


@router.post("/v1/accounts/{account_id}/notes", status_code=201, response_model=Note)
async def add_note(
    account_id: UUID, body: NoteRequest, request: Request, principal: Staff, idem: IdempotentRequest
) -> Response:
    """Add a customer behaviour note (how they pay, whom to call) that every collector sees.
    Notes are kept as written, never edited: each is its author's, at its time."""
    row = await profiles.add_note(
        idem.conn, account_id, body.body, author=principal.sub, correlation_id=trace(request)
    )
    return await idem.respond(Note.model_validate(dict(row)), status_code=201)


@router.get(
    "/v1/accounts/{account_id}/notes", response_model=list[Note], dependencies=[Depends(READERS)]
)
async def notes(account_id: UUID, conn: Conn) -> list[Note]:
    """The account's customer behaviour notes, newest first."""
    rows = await reads.notes_of(conn, account_id)
    return [Note.model_validate(dict(r)) for r in rows]
