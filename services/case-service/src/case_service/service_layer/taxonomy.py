"""The root-cause taxonomy admins maintain, and the SOPs that answer recurring causes.

A category is retired, never deleted: cases keep the code and name it had
when identified (the event carries them), new cases cannot pick it, and the
weekly review still groups old cases under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from receivables_platform.contracts.cases import RootCause
from receivables_platform.domain import NotFound, RefusalKind, Refused


@dataclass(frozen=True)
class Category:
    category_id: UUID
    code: str
    name: str
    description: str | None
    created_at: datetime
    retired_at: datetime | None


@dataclass(frozen=True)
class Sop:
    sop_id: UUID
    title: str
    body: str | None
    link: str | None
    category_ids: list[UUID]
    created_at: datetime


def _category(row: asyncpg.Record) -> Category:
    return Category(
        UUID(str(row["category_id"])),
        row["code"],
        row["name"],
        row["description"],
        row["created_at"],
        row["retired_at"],
    )


async def add_category(
    conn: asyncpg.Connection, category_id: UUID, code: str, name: str, description: str | None
) -> Category:
    try:
        async with conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO root_cause_categories (category_id, code, name, description) "
                "VALUES ($1, $2, $3, $4) RETURNING *",
                category_id,
                code,
                name,
                description,
            )
    except asyncpg.UniqueViolationError:
        raise Refused(
            f"a category with code {code!r} exists (retired ones keep their code)",
            field="code",
            title="Code in use",
            kind=RefusalKind.CONFLICT,
        ) from None
    return _category(row)


async def get_category(conn: asyncpg.Connection, category_id: UUID) -> Category:
    row = await conn.fetchrow(
        "SELECT * FROM root_cause_categories WHERE category_id = $1", category_id
    )
    if row is None:
        raise NotFound(f"no root-cause category {category_id}", field="category_id")
    return _category(row)


async def list_categories(conn: asyncpg.Connection, include_retired: bool) -> list[Category]:
    rows = await conn.fetch(
        "SELECT * FROM root_cause_categories WHERE $1 OR retired_at IS NULL ORDER BY code",
        include_retired,
    )
    return [_category(r) for r in rows]


async def retire_category(conn: asyncpg.Connection, category_id: UUID) -> Category:
    await get_category(conn, category_id)
    row = await conn.fetchrow(
        "UPDATE root_cause_categories SET retired_at = COALESCE(retired_at, now()) "
        "WHERE category_id = $1 RETURNING *",
        category_id,
    )
    return _category(row)


async def root_cause_of(
    conn: asyncpg.Connection, category_id: UUID, detail: str | None
) -> RootCause:
    """The category as named today; a retired or unknown one is refused for new identification."""
    row = await conn.fetchrow(
        "SELECT * FROM root_cause_categories WHERE category_id = $1", category_id
    )
    if row is None:
        raise Refused(
            f"no root-cause category {category_id}", field="category_id", title="Unknown category"
        )
    if row["retired_at"] is not None:
        raise Refused(
            f"root-cause category {row['code']} is retired",
            field="category_id",
            title="Retired category",
        )
    return RootCause(
        category_id=category_id, category_code=row["code"], category_name=row["name"], detail=detail
    )


def _sop(row: asyncpg.Record) -> Sop:
    return Sop(
        UUID(str(row["sop_id"])),
        row["title"],
        row["body"],
        row["link"],
        [UUID(str(x)) for x in row["category_ids"]],
        row["created_at"],
    )


async def add_sop(
    conn: asyncpg.Connection,
    sop_id: UUID,
    title: str,
    body: str | None,
    link: str | None,
    category_ids: list[UUID],
) -> Sop:
    known = await conn.fetchval(
        "SELECT count(*) FROM root_cause_categories WHERE category_id = ANY($1::uuid[])",
        category_ids,
    )
    if known != len(set(category_ids)):
        raise Refused(
            "every category id must name a root-cause category",
            field="category_ids",
            title="Unknown category",
        )
    row = await conn.fetchrow(
        "INSERT INTO sops (sop_id, title, body, link, category_ids) VALUES ($1,$2,$3,$4,$5) "
        "RETURNING *",
        sop_id,
        title,
        body,
        link,
        category_ids,
    )
    return _sop(row)


async def sops_for(conn: asyncpg.Connection, category_id: UUID | None) -> list[Sop]:
    rows = await conn.fetch(
        "SELECT * FROM sops WHERE $1::uuid IS NULL OR $1 = ANY(category_ids) ORDER BY title",
        category_id,
    )
    return [_sop(r) for r in rows]
