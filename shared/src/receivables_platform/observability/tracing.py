"""OpenTelemetry tracing: one provider per process, and W3C trace context carried through events.

A trace has to survive an asynchronous hop: the request's span context is
written on the outbox row (`current_traceparent`), travels in the Kafka record's
`ce_traceparent` header, and the consumer continues it (`continued_from`), so
one trace shows the HTTP request, the append and the projection it caused.

Spans are only exported where someone collects them: with an OTLP endpoint set
(the collector of the platform team), or to the console when asked for in
development. Without either, spans are still created, so trace ids reach the
logs and the Kafka headers, and simply go nowhere else.

Only a share of the traces is recorded (`DEFAULT_SAMPLE_RATIO`, issue 23: recording
the server span of every request was 8% of a billing read's CPU). An unrecorded trace still has
its ids, in the logs and on the events, and the decision follows the trace (parent
based): a caller's sampled `traceparent` is recorded here and in every consumer the
events reach, an unsampled one nowhere. `OTEL_TRACES_SAMPLER_ARG` raises the share
(`1` records every trace); `OTEL_TRACES_SAMPLER` hands the choice to OpenTelemetry's
own sampler settings.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased

tracer = trace.get_tracer("receivables_platform")
DEFAULT_SAMPLE_RATIO = 0.1
log = logging.getLogger("receivables_platform.observability")


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def continued_from(
    traceparent: str | None, span_name: str, **attributes: str
) -> Iterator[trace.Span]:
    """A span that continues the trace an event carries across Kafka."""
    ctx = propagate.extract({"traceparent": traceparent} if traceparent else {})
    token = otel_context.attach(ctx)
    try:
        with tracer.start_as_current_span(
            span_name, kind=trace.SpanKind.CONSUMER, attributes=attributes
        ) as span:
            yield span
    finally:
        otel_context.detach(token)


TRACING_ENVIRONMENT = {
    "OTEL_SDK_DISABLED": "`true`: no traces at all (OpenTelemetry's own switch).",
    "OTEL_TRACES_EXPORTER": "`otlp`, `console` or `none` (comma-separated for several); unset: "
    "OTLP when an endpoint is set, else none.",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "The OTLP/HTTP collector (`http://otel-collector:4318`) traces "
    "go to; the exporter reads the other OTEL_EXPORTER_OTLP_* "
    "options itself.",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "The OTLP/HTTP traces endpoint, when it differs from "
    "OTEL_EXPORTER_OTLP_ENDPOINT.",
    "OTEL_SERVICE_NAME": "The service name traces carry; unset: the service's own name.",
    "OTEL_TRACES_SAMPLER_ARG": "The share of new traces recorded, 0 to 1 (`1`: every trace); "
    "unset: one in ten. A caller's sampled trace is always "
    "followed. A value that is not a ratio stops the start.",
    "OTEL_TRACES_SAMPLER": "Set: OpenTelemetry's own sampler setting decides (with its "
    "OTEL_TRACES_SAMPLER_ARG) instead of the platform's parent-based "
    "ratio.",
}
"""The OpenTelemetry variables read here (the SDK reads its other OTEL_* ones itself)."""


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() == "true"


def _exporter_names() -> list[str]:
    """OTEL_TRACES_EXPORTER if set; otherwise OTLP only when an endpoint says where to."""
    configured = os.environ.get("OTEL_TRACES_EXPORTER", "").strip()
    if configured:
        return [name.strip().lower() for name in configured.split(",") if name.strip()]
    if os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    ):
        return ["otlp"]
    return []


def _processor(name: str) -> SpanProcessor | None:
    if name == "otlp":
        # Imported here so processes that never export do not load protobuf.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return BatchSpanProcessor(OTLPSpanExporter())  # endpoint, headers etc. from OTEL_*
    if name == "console":
        # stderr: stdout carries the JSON log lines, one per line, for the log shipper
        return SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr))
    if name != "none":
        log.warning("unknown OTEL_TRACES_EXPORTER %r ignored (otlp, console, none)", name)
    return None


def sampler() -> Sampler | None:
    """Parent based, recording `OTEL_TRACES_SAMPLER_ARG` of new traces (DEFAULT_SAMPLE_RATIO
    unset); None when OTEL_TRACES_SAMPLER is set, so the SDK reads its own settings."""
    if os.environ.get("OTEL_TRACES_SAMPLER", "").strip():
        return None
    text = os.environ.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
    try:
        ratio = float(text) if text else DEFAULT_SAMPLE_RATIO
        return ParentBased(TraceIdRatioBased(ratio))
    except ValueError:
        # read at start, so a service with a mistyped share stops there and says why
        raise ValueError(
            f"OTEL_TRACES_SAMPLER_ARG must be a share of traces from 0 to 1, not {text!r}"
        ) from None


def build_tracer_provider(service_name: str) -> TracerProvider | None:
    """The provider the environment asks for; None when OTEL_SDK_DISABLED is true."""
    if _env_true("OTEL_SDK_DISABLED"):
        return None
    # OTEL_SERVICE_NAME, when set, is the operator's word and wins over the code's name.
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
    provider = TracerProvider(resource=Resource.create(attributes), sampler=sampler())
    for name in _exporter_names():
        processor = _processor(name)
        if processor is not None:
            provider.add_span_processor(processor)
    return provider


def configure_tracing(service_name: str) -> TracerProvider | None:
    """Install the process's tracer provider once; later calls return the one installed.

    OpenTelemetry refuses to replace a global provider, so a second call (an app
    factory run twice in one test process) must not pretend it did.
    """
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = build_tracer_provider(service_name)
    if provider is not None:
        trace.set_tracer_provider(provider)
    return provider
