"""The consumer runner: read models fed from Kafka, exactly once in effect.

Why positions live in the read model's transaction: docs/adr/0002.
"""

from receivables_platform.consumer.errors import PermanentError
from receivables_platform.consumer.runner import (
    AppliesMany,
    ConsumerRunner,
    Handler,
    handled_types,
    handles,
)

__all__ = ["AppliesMany", "ConsumerRunner", "Handler", "PermanentError", "handled_types", "handles"]
