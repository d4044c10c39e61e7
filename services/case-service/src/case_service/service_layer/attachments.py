"""Files on a case: kept by content when they arrive, handed out only through their case.

A file joins a case as a note that lists it (an inbound email, or an agent's
upload), so the case's own history says who attached what, when; the bytes go to
the file store under their SHA-256. Reading one goes through the case: a hash
that no note of this case brought is not found here, even when another case has
that file, so knowing a hash is never enough to read someone else's document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from case_service.adapters.file_store import FileStore
from case_service.domain import commands as c
from case_service.domain.state import Case, Note
from case_service.service_layer.cases import Check, execute, get_case
from receivables_platform.contracts.cases import Attachment
from receivables_platform.db.transaction import atomic
from receivables_platform.domain import NotFound, RefusalKind, Refused
from receivables_platform.ids import new_id
from receivables_platform.repository import Loaded


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes
    note: str | None = None


async def keep(store: FileStore, contents: Mapping[str, bytes] | None) -> None:
    """Store each file; with the PostgreSQL store, in the caller's transaction."""
    for data in (contents or {}).values():
        await store.put(data)


async def attach(
    conn: asyncpg.Connection,
    store: FileStore,
    case_id: UUID,
    upload: Upload,
    *,
    actor: str,
    at: datetime,
    check: Check | None,
    correlation_id: str | None = None,
) -> Loaded[Case]:
    """An agent's file, as a note on the case that names it; refused with the note (a closed
    case, a stale If-Match) it leaves no bytes in PostgreSQL, and harmless ones in a bucket."""
    async with atomic(conn):
        digest = await store.put(upload.data)
        attached = Attachment(
            filename=upload.filename,
            content_type=upload.content_type,
            size_bytes=len(upload.data),
            sha256=digest,
        )
        note = c.AddNote(
            case_id=case_id,
            note_id=new_id(),
            body=upload.note or f"Attached {upload.filename}",
            actor=actor,
            at=at,
            attachments=(attached,),
        )
        return await execute(conn, note, check=check, correlation_id=correlation_id)


def on_case(case: Case) -> list[tuple[Note, Attachment]]:
    """Every file of the case, once each, with the note that first brought it."""
    seen: dict[str, tuple[Note, Attachment]] = {}
    for note in case.notes:
        for attached in note.attachments:
            seen.setdefault(attached.sha256, (note, attached))
    return list(seen.values())


async def download(
    conn: asyncpg.Connection, store: FileStore, case_id: UUID, sha256: str
) -> tuple[Attachment, bytes]:
    case = (await get_case(conn, case_id)).state
    found = case.attachment(sha256)
    if found is None:
        raise NotFound(f"case {case_id} has no attachment {sha256}", field="path.sha256")
    data = await store.get(sha256)
    if data is None:
        # an emailed file of a type not accepted, or one filed before files were kept:
        # the case names it, there is nothing to hand out
        raise Refused(
            f"the content of attachment {sha256} ({found[1].content_type}) was not "
            "kept: its type is not accepted, or it came before files were kept",
            field="path.sha256",
            title="Attachment content not kept",
            kind=RefusalKind.NOT_FOUND,
        )
    return found[1], data
