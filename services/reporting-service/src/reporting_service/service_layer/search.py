"""Search as a use case: the caller's roles decide which kinds are looked for at all."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import asyncpg

from reporting_service.adapters.search_query import search as search_read_model
from reporting_service.domain.search import SearchText, ranked, visible_kinds


async def search(
    conn: asyncpg.Connection, query: SearchText, roles: Iterable[str], limit: int
) -> list[dict[str, Any]]:
    """A kind the caller may not see is never queried, so it cannot leak through a score."""
    kinds = visible_kinds(roles)
    return ranked(await search_read_model(conn, query, kinds, limit), limit)
