"""Files on a case: an agent uploads one, whoever may read the case lists and downloads them.

The upload is the file itself as the request body, its media type as `Content-Type`
and its name in `?filename=`, so a client needs no multipart encoder and the size
limit is checked while the body arrives, before a byte past it is read. A download
is served as an attachment with `nosniff`, never rendered inline: a customer's file
must not run as a page of ours.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from case_service.adapters.attachment_limits import media_type
from case_service.api.common import (
    READERS,
    Agent,
    Conn,
    Deps,
    MaybeIfMatch,
    files,
    now,
    precondition,
    problem_responses,
    trace,
)
from case_service.api.models import AttachmentOut, CaseResponse
from case_service.service_layer import attachments as use
from case_service.service_layer.cases import get_case
from receivables_platform.text import storable
from receivables_platform.web.idempotency import IdempotentRequest
from receivables_platform.web.problems import Problem, problem_type

router = APIRouter(prefix="/v1/cases", tags=["attachments"])
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="The file's SHA-256, hex")]


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "Attachment too large",
        f"one attachment may be at most {limit} bytes (ATTACHMENT_MAX_BYTES)",
        type=problem_type("attachment-too-large"),
        field="body",
        limit=limit,
    )


async def upload_body(request: Request, deps: Deps) -> bytes:
    """Dependency: the body, refused past the limit (by Content-Length, else while streaming).

    It runs before the Idempotency-Key dependency and leaves the body where Starlette
    caches it, so the key's fingerprint reads the same bytes without a second read.
    """
    limits = deps.attachments
    limit = limits.max_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    data = b"".join(chunks)
    request._body = data  # Starlette's own cache of the body, read by `request.body()`
    if not data:
        raise Problem(
            422,
            "Empty attachment",
            "the request body is the file; it is empty",
            type=problem_type("attachment-empty"),
            field="body",
        )
    content_type = media_type(request.headers.get("content-type", ""))
    if not limits.allows(content_type):
        accepted = sorted(limits.allowed)
        raise Problem(
            415,
            "Attachment type not accepted",
            f"{content_type or 'no Content-Type'} is not an accepted attachment type "
            f"(ATTACHMENT_CONTENT_TYPES: {', '.join(accepted)})",
            type=problem_type("attachment-type"),
            field="header.Content-Type",
            accepted=accepted,
        )
    return data


UploadBody = Annotated[bytes, Depends(upload_body)]
"""Before `IdempotentRequest` in a signature: dependencies run in the order they are named."""
Filename = Annotated[
    str,
    Query(
        min_length=1,
        max_length=255,
        pattern=r"^[^/\\\x00-\x1f]+$",
        description="The file's name as the customer will see it",
    ),
]
NoteText = Annotated[
    str | None,
    Query(min_length=1, max_length=2000, description="What the file shows, for the timeline"),
]


@router.post(
    "/{case_id}/attachments",
    status_code=201,
    response_model=CaseResponse,
    responses=problem_responses(
        _413="The file is larger than `ATTACHMENT_MAX_BYTES` (`limit`).",
        _415="Its `Content-Type` is not in `ATTACHMENT_CONTENT_TYPES` (`accepted`).",
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The file itself; Content-Type is its type",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload(
    case_id: UUID,
    filename: Filename,
    request: Request,
    principal: Agent,
    data: UploadBody,
    if_match: MaybeIfMatch,
    idem: IdempotentRequest,
    note: NoteText = None,
) -> Response:
    """Attach a file (a statement, a scan) to the case as a note. Idempotency-Key required;
    If-Match checked when sent. Answers the case, `Location` the file's download."""
    upload = use.Upload(
        filename=storable(filename),
        content_type=media_type(request.headers["content-type"]),
        data=data,
        note=note,
    )
    loaded = await use.attach(
        idem.conn,
        files(request, idem.conn),
        case_id,
        upload,
        actor=principal.sub,
        at=now(),
        check=precondition(if_match),
        correlation_id=trace(request),
    )
    digest = loaded.state.notes[-1].attachments[0].sha256
    return await idem.respond(
        CaseResponse.of(loaded.state, loaded.version),
        status_code=201,
        version=loaded.version,
        headers={"Location": f"/v1/cases/{case_id}/attachments/{digest}"},
    )


@router.get(
    "/{case_id}/attachments", response_model=list[AttachmentOut], dependencies=[Depends(READERS)]
)
async def list_attachments(case_id: UUID, conn: Conn) -> list[AttachmentOut]:
    """Every file on the case, once per content, oldest first."""
    case = (await get_case(conn, case_id)).state
    return [
        AttachmentOut(
            **attached.model_dump(),
            note_id=note.note_id,
            source=note.source,
            added_by=note.author,
            added_at=note.added_at,
            download=f"/v1/cases/{case_id}/attachments/{attached.sha256}",
        )
        for note, attached in use.on_case(case)
    ]


@router.get(
    "/{case_id}/attachments/{sha256}",
    dependencies=[Depends(READERS)],
    response_class=Response,
    responses={
        200: {
            "description": "The file's bytes, as an attachment",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def download(case_id: UUID, sha256: Sha256, request: Request, conn: Conn) -> Response:
    """The file's bytes, if this case has it; ETag is its hash, so a cache keeps it forever."""
    attached, data = await use.download(conn, files(request, conn), case_id, sha256)
    if request.headers.get("if-none-match") == f'"{sha256}"':
        return Response(status_code=304, headers={"ETag": f'"{sha256}"'})
    ascii_name = attached.filename.encode("ascii", "replace").decode().replace('"', "'")
    return Response(
        data,
        media_type=attached.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(attached.filename)}",
            "X-Content-Type-Options": "nosniff",
            "ETag": f'"{sha256}"',
            "Cache-Control": "private, max-age=31536000, immutable",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
