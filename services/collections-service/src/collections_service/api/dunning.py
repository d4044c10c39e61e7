"""Automatic dunning: templates supervisors write, tomorrow's sends, bounces, signatures."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from collections_service.adapters import dunning as dunning_store
from collections_service.adapters import queries
from collections_service.adapters import templates as template_store
from collections_service.api.common import (
    READERS,
    Conn,
    IfMatch,
    Manager,
    MaybeIfMatch,
    Rt,
    trace,
)
from collections_service.api.models import Body, ContactView
from collections_service.api.refusals import RefusalRoute
from collections_service.domain.dunning import NotADsn, read_dsn
from collections_service.domain.refusals import not_found
from collections_service.domain.templates import (
    EmailTemplate,
    checked,
    sample_context,
)
from collections_service.service_layer import dunning, templates
from receivables_platform.business_dates import BusinessDate
from receivables_platform.domain import Refused
from receivables_platform.web.auth import require_roles
from receivables_platform.web.etag import set_etag
from receivables_platform.web.idempotency import IdempotentRequest
from receivables_platform.web.problems import Problem, problem_type

router = APIRouter(tags=["dunning"], route_class=RefusalRoute)

Language = Literal["en", "es", "de"]
TemplateName = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z0-9_\-]+$")]
Placeholder = Literal["pay_link", "remittance"]
MAX_DSN_BYTES = 1_000_000
GATEWAYS = require_roles("integration", "admin")


class TemplateText(Body):
    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=20_000)
    requires: list[Placeholder] = Field(
        default_factory=list,
        max_length=2,
        description=(
            "Placeholders the body must carry (checked when saved), e.g. pay_link for a step that "
            "offers one"
        ),
    )


class TemplateRequest(TemplateText):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9_\-]+$")
    language: Language


class TemplateView(BaseModel):
    name: str
    language: str
    version: int = Field(description="0: the template the service ships, not yet revised")
    subject: str
    body: str
    requires: list[str]

    @classmethod
    def of(cls, template: EmailTemplate) -> TemplateView:
        return cls(
            name=template.name,
            language=template.language,
            version=template.version,
            subject=template.subject,
            body=template.body,
            requires=list(template.requires),
        )


class PreviewView(BaseModel):
    subject: str
    body: str
    language: str


class PreviewRequest(TemplateText):
    language: Language


@router.post("/v1/templates", status_code=201, response_model=TemplateView)
async def create_template(
    body: TemplateRequest, principal: Manager, idem: IdempotentRequest
) -> Response:
    """A template's first version in a language: refused (422, naming the field) unless it
    renders with sample data and carries what `requires` names."""
    saved = await templates.create(
        idem.conn,
        EmailTemplate(body.name, body.language, 1, body.subject, body.body, tuple(body.requires)),
        principal.sub,
    )
    return await idem.respond(
        TemplateView.of(saved),
        status_code=201,
        version=saved.version,
        headers={"Location": f"/v1/templates/{saved.name}/{saved.language}"},
    )


@router.get("/v1/templates", response_model=list[TemplateView], dependencies=[Depends(READERS)])
async def list_templates(conn: Conn) -> list[TemplateView]:
    """Every template name and language at its newest version."""
    return [TemplateView.of(t) for t in await template_store.current(conn)]


@router.get(
    "/v1/templates/{name}/{language}", response_model=TemplateView, dependencies=[Depends(READERS)]
)
async def read_template(
    name: TemplateName,
    language: Language,
    response: Response,
    conn: Conn,
    version: int | None = Query(default=None, ge=0, le=1_000_000),
) -> TemplateView:
    """The newest version, or an earlier one with `?version=`."""
    if version is None:
        found = await templates.latest(conn, name, language)
    else:
        found = await template_store.version(conn, name, language, version)  # type: ignore[assignment]
        if found is None:
            raise not_found(
                f"template {name!r} in {language!r} has no version {version}", field="query.version"
            )
    set_etag(response, found.version)
    return TemplateView.of(found)


@router.put("/v1/templates/{name}/{language}", response_model=TemplateView)
async def revise_template(
    name: TemplateName,
    language: Language,
    body: TemplateText,
    response: Response,
    conn: Conn,
    principal: Manager,
    if_match: IfMatch,
) -> TemplateView:
    """The next version (If-Match the one you read); what was sent keeps what it said."""
    saved = await templates.revise(
        conn,
        EmailTemplate(name, language, 0, body.subject, body.body, tuple(body.requires)),
        principal.sub,
        if_match.check,
    )
    set_etag(response, saved.version)
    return TemplateView.of(saved)


@router.post("/v1/templates/preview", response_model=PreviewView, dependencies=[Depends(READERS)])
async def preview_text(body: PreviewRequest) -> PreviewView:
    """Render a draft with sample data, as saving would check it; nothing is stored."""
    draft = checked(
        EmailTemplate("draft", body.language, 0, body.subject, body.body, tuple(body.requires))
    )
    shown = draft.render(sample_context(body.language))
    return PreviewView(subject=shown.subject, body=shown.body, language=shown.language)


@router.get(
    "/v1/templates/{name}/{language}/preview",
    response_model=PreviewView,
    dependencies=[Depends(READERS)],
)
async def preview_template(name: TemplateName, language: Language, conn: Conn) -> PreviewView:
    """The newest version rendered with sample data."""
    found = await templates.latest(conn, name, language)
    shown = found.render(sample_context(language))
    return PreviewView(subject=shown.subject, body=shown.body, language=shown.language)


class PlannedSend(BaseModel):
    account_id: UUID
    account_name: str | None
    collector_id: str | None
    step_id: str
    template: str
    language: str | None = Field(description="What it will be written in")
    language_requested: str = Field(
        description="The account's language; differs from "
        "`language` when the template falls back to English"
    )
    to: list[str]
    cc: list[str]
    withheld: str | None = Field(
        description="Why it will not go out (do not contact, opted out, no address), or null"
    )
    subject: str | None


class SendPlan(BaseModel):
    business_date: date
    sends: list[PlannedSend]


@router.get("/v1/dunning/preview", response_model=SendPlan)
async def preview_sends(
    conn: Conn,
    rt: Rt,
    _: Manager,
    day: BusinessDate | None = Query(
        default=None, alias="date", description="Default: the next business day"
    ),
) -> SendPlan:
    """The emails the cadence would send on a day (tomorrow by default), as things stand."""
    on = day or rt.calendar.next_business_day(rt.clock.today())
    planned = await dunning.preview(conn, rt, on)
    return SendPlan(business_date=on, sends=[PlannedSend(**vars(p)) for p in planned])


class SendView(BaseModel):
    step_id: str
    business_date: date
    task_id: UUID
    status: Literal["claimed", "sent", "failed", "bounced", "withheld"]
    contact_id: UUID | None
    template: str | None
    language: str | None
    language_requested: str | None
    recipients: list[str]
    cc: list[str]
    message_id: str | None
    error: str | None


@router.get(
    "/v1/accounts/{account_id}/dunning",
    response_model=list[SendView],
    dependencies=[Depends(READERS)],
)
async def sends_of(account_id: UUID, conn: Conn) -> list[SendView]:
    """Every automatic email of the account: sent, failed, bounced or withheld, and why."""
    await queries.account_row(conn, account_id, field="path.account_id")
    return [SendView.model_validate(dict(r)) for r in await dunning_store.sends(conn, account_id)]


@router.post(
    "/v1/mail/bounces",
    response_model=ContactView,
    dependencies=[Depends(GATEWAYS)],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
            "description": "The delivery status notification (RFC 3464) as received "
            "(also accepted as multipart/report)",
        }
    },
)
async def bounce(request: Request, conn: Conn, rt: Rt) -> ContactView:
    """A mail gateway forwards a DSN: the email it reports on is recorded as bounced (once;
    the same DSN again changes nothing)."""
    raw = await request.body()
    if len(raw) > MAX_DSN_BYTES:
        raise Problem(
            413,
            "Too large",
            f"a DSN is at most {MAX_DSN_BYTES} bytes",
            type=problem_type("too-large"),
            field="body",
        )
    try:
        found = read_dsn(raw)
    except (NotADsn, ValueError, IndexError, TypeError) as error:
        raise Refused(f"not a delivery status notification: {error}", field="body") from None
    row = await dunning.record_bounce(conn, found, rt.clock.now(), correlation_id=trace(request))
    return ContactView.of(row)


class CollectorName(Body):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")


class CollectorView(BaseModel):
    collector_id: str
    name: str
    version: int


CollectorPath = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]


@router.put("/v1/collectors/{collector_id}", response_model=CollectorView)
async def name_collector(
    collector_id: CollectorPath,
    body: CollectorName,
    response: Response,
    conn: Conn,
    _: Manager,
    if_match: MaybeIfMatch,
) -> CollectorView:
    """The name dunning emails are signed with (If-Match, when sent, must be the current ETag;
    a collector not yet named is at version 0)."""
    async with conn.transaction():
        current = await dunning_store.collector(conn, collector_id, for_update=True)
        version = 0 if current is None else int(current["version"])
        if if_match is not None:
            if_match.check(version)
        row = await dunning_store.name_collector(conn, collector_id, body.name)
    set_etag(response, row["version"])
    return CollectorView(collector_id=row["collector_id"], name=row["name"], version=row["version"])
