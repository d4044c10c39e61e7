"""Logs, traces and their link: what every service process sets up before it does anything.

A service's entry point calls `configure_logging` and `configure_tracing` once,
and `instrument_app` on its FastAPI app (or builds it with `telemetry_config`);
the event store, relay and consumer carry the trace on from there through
`current_traceparent` and `continued_from`.
"""

from receivables_platform.observability.http import instrument_app, telemetry_config
from receivables_platform.observability.logging import (
    add_trace_context,
    configure_logging,
    redact_secrets,
)
from receivables_platform.observability.tracing import (
    build_tracer_provider,
    configure_tracing,
    continued_from,
    current_traceparent,
    tracer,
)

__all__ = [
    "add_trace_context",
    "build_tracer_provider",
    "configure_logging",
    "configure_tracing",
    "continued_from",
    "current_traceparent",
    "instrument_app",
    "redact_secrets",
    "telemetry_config",
    "tracer",
]
