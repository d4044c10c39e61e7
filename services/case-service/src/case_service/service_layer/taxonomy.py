"""The root-cause taxonomy admins maintain, and the SOPs that answer recurring causes.

A category is retired, never deleted: cases keep the code and name it had
when identified (the event carries them), new cases cannot pick it, and the
weekly review still groups old cases under it.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from case_service.adapters import taxonomy as store
from case_service.adapters.taxonomy import Category, Sop
from receivables_platform.contracts.cases import RootCause
from receivables_platform.domain import NotFound, RefusalKind, Refused

__all__ = ["Category", "Sop"]


async def add_category(
    conn: asyncpg.Connection, category_id: UUID, code: str, name: str, description: str | None
) -> Category:
    added = await store.insert_category(conn, category_id, code, name, description)
    if added is None:
        raise Refused(
            f"a category with code {code!r} exists (retired ones keep their code)",
            field="code",
            title="Code in use",
            kind=RefusalKind.CONFLICT,
        )
    return added


async def get_category(conn: asyncpg.Connection, category_id: UUID) -> Category:
    found = await store.category(conn, category_id)
    if found is None:
        raise NotFound(f"no root-cause category {category_id}", field="category_id")
    return found


async def list_categories(conn: asyncpg.Connection, include_retired: bool) -> list[Category]:
    return await store.categories(conn, include_retired)


async def retire_category(conn: asyncpg.Connection, category_id: UUID) -> Category:
    await get_category(conn, category_id)
    return await store.retire(conn, category_id)


async def root_cause_of(
    conn: asyncpg.Connection, category_id: UUID, detail: str | None
) -> RootCause:
    """The category as named today; a retired or unknown one is refused for new identification."""
    found = await store.category(conn, category_id)
    if found is None:
        raise Refused(
            f"no root-cause category {category_id}", field="category_id", title="Unknown category"
        )
    if found.retired_at is not None:
        raise Refused(
            f"root-cause category {found.code} is retired",
            field="category_id",
            title="Retired category",
        )
    return RootCause(
        category_id=category_id, category_code=found.code, category_name=found.name, detail=detail
    )


async def add_sop(
    conn: asyncpg.Connection,
    sop_id: UUID,
    title: str,
    body: str | None,
    link: str | None,
    category_ids: list[UUID],
) -> Sop:
    if await store.known_categories(conn, category_ids) != len(set(category_ids)):
        raise Refused(
            "every category id must name a root-cause category",
            field="category_ids",
            title="Unknown category",
        )
    return await store.insert_sop(conn, sop_id, title, body, link, category_ids)


async def sops_for(conn: asyncpg.Connection, category_id: UUID | None) -> list[Sop]:
    return await store.sops(conn, category_id)
