"""W3C trace context for events; kept as an import path, the code is in `observability`."""

from receivables_platform.observability.tracing import continued_from, current_traceparent, tracer

__all__ = ["continued_from", "current_traceparent", "tracer"]
