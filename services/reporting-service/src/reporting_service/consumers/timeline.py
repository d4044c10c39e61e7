"""The account timeline's rows, written by each projection beside its own read model.

An entry is keyed by the event that caused it (and a part, when one event tells
of several things), so a replay or a rebuild writes the same rows again and
nothing twice. Amounts stay in `detail` as minor units with their
currency, for the reader to format. `at` is the moment the thing happened: the event's own instant
when it has one; for a fact known only by its business date, the moment the
event was recorded when that was on the same day in the team's time zone (so a
payment and the call about it stay in order), else the start of that day.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from receivables_platform.business_dates import business_dates
from receivables_platform.envelope import CloudEvent


@dataclass(frozen=True)
class Entry:
    event: CloudEvent
    account_id: UUID | None
    at: datetime
    kind: str
    title: str
    detail: dict[str, Any] = field(default_factory=dict)
    case_id: UUID | None = None
    part: str | None = None

    @property
    def entry_id(self) -> str:
        return f"{self.event.id}:{self.part}" if self.part else self.event.id


def on_day(day: date, event: CloudEvent) -> datetime:
    """The instant a date-only fact is shown at (see the module docstring)."""
    zone = ZoneInfo(business_dates().team_timezone)
    if event.time.astimezone(zone).date() == day:
        return event.time
    return datetime.combine(day, time.min, tzinfo=zone)


_INSERT = """
INSERT INTO account_timeline (entry_id, source, account_id, case_id, at, kind, title,
                              detail, event_id)
SELECT e, $2, a, c, t, k, ti, d::jsonb, ev
FROM unnest($1::text[], $3::uuid[], $4::uuid[], $5::timestamptz[], $6::text[],
            $7::text[], $8::text[], $9::text[]) AS u(e, a, c, t, k, ti, d, ev)
ON CONFLICT (entry_id) DO NOTHING
"""
ALONG_FIRST_PARAMETER = 10
"""Where the parameters of `record`'s `along` clauses start ($10)."""


async def record(
    conn: asyncpg.Connection,
    source: str,
    entries: Sequence[Entry],
    *,
    along: str = "",
    along_args: Sequence[Any] = (),
) -> None:
    """Write the entries; `along` is `WITH` clauses of the projection's own writes (their
    parameters from `ALONG_FIRST_PARAMETER` on, `along_args`) run in the same statement:
    a consumer applies a small batch per transaction, where each statement is a round
    trip and an executor start of its own in PostgreSQL (issue 23)."""
    if not entries:
        if along:
            raise ValueError("`along` writes go with entries; with none, run them alone")
        return
    await conn.execute(
        along + _INSERT,
        [e.entry_id for e in entries],
        source,
        [e.account_id for e in entries],
        [e.case_id for e in entries],
        [e.at for e in entries],
        [e.kind for e in entries],
        [e.title for e in entries],
        [json.dumps(e.detail, default=str, sort_keys=True) for e in entries],
        [e.event.id for e in entries],
        *along_args,
    )
