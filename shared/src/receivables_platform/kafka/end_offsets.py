"""Where each partition ends, for lag: one group-less client per process, reused."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

from receivables_platform.settings import KafkaSettings


class EndOffsets:
    def __init__(self, kafka: KafkaSettings, timeout: float = 3.0) -> None:
        self._kafka = kafka
        self._timeout = timeout
        self._client: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()

    async def partitions(self, topics: Iterable[str]) -> list[TopicPartition]:
        async with self._lock, asyncio.timeout(self._timeout):
            client = await self._started()
            await client.topics()  # refreshes metadata
            return sorted(TopicPartition(topic, p) for topic in topics
                          for p in client.partitions_for_topic(topic) or ())

    async def ends(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        wanted = list(tps)
        if not wanted:
            return {}
        async with self._lock, asyncio.timeout(self._timeout):
            client = await self._started()
            ends: dict[TopicPartition, int] = await client.end_offsets(wanted)
            return ends

    async def _started(self) -> AIOKafkaConsumer:
        if self._client is None:
            client = AIOKafkaConsumer(**self._kafka.client_options(), group_id=None,
                                      enable_auto_commit=False,
                                      request_timeout_ms=int(self._timeout * 1000))
            await client.start()
            self._client = client
        return self._client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.stop()
