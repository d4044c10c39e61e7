"""What collectors note about an account: its profile (tags, channel, hours, language) and notes.

Reference data beside the streams, with a version of its own for If-Match; each change is
also an event (`service_layer/profiles.py`), which is its history.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from receivables_platform.ids import new_id


async def replace_profile(
    conn: asyncpg.Connection,
    account_id: UUID,
    *,
    tags: list[str],
    preferred_channel: str | None,
    contact_hours: str | None,
    language: str,
    version: int,
    do_not_contact: bool = False,
    email_opt_out: bool = False,
) -> bool:
    """Write the profile over `version`; False when another editor got there first."""
    status = await conn.execute(
        "UPDATE accounts SET tags = $2, preferred_channel = $3, contact_hours = $4, "
        "language = $5, profile_version = $6 + 1, do_not_contact = $7, email_opt_out = $8 "
        "WHERE account_id = $1 AND profile_version = $6",
        account_id,
        tags,
        preferred_channel,
        contact_hours,
        language,
        version,
        do_not_contact,
        email_opt_out,
    )
    return bool(status != "UPDATE 0")


async def add_note(
    conn: asyncpg.Connection, account_id: UUID, body: str, author: str
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO account_notes (note_id, account_id, body, author) VALUES ($1, $2, $3, $4) "
        "RETURNING *",
        new_id(),
        account_id,
        body,
        author,
    )
    assert row is not None
    return row
