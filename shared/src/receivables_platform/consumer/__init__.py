"""The consumer runner: read models fed from Kafka, exactly once in effect (DESIGN.md section 3)."""

from receivables_platform.consumer.errors import PermanentError
from receivables_platform.consumer.runner import AppliesMany, ConsumerRunner, Handler

__all__ = ["AppliesMany", "ConsumerRunner", "Handler", "PermanentError"]
