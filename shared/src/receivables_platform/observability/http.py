"""HTTP server spans: FastAPI's own OpenTelemetry support, set up the way this platform needs.

FastAPI (0.142 and later) opens a server span for every request as soon as a
tracer provider is installed (`configure_tracing`): it continues an incoming
W3C `traceparent`, names the span after the route template, and wraps the
whole middleware stack, so the request log and the event store's
`event_store.append` span (whose context is stored with each event and sent
on in Kafka headers) sit inside it. A second, hand-written middleware would
only nest a duplicate server span, so there is none.

What is left to decide is ours: probe and scrape paths get no spans (they
would outnumber real requests and say nothing), and FastAPI must not set up
exporters of its own from `OTEL_*` (FASTAPI_OTEL_AUTO_CONFIGURE) next to the
ones `configure_tracing` installs, or every span would leave twice.

FastAPI's OpenTelemetry request metrics and logs stay off: `/metrics` (Prometheus)
and the JSON request log already say the same, and merely checking for their
providers read the environment on every request. Spans for dependency
resolution, the endpoint and serialization inside each request are a profiler's
detail (with those checks, about a fifth of a read's CPU): `TRACE_OPERATIONS=true`
turns them on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _excluding(paths: frozenset[str]) -> Callable[[MutableMapping[str, Any]], bool]:
    def exclude(scope: MutableMapping[str, Any]) -> bool:
        return scope.get("path") in paths

    return exclude


SPANS_ENVIRONMENT = {
    "TRACE_OPERATIONS": "`true`: a span for each dependency and body step inside a request "
    "too, not only the request's own (costly; for a diagnosis).",
}


def operation_spans_wanted() -> bool:
    return os.environ.get("TRACE_OPERATIONS", "").strip().lower() == "true"


def telemetry_config(
    *, untraced_paths: Iterable[str] = UNTRACED_PATHS, operation_spans: bool | None = None
) -> TelemetryConfig:
    """Settings for `FastAPI(telemetry=...)` when the app is built here."""
    return {
        "exclude": _excluding(frozenset(untraced_paths)),
        "operation_spans": (
            operation_spans_wanted() if operation_spans is None else operation_spans
        ),
        "metrics": False,
        "logs": False,
        "auto_configure": False,
    }


def instrument_app(
    app: FastAPI,
    *,
    untraced_paths: Iterable[str] = UNTRACED_PATHS,
    operation_spans: bool | None = None,
) -> None:
    """Apply `telemetry_config` to an app that was built without it.

    FastAPI takes telemetry settings only in its constructor and reads them on
    every request; the app factory builds the app, so they are applied to it
    afterwards. A FastAPI without native telemetry is refused rather than left
    silently untraced.
    """
    settings = getattr(app, "_telemetry", None)
    if not isinstance(settings, dict):
        raise RuntimeError("this FastAPI has no native OpenTelemetry support (needs 0.142+)")
    settings.update(
        telemetry_config(untraced_paths=untraced_paths, operation_spans=operation_spans)
    )
