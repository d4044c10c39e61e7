"""The outbox relay: committed outbox rows to Kafka, in order per key, at least once."""

from receivables_platform.relay.relay import OutboxRelay, PassResult

__all__ = ["OutboxRelay", "PassResult"]
