"""Events dated outside the business dates: set aside where they are projected, not applied.

Before the edges refused them, an integration's placeholder date (.NET's 0001-01-01,
9999-12-31) could become an event, and a deployment may hold such events for good
(topics keep everything). A read model that projected one stored `-infinity` or
`infinity`, and every read that met it failed: aging for its currency, every snapshot,
the analysts' views. The contracts still decode these events (they are history), so
the consumer runner looks at each event's business dates before any handler sees it.
One outside `business_dates()` is recorded in `set_aside_events` in the batch's own
transaction (claimed like any processed event, so a redelivery changes nothing),
counted in `consumer_events_set_aside`, logged, and the partition moves on; every
other event, of that account too, is applied as usual. An operator lists them with
`GET /v1/admin/set-aside-events` (or in SQL) and corrects them at their source: a
void and a reissue with real dates, which the range lets through.

Only business dates (`date` fields, docs/architecture.md#dates) are judged; instants
are not.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from receivables_platform.business_dates import BusinessDateSettings, business_dates
from receivables_platform.consumer.errors import PERMANENT
from receivables_platform.envelope import CloudEvent
from receivables_platform.web.auth import Principal, require_roles
from receivables_platform.web.connection import pooled
from receivables_platform.web.pages import CursorQuery, Page, decode_cursor, page_of


def dates_out_of_range(
    event: CloudEvent, settings: BusinessDateSettings | None = None
) -> dict[str, str]:
    """The event's business dates outside the range, by field path (`instalments.0.due_date`).

    Empty for an event whose data does not decode: that is the handler's to refuse
    (dead-lettered as before), not a date to judge.
    """
    try:
        contract = event.contract
    except PERMANENT:
        return {}
    found: dict[str, str] = {}
    _walk(contract, "", settings or business_dates(), found)
    return found


def _walk(value: Any, path: str, settings: BusinessDateSettings, found: dict[str, str]) -> None:
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _walk(getattr(value, name), f"{path}.{name}" if path else name, settings, found)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _walk(item, f"{path}.{index}", settings, found)
    elif (
        isinstance(value, date) and not isinstance(value, datetime) and not settings.contains(value)
    ):
        found[path] = value.isoformat()


def reason(dates: dict[str, str], settings: BusinessDateSettings | None = None) -> str:
    settings = settings or business_dates()
    named = ", ".join(f"{path} {day}" for path, day in dates.items())
    return f"outside the business dates {settings.earliest} to {settings.latest}: {named}"


_RECORD = """
INSERT INTO set_aside_events (source, event_id, type, subject, consumer_group, topic,
                              kafka_partition, kafka_offset, reason, dates, data)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (source, event_id) DO NOTHING
"""
# DO NOTHING: a second group (a rebuild's) meeting the same event records nothing new;
# the row is an observation, not a write another request could lose.


async def record(
    conn: asyncpg.Connection, group: str, event: CloudEvent, record: Any, dates: dict[str, str]
) -> None:
    """In the consumer's transaction: the event is claimed and set aside together (the
    connection's codecs, `db.pool`, write the dictionaries as jsonb)."""
    await conn.execute(
        _RECORD,
        event.source,
        event.id,
        event.type,
        event.subject,
        group,
        record.topic,
        record.partition,
        record.offset,
        reason(dates),
        dates,
        event.data,
    )


# -- the operators' list ----------------------------------------------------------------------


class SetAsideEvent(BaseModel):
    source: str
    event_id: str
    type: str
    subject: str
    consumer_group: str
    topic: str
    partition: int
    offset: int
    reason: str
    dates: dict[str, str]
    data: dict[str, Any]
    set_aside_at: datetime


class SetAsidePage(Page[SetAsideEvent]):
    """Set-aside events, oldest first."""


_LIST = """
SELECT position, source, event_id, type, subject, consumer_group, topic,
       kafka_partition AS partition, kafka_offset AS offset, reason, dates, data, set_aside_at
FROM set_aside_events WHERE position > $1 AND ($2::text IS NULL OR type = $2)
ORDER BY position LIMIT $3
"""


def set_aside_router() -> APIRouter:
    router = APIRouter(tags=["status"])
    operators = require_roles("supervisor", "admin")

    @router.get("/v1/admin/set-aside-events", response_model=SetAsidePage)
    async def set_aside_events(
        request: Request,
        cursor: CursorQuery = None,
        type: Annotated[
            str | None, Query(max_length=200, description="Only events of this type")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        _: Principal = Depends(operators),
    ) -> SetAsidePage:
        """Consumed events set aside for a business date outside the range, oldest first.

        They are in no read model of this service; correct them at their source.
        """
        after = decode_cursor(cursor, int)[0] if cursor else 0
        async with pooled(request) as conn:
            rows = await conn.fetch(_LIST, after, type, limit + 1)
        page, next_cursor = page_of(rows, limit, lambda row: (row["position"],))
        items = [SetAsideEvent.model_validate(dict(row)) for row in page]
        return SetAsidePage(items=items, next_cursor=next_cursor)

    return router
