"""Rebuilding a projection from its topic: forget, replay from the start, report progress.

The topics keep every event (unlimited retention), so a projection can
always be thrown away and rebuilt: its tables are emptied, its consumer
group's stored positions and processed-event ids are forgotten (all in one
transaction), and a consumer runner reads the topic again from the earliest
offset until it reaches the end offsets seen when the rebuild began. The
service's own consumers for that projection must be stopped meanwhile
(`RUN_CONSUMERS=false`, or the worker Deployment scaled to zero): two
runners in one group would share the partitions between them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
from aiokafka import TopicPartition

from receivables_platform.consumer import ConsumerRunner
from receivables_platform.kafka.end_offsets import EndOffsets
from receivables_platform.kafka.topics import ensure_topics
from receivables_platform.settings import KafkaSettings
from reporting_service.consumers.projections import Projection


@dataclass(frozen=True)
class Progress:
    projection: str
    applied: int  # records read past, of
    total: int  # the records the topic held when the rebuild began
    seconds: float

    @property
    def per_second(self) -> float:
        return self.applied / self.seconds if self.seconds > 0 else 0.0


async def reset_projection(conn: asyncpg.Connection, projection: Projection, group: str) -> None:
    async with conn.transaction():
        for statement in projection.reset_sql:
            await conn.execute(statement)
        await conn.execute("DELETE FROM consumer_offsets WHERE consumer_group = $1", group)
        await conn.execute("DELETE FROM processed_events WHERE consumer_group = $1", group)


async def _positions(pool: asyncpg.Pool, group: str) -> dict[TopicPartition, int]:
    rows = await pool.fetch("SELECT topic, partition, next_offset FROM consumer_offsets "
                            "WHERE consumer_group = $1", group)
    return {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def _ends(kafka: KafkaSettings, topic: str) -> dict[TopicPartition, int]:
    await ensure_topics(kafka, [topic])
    client = EndOffsets(kafka, timeout=10.0)
    try:
        return await client.ends(await client.partitions([topic]))
    finally:
        await client.close()


async def rebuild(pool: asyncpg.Pool, kafka: KafkaSettings, projection: Projection, group: str,
                  report: Callable[[Progress], None], *, interval: float = 1.0,
                  session_timeout_ms: int = 10_000) -> Progress:
    ends = await _ends(kafka, projection.topic)
    total = sum(ends.values())
    async with pool.acquire() as conn:
        await reset_projection(conn, projection, group)
    runner = ConsumerRunner(pool, kafka, group_id=group, topics=[projection.topic],
                            handler=projection.handler, session_timeout_ms=session_timeout_ms,
                            heartbeat_interval_ms=max(session_timeout_ms // 3, 100))
    started = time.monotonic()
    task = asyncio.create_task(runner.run(), name=f"rebuild-{projection.name}")
    try:
        while True:
            positions = await _positions(pool, group)
            applied = sum(min(positions.get(tp, 0), end) for tp, end in ends.items())
            progress = Progress(projection.name, applied, total, time.monotonic() - started)
            report(progress)
            if applied >= total:
                return progress
            if task.done():
                task.result()  # the runner only ends by failing: surface why
            await asyncio.sleep(interval)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
