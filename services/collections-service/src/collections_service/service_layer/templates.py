"""Templates supervisors write: each save is a new version, checked before it is stored.

Version 1 is a template's first save in a language; a revision names the version
it read (If-Match) and writes the next one, so two supervisors editing at once
never overwrite each other. A revision of a shipped template (version 0) is
version 1. Sends render the newest version; what was sent keeps its language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg

from collections_service.adapters import templates as store
from collections_service.domain.refusals import conflict, not_found
from collections_service.domain.templates import (
    EmailTemplate,
    Rendered,
    checked,
    choose,
    language_of,
)
from receivables_platform.domain import Refused
from receivables_platform.store import ConcurrencyError


async def create(conn: asyncpg.Connection, template: EmailTemplate, by: str) -> EmailTemplate:
    language_of(template.language)
    if await store.latest(conn, template.name, template.language) is not None:
        raise conflict(
            f"template {template.name!r} already exists in {template.language!r}: "
            "revise it instead",
            field="name",
            title="Template exists",
        )
    try:
        return await store.insert(conn, checked(template), by)
    except asyncpg.UniqueViolationError:
        raise conflict(
            f"template {template.name!r} was just created in "
            f"{template.language!r}: revise it instead",
            field="name",
            title="Template exists",
        ) from None


async def latest(conn: asyncpg.Connection, name: str, language: str) -> EmailTemplate:
    found = await store.latest(conn, name, language)
    if found is None:
        raise not_found(f"no template {name!r} in {language!r}", field="name")
    return found


async def revise(
    conn: asyncpg.Connection, template: EmailTemplate, by: str, check: Callable[[int], object]
) -> EmailTemplate:
    current = await latest(conn, template.name, template.language)
    check(current.version)
    try:
        return await store.insert(conn, checked(current.revised_by(template)), by)
    except asyncpg.UniqueViolationError:
        raise ConcurrencyError(
            f"template-{template.name}-{template.language}", current.version
        ) from None


async def render(
    conn: asyncpg.Connection, name: str, wanted: str | None, context: dict[str, Any]
) -> Rendered:
    """In the language wanted, else English: `Rendered.requested` keeps what was wanted, so
    a fallback is recorded, never silent."""
    language = choose(await store.languages(conn, name), wanted)
    template = await store.latest(conn, name, language) if language else None
    if template is None:
        raise Refused(f"there is no email template {name!r}", field="template")
    return template.render(context, requested=wanted or language)


async def refuse_unknown(conn: asyncpg.Connection, names: dict[str, str]) -> None:
    """Refuse, naming the field, the first template (field -> name) that exists nowhere."""
    known = await store.known(conn, set(names.values()))
    for field, name in names.items():
        if name not in known:
            raise Refused(
                f"there is no email template {name!r}: create it first (POST /v1/templates)",
                field=field,
            )
