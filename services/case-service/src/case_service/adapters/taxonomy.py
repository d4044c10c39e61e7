"""Where the root-cause categories and SOPs are kept: a row each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg


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


def _sop(row: asyncpg.Record) -> Sop:
    return Sop(
        UUID(str(row["sop_id"])),
        row["title"],
        row["body"],
        row["link"],
        [UUID(str(x)) for x in row["category_ids"]],
        row["created_at"],
    )


async def insert_category(
    conn: asyncpg.Connection, category_id: UUID, code: str, name: str, description: str | None
) -> Category | None:
    """The new category; None when its code is taken (retired ones keep theirs)."""
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
        return None
    return _category(row)


async def category(conn: asyncpg.Connection, category_id: UUID) -> Category | None:
    row = await conn.fetchrow(
        "SELECT * FROM root_cause_categories WHERE category_id = $1", category_id
    )
    return None if row is None else _category(row)


async def categories(conn: asyncpg.Connection, include_retired: bool) -> list[Category]:
    rows = await conn.fetch(
        "SELECT * FROM root_cause_categories WHERE $1 OR retired_at IS NULL ORDER BY code",
        include_retired,
    )
    return [_category(r) for r in rows]


async def retire(conn: asyncpg.Connection, category_id: UUID) -> Category:
    """Retired once: a second retirement keeps the first date."""
    row = await conn.fetchrow(
        "UPDATE root_cause_categories SET retired_at = COALESCE(retired_at, now()) "
        "WHERE category_id = $1 RETURNING *",
        category_id,
    )
    return _category(row)


async def known_categories(conn: asyncpg.Connection, category_ids: list[UUID]) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM root_cause_categories WHERE category_id = ANY($1::uuid[])",
        category_ids,
    )
    return count


async def insert_sop(
    conn: asyncpg.Connection,
    sop_id: UUID,
    title: str,
    body: str | None,
    link: str | None,
    category_ids: list[UUID],
) -> Sop:
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


async def sops(conn: asyncpg.Connection, category_id: UUID | None) -> list[Sop]:
    rows = await conn.fetch(
        "SELECT * FROM sops WHERE $1::uuid IS NULL OR $1 = ANY(category_ids) ORDER BY title",
        category_id,
    )
    return [_sop(r) for r in rows]
