"""What aiokafka offers the platform on a real cluster, pinned so an upgrade says so.

docs/kafka.md builds on two facts of the pinned aiokafka: consumer groups
rebalance eagerly (no cooperative-sticky assignor, no KIP-848 protocol), and the
producer keeps at most one produce request in flight per broker and mutes a
partition while its batch is in flight, which is what keeps per-key order
without a `max.in.flight` setting. If an upgrade changes either, these fail and
the note (and the runner's choice of assignor) must be revisited.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import aiokafka.coordinator.assignors as assignors
from aiokafka import AIOKafkaConsumer
from aiokafka.coordinator.assignors.abstract import AbstractPartitionAssignor
from aiokafka.producer.sender import Sender


def test_aiokafka_has_no_cooperative_assignor() -> None:
    found = []
    for module in pkgutil.walk_packages(assignors.__path__, f"{assignors.__name__}."):
        for name, value in vars(importlib.import_module(module.name)).items():
            if (
                inspect.isclass(value)
                and issubclass(value, AbstractPartitionAssignor)
                and value is not AbstractPartitionAssignor
            ):
                found.append(name)
    assert found, "no assignors found: the package layout changed"
    assert not [n for n in found if "cooperative" in n.lower()], found
    assert "group_protocol" not in inspect.signature(AIOKafkaConsumer).parameters


def test_the_producer_sends_one_request_per_broker_and_mutes_the_partition() -> None:
    source = inspect.getsource(Sender._sender_routine)
    assert "ignore_nodes=self._in_flight" in source
    assert "self._muted_partitions.add(tp)" in source
