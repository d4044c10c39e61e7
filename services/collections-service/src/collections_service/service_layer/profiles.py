"""Use cases over what collectors note about an account: its profile and its notes.

Both stay reference data beside the streams (the worklist reads them as rows), and
each change is also an event on the account's key: who changed which field from
what to what, who wrote which note. The profile's history is read back from those
events, and reporting puts them in the account's timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import asyncpg

from collections_service.adapters import profiles, queries, streams
from collections_service.domain.profile import PROFILE_FIELDS, CustomerProfile, profile_changes
from receivables_platform.contracts.collections import AccountNoteAdded, AccountProfileChanged
from receivables_platform.store import RecordedEvent


def profile_stream(account_id: UUID) -> str:
    return streams.stream("profile", account_id)


async def replace_profile(
    conn: asyncpg.Connection,
    account_id: UUID,
    profile: CustomerProfile,
    *,
    by: str,
    check: Callable[[int], int],
    correlation_id: str | None = None,
) -> int:
    """Write the profile at the version the editor read (`check`, else 412) and record what
    changed and who changed it; returns the profile's new version."""
    async with conn.transaction():
        row = await queries.account_row(conn, account_id)
        version = check(row["profile_version"])
        written = await profiles.replace_profile(
            conn,
            account_id,
            tags=list(profile.tags),
            preferred_channel=profile.preferred_channel,
            contact_hours=profile.contact_hours,
            language=profile.language,
            do_not_contact=profile.do_not_contact,
            email_opt_out=profile.email_opt_out,
            version=version,
        )
        if not written:  # another editor got in between: answer as a stale If-Match
            check(version + 1)
        changes = profile_changes({f: row[f] for f in PROFILE_FIELDS}, profile)
        if changes:
            await streams.append(
                conn,
                profile_stream(account_id),
                account_id,
                [
                    AccountProfileChanged(
                        account_id=account_id,
                        changes=changes,
                        changed_by=by,
                        profile_version=version + 1,
                    )
                ],
                correlation_id=correlation_id,
            )
    return version + 1


async def profile_history(conn: asyncpg.Connection, account_id: UUID) -> list[RecordedEvent]:
    """Every recorded edit of the account's profile, oldest first (404 for an unknown account)."""
    await queries.account_row(conn, account_id)
    return await streams.store.load(conn, profile_stream(account_id))


async def add_note(
    conn: asyncpg.Connection,
    account_id: UUID,
    body: str,
    *,
    author: str,
    correlation_id: str | None = None,
) -> asyncpg.Record:
    """The note as a row (the call sheet reads those) and as an event (the timeline's)."""
    await queries.account_row(conn, account_id)
    async with conn.transaction():
        row = await profiles.add_note(conn, account_id, body, author)
        await streams.append(
            conn,
            streams.stream("note", row["note_id"]),
            account_id,
            [
                AccountNoteAdded(
                    account_id=account_id, note_id=row["note_id"], body=body, author=author
                )
            ],
            expected_version=0,
            correlation_id=correlation_id,
        )
    return row
