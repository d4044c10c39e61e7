"""`GET /v1/status`: how far behind the topics a service's read models are.

Positions come from the database (they are the truth the read models were
built from); end offsets from the broker. When the broker does not answer, the
positions and the time of the last applied event are still reported, with
`broker` saying so, because that is exactly when operators look.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from receivables_platform.kafka.end_offsets import EndOffsets
from receivables_platform.web.auth import Principal, require_roles


class PartitionStatus(BaseModel):
    consumer_group: str
    topic: str
    partition: int
    position: int
    end_offset: int | None
    lag: int | None
    last_applied_at: datetime | None


class ConsumerStatus(BaseModel):
    broker: str
    last_event_applied_at: datetime | None
    total_lag: int | None
    partitions: list[PartitionStatus]


async def _positions(
    conn: asyncpg.Connection, groups: Sequence[str]
) -> dict[tuple[str, TopicPartition], tuple[int, datetime]]:
    rows = await conn.fetch(
        "SELECT consumer_group, topic, partition, next_offset, updated_at FROM consumer_offsets "
        "WHERE consumer_group = ANY($1::text[])",
        list(groups),
    )
    return {
        (r["consumer_group"], TopicPartition(r["topic"], r["partition"])): (
            r["next_offset"],
            r["updated_at"],
        )
        for r in rows
    }


def status_router(subscriptions: Sequence[tuple[str, Sequence[str]]]) -> APIRouter:
    """`subscriptions`: (consumer group, topics) pairs this service consumes."""
    router = APIRouter(tags=["status"])
    readers = require_roles("collector", "case_agent", "supervisor", "integration", "admin")
    clients: dict[str, EndOffsets] = {}

    @router.get("/v1/status", response_model=ConsumerStatus)
    async def status(request: Request, _: Principal = Depends(readers)) -> ConsumerStatus:
        """How far each consumer group has read: per partition the stored position, the
        broker's end offset and the lag, and when it last applied an event."""
        state = request.app.state.service
        async with state.pool.acquire() as conn:
            stored = await _positions(conn, [group for group, _ in subscriptions])
        ends: dict[TopicPartition, int] = {}
        wanted = set(stored)
        broker = "not configured"
        if state.settings.kafka.bootstrap_servers:
            client = clients.setdefault("end", EndOffsets(state.settings.kafka))
            try:
                for group, topics in subscriptions:
                    wanted |= {(group, tp) for tp in await client.partitions(topics)}
                ends = await client.ends({tp for _, tp in wanted})
                broker = "ok"
            except (KafkaError, OSError, TimeoutError) as exc:
                broker = f"unavailable: {type(exc).__name__}"
                await client.close()
                clients.pop("end", None)
        partitions = []
        for group, tp in sorted(wanted, key=lambda item: (item[0], item[1])):
            position, applied_at = stored.get((group, tp), (0, None))
            end = ends.get(tp)
            partitions.append(
                PartitionStatus(
                    consumer_group=group,
                    topic=tp.topic,
                    partition=tp.partition,
                    position=position,
                    end_offset=end,
                    lag=None if end is None else max(0, end - position),
                    last_applied_at=applied_at,
                )
            )
        applied = [p.last_applied_at for p in partitions if p.last_applied_at]
        lags = [p.lag for p in partitions]
        return ConsumerStatus(
            broker=broker,
            last_event_applied_at=max(applied) if applied else None,
            total_lag=None if any(lag is None for lag in lags) else sum(lag or 0 for lag in lags),
            partitions=partitions,
        )

    return router
