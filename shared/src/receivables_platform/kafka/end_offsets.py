"""Where each partition ends, for lag: one group-less client per process, reused."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

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
            wanted = list(topics)
            found = await partitions_of(client, wanted)
            return sorted(
                TopicPartition(topic, p) for topic in wanted for p in found.get(topic, ())
            )

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
            client = AIOKafkaConsumer(
                **self._kafka.client_options(),
                group_id=None,
                enable_auto_commit=False,
                request_timeout_ms=int(self._timeout * 1000),
            )
            await client.start()
            self._client = client
        return self._client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.stop()


async def partitions_of(client: AIOKafkaConsumer, topics: Iterable[str]) -> dict[str, set[int]]:
    """The topics' partitions as the broker knows them now, for a client not subscribed to them.

    `partitions_for_topic` reads the client's own metadata, which covers only the topics it
    tracks: Tansu answers that request with every topic, Apache Kafka with none, so a
    group-less client there never learns a topic's partitions. `topics()` fetches the whole
    cluster's metadata and keeps only the names; this keeps the partitions.
    """
    cluster = await client._client.fetch_all_metadata()
    if cluster is None:
        raise KafkaError("the broker sent no cluster metadata")
    return {topic: set(cluster.partitions_for_topic(topic) or ()) for topic in topics}
