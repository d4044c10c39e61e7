"""Each person's notification preferences, and what was sent to them.

A person saves their own preferences (`PUT /v1/notification-preferences/me`):
an email address, a chat tool's incoming-webhook URL, and per kind a channel:
`email`, `webhook`, `digest` (one email a day) or `off`; a kind left out goes
by email when there is an address, else to the webhook. Saving also records
the teams (`team:*` roles) and roles the token carries: that is how a team
member hears of their team's escalations and a supervisor of credits awaiting
approval, since the identity provider, not this service, knows who is in a team.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, model_validator

from case_service.adapters import notifications as rows
from case_service.api.common import Conn, Deps, now
from case_service.api.models import Body
from case_service.domain.notifications import Channel, NotificationKind
from receivables_platform.domain import Refused
from receivables_platform.web.auth import TEAM_ROLES, Principal, require_roles
from receivables_platform.web.bodies import EmailAddress

PEOPLE = require_roles("collector", "case_agent", "supervisor", "admin", *sorted(TEAM_ROLES))
Person = Annotated[Principal, Depends(PEOPLE)]

router = APIRouter(prefix="/v1", tags=["notifications"])


class Preferences(Body):
    email: EmailAddress | None = None
    webhook_url: str | None = Field(
        default=None,
        max_length=2000,
        pattern=r"^https?://[^\s]+$",
        description="A chat tool's incoming webhook; posts are signed (Receivables-Signature)",
    )
    channels: dict[NotificationKind, Channel] = Field(
        default_factory=dict, description="Per kind: email, webhook, digest or off"
    )

    @model_validator(mode="after")
    def _addresses(self) -> Preferences:
        for kind, channel in self.channels.items():
            if channel in (Channel.EMAIL, Channel.DIGEST) and self.email is None:
                raise ValueError(f"{kind.value} goes by {channel.value}: an email is needed")
            if channel is Channel.WEBHOOK and self.webhook_url is None:
                raise ValueError(f"{kind.value} goes to the webhook: a webhook_url is needed")
        return self


class PreferencesResponse(BaseModel):
    user_id: str
    email: str | None
    webhook_url: str | None
    channels: dict[NotificationKind, Channel]
    teams: list[str]
    roles: list[str]
    updated_at: datetime | None


class SentNotification(BaseModel):
    notification_key: str
    kind: str
    channel: str
    subject: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None
    case_id: UUID | None


@router.get("/notification-preferences/me", response_model=PreferencesResponse)
async def my_preferences(conn: Conn, principal: Person) -> PreferencesResponse:
    """Your preferences (the defaults until you save any)."""
    row = await rows.preferences(conn, principal.sub)
    if row is None:
        return PreferencesResponse(
            user_id=principal.sub,
            email=None,
            webhook_url=None,
            channels={},
            teams=sorted(principal.teams),
            roles=sorted(principal.roles),
            updated_at=None,
        )
    return PreferencesResponse(**{**dict(row), "channels": _channels(row["channels"])})


def _channels(value: Any) -> dict[NotificationKind, Channel]:
    raw = json.loads(value) if isinstance(value, str) else dict(value)
    return {NotificationKind(k): Channel(v) for k, v in raw.items()}


@router.put("/notification-preferences/me", response_model=PreferencesResponse)
async def save_preferences(
    body: Preferences, conn: Conn, principal: Person, deps: Deps
) -> PreferencesResponse:
    """Save your addresses and channels; your token's teams and roles are recorded with them."""
    if body.webhook_url is not None:
        settings = deps.notifications
        if settings.webhook_secret is None:
            # the person can choose email instead: a refusal of this body, not an outage
            raise Refused(
                "outgoing webhooks are not configured here "
                "(NOTIFICATION_WEBHOOK_SECRET): choose email or the digest",
                field="webhook_url",
                title="Webhooks unavailable",
            )
        if not settings.webhook_allowed(body.webhook_url):
            raise Refused(
                f"webhooks may go only to {', '.join(sorted(settings.webhook_hosts))}",
                field="webhook_url",
                title="Webhook host not allowed",
            )
    at = now()
    channels = {k.value: v.value for k, v in body.channels.items()}
    await rows.save_preferences(
        conn,
        principal.sub,
        body.email,
        body.webhook_url,
        channels,
        sorted(principal.teams),
        sorted(principal.roles),
        at,
    )
    return PreferencesResponse(
        user_id=principal.sub,
        email=body.email,
        webhook_url=body.webhook_url,
        channels=body.channels,
        teams=sorted(principal.teams),
        roles=sorted(principal.roles),
        updated_at=at,
    )


@router.get("/notifications/me", response_model=list[SentNotification])
async def my_notifications(
    conn: Conn, principal: Person, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[SentNotification]:
    """Your latest notifications and whether each was sent, newest first."""
    return [SentNotification(**dict(r)) for r in await rows.sent_to(conn, principal.sub, limit)]
