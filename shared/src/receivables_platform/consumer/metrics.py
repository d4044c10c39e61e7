"""Consumer metrics on prometheus_client's default registry, which `/metrics` already exposes."""

from __future__ import annotations

import contextlib

from prometheus_client import Counter, Gauge

CONSUMER_LAG = Gauge(
    "consumer_lag_records",
    "Records on the partition the group has not processed yet (end offset minus position)",
    ["group", "topic", "partition"],
)
EVENTS_PROCESSED = Counter(
    "consumer_events_processed",
    "Events a handler applied (redeliveries skipped by event id are not counted)",
    ["group", "topic"],
)
EVENTS_DEAD_LETTERED = Counter(
    "consumer_events_dead_lettered",
    "Records sent to the dead-letter topic because they can never be applied",
    ["group", "topic", "error_class"],
)
EVENTS_SET_ASIDE = Counter(
    "consumer_events_set_aside",
    "Events set aside instead of applied because a business date in them is outside the "
    "range (listed at GET /v1/admin/set-aside-events and in set_aside_events)",
    ["group", "topic", "type"],
)
PASSED_OVER = Counter(
    "consumer_records_passed_over",
    "Records of event types the group's handler does not declare, passed over undecoded",
    ["group"],
)
DUPLICATES_SKIPPED = Counter(
    "consumer_duplicates_skipped",
    "Records skipped because their CloudEvent (source, id) was already processed",
    ["group", "topic"],
)
RETRIES = Counter(
    "consumer_retries",
    "Batches retried after a transient or unexpected error",
    ["group", "error_class"],
)
POSITIONS_MOVED = Counter(
    "consumer_positions_moved",
    "Batches rolled back because the stored position was not where the runner left it "
    "(the database lost commits, or another member moved on); read again from it",
    ["group", "topic"],
)
PARTITION_RESTARTS = Counter(
    "consumer_partition_restarts",
    "Partitions read again from the beginning because the broker lost or rewrote their log",
    ["group", "topic"],
)


def set_lag(group: str, topic: str, partition: int, lag: int) -> None:
    CONSUMER_LAG.labels(group=group, topic=topic, partition=str(partition)).set(max(lag, 0))


def drop_lag(group: str, topic: str, partition: int) -> None:
    """A partition that moved to another member is that member's to report."""
    with contextlib.suppress(KeyError):
        CONSUMER_LAG.remove(group, topic, str(partition))
