"""Relay metrics in prometheus_client's default registry, so every service's /metrics has them."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

OUTBOX_BACKLOG = Gauge(
    "outbox_backlog", "Outbox rows not yet acknowledged by the broker", ["service"]
)
OUTBOX_PUBLISHED = Counter(
    "outbox_published",
    "Outbox rows the broker acknowledged and the relay marked sent",
    ["service", "topic"],
)
OUTBOX_SEND_FAILURES = Counter(
    "outbox_send_failures", "Outbox rows whose send failed and will be retried", ["service"]
)
OUTBOX_REPUBLISHED = Counter(
    "outbox_republished",
    "Outbox rows queued again because the broker lost their partition",
    ["service"],
)
OUTBOX_PUBLISH_DELAY = Histogram(
    "outbox_publish_delay_seconds",
    "From the appending transaction's start to the broker's ack",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
RELAY_LEADER = Gauge(
    "outbox_relay_leader", "1 while this process is the service's active relay", ["service"]
)
OUTBOX_REFUSED = Counter(
    "outbox_refused",
    "Outbox rows the broker refused for good, which blocked their key",
    ["service"],
)
OUTBOX_BLOCKED_KEYS = Gauge(
    "outbox_blocked_keys",
    "Keys set aside after a refusal, waiting for an operator (GET /v1/outbox/blocked)",
    ["service"],
)
IDEMPOTENT_PRODUCER = Gauge(
    "outbox_idempotent_producer",
    "1 when the broker took the relay's idempotent producer "
    "(Apache Kafka), 0 when it refused one and gets plain acks=all producers (Tansu)",
    ["service"],
)
