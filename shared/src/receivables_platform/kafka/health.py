"""Broker readiness: can this service talk to Kafka right now?

One admin client per process, reused across probes, so `/readyz` polled every
few seconds by Kubernetes does not open a connection each time.
"""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient

from receivables_platform.settings import KafkaSettings


class BrokerHealth:
    def __init__(self, kafka: KafkaSettings, timeout: float = 3.0) -> None:
        self._kafka = kafka
        self._timeout = timeout
        self._admin: AIOKafkaAdminClient | None = None
        self._lock = asyncio.Lock()

    async def check(self) -> None:
        """Raises when the broker does not answer a metadata request in time."""
        timeout = self._timeout
        async with self._lock:
            try:
                if self._admin is None:
                    admin = AIOKafkaAdminClient(
                        **self._kafka.client_options(), request_timeout_ms=int(timeout * 1000)
                    )
                    await asyncio.wait_for(admin.start(), timeout)
                    self._admin = admin
                await asyncio.wait_for(self._admin.list_topics(), timeout)
            except BaseException:
                await self.close()
                raise

    async def close(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            await admin.close()
