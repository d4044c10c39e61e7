"""W3C trace context for events: what a request's span becomes in the outbox and Kafka headers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

tracer = trace.get_tracer("receivables_platform")


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def continued_from(traceparent: str | None, span_name: str, **attributes: str) -> Iterator[trace.Span]:
    """A span that continues the trace an event carries across Kafka."""
    ctx = propagate.extract({"traceparent": traceparent} if traceparent else {})
    token = otel_context.attach(ctx)
    try:
        with tracer.start_as_current_span(span_name, kind=trace.SpanKind.CONSUMER,
                                          attributes=attributes) as span:
            yield span
    finally:
        otel_context.detach(token)
