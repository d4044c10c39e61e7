"""`/metrics` for Prometheus, and the HTTP request metric every service has.

The endpoint exposes prometheus_client's default registry, so metrics the
relay, consumers or a service define anywhere in the process show up without
wiring. It stays open like the probes: scrapers carry no tokens, and it
reveals counts, not data.
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.responses import Response

# prometheus_client's multiprocess directory, set while several processes serve one port
# (`web_processes`): its presence is what tells `/metrics` to add their counters up
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
METRICS_ENVIRONMENT = {
    METRICS_DIR_ENV: "Set by the platform for its own API processes when WEB_CONCURRENCY is "
    "above 1 (prometheus_client's shared directory); do not set it.",
}

HTTP_REQUEST_DURATION = Histogram(
    "http_server_request_duration_seconds",
    "Time from request start to the end of the response, by route template",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUEST_DURATION.labels(method=method, route=route, status=str(status)).observe(seconds)


def install_metrics(app: FastAPI) -> None:
    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    """This process's metrics, or every worker's added up when the API runs as several
    processes (`web_processes`): any one of them may be the one a scrape reaches."""
    if METRICS_DIR_ENV not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry
