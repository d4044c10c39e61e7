"""`/v1/status`: lag is the broker's end offset minus the position stored with the read model."""

from uuid import uuid4

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from receivables_platform.consumer.status import status_router
from receivables_platform.kafka.topics import ensure_topics
from receivables_platform.settings import KafkaSettings, ServiceSettings
from receivables_platform.web.app import create_app
from receivables_platform.web.auth import issue_token
from receivables_platform.web.testserver import running_server

SECRET = "status-test-secret-0123456789abcdef"


async def test_lag_per_partition_and_last_applied(
    platform_db: str, pool: asyncpg.Pool, kafka_bootstrap: str
):
    topic = f"s{uuid4().hex[:10]}.v1"
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_partitions=2)
    await ensure_topics(kafka, [topic])
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(topic, b"{}", partition=0, key=f"k{i}".encode())
    finally:
        await producer.stop()
    await pool.execute(
        "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) "
        "VALUES ('grp', $1, 0, 2)",
        topic,
    )

    settings = ServiceSettings(database_url=platform_db, jwt_secret=SECRET, kafka=kafka)
    app = create_app(settings, title="t", routers=[status_router([("grp", [topic])])])
    token = issue_token(SECRET, "ops", ["supervisor"])
    async with running_server(app) as base, httpx.AsyncClient(base_url=base) as http:
        status = await http.get("/v1/status", headers={"Authorization": f"Bearer {token}"})
        assert status.status_code == 200, status.text
        body = status.json()
    by_partition = {p["partition"]: p for p in body["partitions"]}
    assert body["broker"] == "ok"
    assert (by_partition[0]["position"], by_partition[0]["end_offset"], by_partition[0]["lag"]) == (
        2,
        5,
        3,
    )
    assert (by_partition[1]["position"], by_partition[1]["lag"]) == (0, 0)
    assert body["total_lag"] == 3
    assert body["last_event_applied_at"] is not None
