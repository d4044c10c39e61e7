"""`POST /v1/inbound-email`: the mail gateway hands over a raw RFC 5322 message."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from case_service.adapters.inbound_mail import MalformedMessage, OverLimit, parse
from case_service.api.common import Deps, files, now, problem_responses, trace
from case_service.api.models import CaseResponse
from case_service.service_layer.inbound_email import ThreadedBy, file_email
from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.connection import pooled
from receivables_platform.web.etag import etag
from receivables_platform.web.problems import Problem, problem_type

router = APIRouter(prefix="/v1", tags=["inbound email"])
MAX_BYTES = 25 * 1024 * 1024
GATEWAY = require_roles("integration", "admin")


class FiledEmail(BaseModel):
    threaded_by: ThreadedBy
    created: Literal[True, False]
    case: CaseResponse


async def _raw(request: Request) -> bytes:
    """The body, refused with 413 past MAX_BYTES without reading the rest."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BYTES:
        raise _too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> Problem:
    return Problem(
        413,
        "Message too large",
        f"inbound messages are limited to {MAX_BYTES} bytes",
        type=problem_type("message-too-large"),
        field="body",
    )


@router.post(
    "/inbound-email",
    response_model=FiledEmail,
    status_code=201,
    responses={
        200: {"model": FiledEmail, "description": "Added to an existing case"},
        **problem_responses(
            _413="The message, an attachment or all attachments together are "
            "larger than the service accepts (`limit` says how large), "
            "or the case event they make is (`limit_bytes`).",
            _422="The message is malformed (`errors` names the header or body) "
            "or has more attachments than accepted (`limit`).",
        ),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The raw RFC 5322 message (also accepted as message/rfc822)",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def inbound_email(
    request: Request, deps: Deps, principal: Principal = Depends(GATEWAY)
) -> Response:
    """File a raw email (`Content-Type: message/rfc822`) on its case, or open one (201)."""
    raw = await _raw(request)
    try:
        message = parse(raw, deps.inbound_email, deps.attachments)
    except MalformedMessage as exc:
        raise Problem(
            422,
            "Malformed message",
            exc.detail,
            type=problem_type("malformed-message"),
            field=exc.field,
        ) from None
    except OverLimit as exc:
        raise Problem(
            exc.status,
            "Attachments over the limit",
            exc.detail,
            type=problem_type("attachment-limit"),
            field="body",
            limit=exc.limit,
        ) from None
    async with pooled(request) as conn:
        filed = await file_email(
            conn,
            message,
            deps.policy,
            actor=principal.sub,
            at=now(),
            store=files(request, conn),
            correlation_id=trace(request),
        )
    body = FiledEmail(
        threaded_by=filed.threaded_by,
        created=filed.created,
        case=CaseResponse.of(filed.case.state, filed.case.version),
    )
    return Response(
        body.model_dump_json(),
        status_code=201 if filed.created else 200,
        media_type="application/json",
        headers={"ETag": etag(filed.case.version), "Location": f"/v1/cases/{body.case.case_id}"},
    )
