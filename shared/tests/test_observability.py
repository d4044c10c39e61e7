"""Logs and traces: JSON lines joined to traces and requests, scrubbed, and one trace per write.

Spans are collected in memory from the global tracer provider (OpenTelemetry
allows one per process, so it is installed once and shared); each test gets
its own exporter. Logging is pointed at a buffer per test and the previous
configuration put back afterwards, so other tests log as they did.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI, HTTPException
from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from receivables_platform.observability import (
    build_tracer_provider,
    configure_logging,
    configure_tracing,
    continued_from,
    current_traceparent,
    instrument_app,
    tracer,
)
from receivables_platform.web.request_log import RequestLogMiddleware

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
CALLER_TRACEPARENT = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
Lines = Callable[[], list[dict[str, Any]]]


# -- fixtures ----------------------------------------------------------------------------------


class Collector(SpanExporter):
    """Hands finished spans to the current test's exporter, and drops them between tests.

    A provider cannot lose a processor again, so this one stays installed and
    is pointed at each test's `InMemorySpanExporter` in turn.
    """

    def __init__(self) -> None:
        self.target: InMemorySpanExporter | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self.target is not None:
            return self.target.export(spans)
        return SpanExportResult.SUCCESS


@pytest.fixture(scope="module")
def provider() -> TracerProvider:
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    installed = TracerProvider(resource=Resource.create({"service.name": "observability-test"}))
    trace.set_tracer_provider(installed)
    return installed


@pytest.fixture(scope="module")
def collector(provider: TracerProvider) -> Collector:
    collector = Collector()
    provider.add_span_processor(SimpleSpanProcessor(collector))
    return collector


@pytest.fixture
def spans(collector: Collector) -> Iterator[InMemorySpanExporter]:
    collector.target = InMemorySpanExporter()
    yield collector.target
    collector.target = None


@pytest.fixture
def log_lines() -> Iterator[Lines]:
    saved_structlog = structlog.get_config()
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    libraries = {
        name: (list(lg.handlers), lg.propagate, lg.level)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "aiokafka")
        for lg in [logging.getLogger(name)]
    }
    buffer = io.StringIO()
    configure_logging("test-service", "INFO", stream=buffer)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    try:
        yield lines
    finally:
        structlog.configure(**saved_structlog)
        root.handlers[:] = saved_root[0]
        root.setLevel(saved_root[1])
        for name, (handlers, propagate, level) in libraries.items():
            library = logging.getLogger(name)
            library.handlers[:] = handlers
            library.propagate = propagate
            library.setLevel(level)


def server_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    [span] = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]
    return span


# -- logging -----------------------------------------------------------------------------------


def test_a_line_is_json_with_time_level_logger_and_service(log_lines: Lines) -> None:
    structlog.get_logger("receivables_platform.test").info("invoice.issued", amount_minor=100)
    [line] = log_lines()
    assert line["event"] == "invoice.issued"
    assert line["amount_minor"] == 100
    assert line["level"] == "info"
    assert line["logger"] == "receivables_platform.test"
    assert line["service"] == "test-service"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", line["timestamp"])


def test_a_line_inside_a_span_carries_its_trace_and_span_id(
    log_lines: Lines, spans: InMemorySpanExporter
) -> None:
    with tracer.start_as_current_span("work") as span:
        structlog.get_logger("t").info("inside")
    structlog.get_logger("t").info("outside")
    inside, outside = log_lines()
    context = span.get_span_context()
    assert inside["trace_id"] == format(context.trace_id, "032x")
    assert inside["span_id"] == format(context.span_id, "016x")
    assert "trace_id" not in outside and "span_id" not in outside


def test_a_bound_correlation_id_is_on_every_line_while_bound(log_lines: Lines) -> None:
    log = structlog.get_logger("t")
    with structlog.contextvars.bound_contextvars(correlation_id="req-123", account_id="a-1"):
        log.info("one")
        logging.getLogger("aiokafka").warning("two")
    log.info("three")
    one, two, three = log_lines()
    assert one["correlation_id"] == two["correlation_id"] == "req-123"
    assert one["account_id"] == "a-1"
    assert "correlation_id" not in three


def test_stdlib_logging_comes_out_in_the_same_shape(
    log_lines: Lines, spans: InMemorySpanExporter
) -> None:
    with tracer.start_as_current_span("consume"):
        logging.getLogger("aiokafka.consumer").info("joined group %s", "reporting-service")
    [line] = log_lines()
    assert line["event"] == "joined group reporting-service"
    assert line["logger"] == "aiokafka.consumer"
    assert line["level"] == "info"
    assert line["service"] == "test-service"
    assert len(line["trace_id"]) == 32


def test_library_handlers_are_replaced_by_the_json_one() -> None:
    uvicorn = logging.getLogger("uvicorn.error")
    stray = logging.StreamHandler(io.StringIO())
    uvicorn.addHandler(stray)
    uvicorn.propagate = False
    saved = structlog.get_config()
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    buffer = io.StringIO()
    try:
        configure_logging("svc", "INFO", stream=buffer)
        uvicorn.info("Started server process")
        assert stray not in uvicorn.handlers and uvicorn.propagate
        assert json.loads(buffer.getvalue())["event"] == "Started server process"
    finally:
        uvicorn.removeHandler(stray)
        uvicorn.propagate = True
        structlog.configure(**saved)
        root.handlers[:] = saved_root[0]
        root.setLevel(saved_root[1])


def test_lines_below_the_level_are_dropped(log_lines: Lines) -> None:
    structlog.get_logger("t").debug("noise")
    logging.getLogger("aiokafka").debug("noise")
    structlog.get_logger("t").warning("signal")
    assert [line["event"] for line in log_lines()] == ["signal"]


def test_an_exception_is_logged_as_text(log_lines: Lines) -> None:
    try:
        raise RuntimeError("broker gone")
    except RuntimeError:
        structlog.get_logger("t").exception("relay.failed")
    [line] = log_lines()
    assert line["level"] == "error"
    assert "RuntimeError: broker gone" in line["exception"]


# -- redaction ---------------------------------------------------------------------------------


def test_secrets_are_redacted_by_key(log_lines: Lines) -> None:
    structlog.get_logger("t").info(
        "connect",
        password="hunter2",
        sasl_password="p",
        jwt_secret="s",
        access_token="t",
        Authorization="Bearer abc.def.ghi",
        api_key="k",
        stripe_webhook_secret="whsec_1",
        headers={"authorization": "Basic dXNlcjpwYXNz", "x-request-id": "r1"},
        idempotency_key="idem-1",
        partition_key="acct-1",
    )
    [line] = log_lines()
    for key in (
        "password",
        "sasl_password",
        "jwt_secret",
        "access_token",
        "Authorization",
        "api_key",
        "stripe_webhook_secret",
    ):
        assert line[key] == "[REDACTED]", key
    assert line["headers"] == {"authorization": "[REDACTED]", "x-request-id": "r1"}
    assert line["idempotency_key"] == "idem-1"
    assert line["partition_key"] == "acct-1"


def test_contact_details_are_masked(log_lines: Lines) -> None:
    structlog.get_logger("t").info(
        "contact.attempted",
        email="jane.doe@example.com",
        phone="+44 20 7946 0958",
        contact={"mobile": "07700 900123", "email": "ops@example.org"},
        recipients=["a.b@example.com", "c@example.net"],
    )
    [line] = log_lines()
    assert line["email"] == "j***@example.com"
    assert line["phone"] == "***58"
    assert line["contact"] == {"mobile": "***23", "email": "o***@example.org"}
    assert line["recipients"] == ["a***@example.com", "c***@example.net"]
    assert "jane.doe" not in json.dumps(line) and "7946" not in json.dumps(line)


def test_secrets_inside_free_text_are_cut_out(log_lines: Lines) -> None:
    structlog.get_logger("t").info(
        "sent reminder to jane.doe@example.com",
        database_url="postgresql://billing:s3cr3t@db.internal:5432/billing",
        detail="upstream said 401 for header Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",
    )
    logging.getLogger("aiokafka").warning("SASL login for kafka://svc:hunter2@broker:9092")
    ours, theirs = log_lines()
    assert ours["event"] == "sent reminder to j***@example.com"
    assert ours["database_url"] == "postgresql://billing:***@db.internal:5432/billing"
    assert ours["detail"] == "upstream said 401 for header Bearer [REDACTED]"
    assert theirs["event"] == "SASL login for kafka://svc:***@broker:9092"


def test_a_traceback_is_scrubbed_too(log_lines: Lines) -> None:
    try:
        raise ValueError("no mailbox for jane.doe@example.com")
    except ValueError:
        structlog.get_logger("t").exception("smtp.failed")
    [line] = log_lines()
    assert "j***@example.com" in line["exception"]
    assert "jane.doe" not in line["exception"]


# -- HTTP server spans -------------------------------------------------------------------------


def an_app() -> FastAPI:
    app = FastAPI()

    @app.get("/v1/things/{thing_id}")
    async def read(thing_id: str) -> dict[str, Any]:
        with tracer.start_as_current_span("event_store.append"):
            stored = current_traceparent()
        structlog.get_logger("t").info("thing.read", thing_id=thing_id)
        return {"inside": current_traceparent(), "stored": stored}

    @app.get("/v1/broken")
    async def broken() -> None:
        raise HTTPException(503, "down")

    @app.get("/v1/missing")
    async def missing() -> None:
        raise HTTPException(404, "no such thing")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": current_traceparent() or "untraced"}

    app.add_middleware(RequestLogMiddleware)
    instrument_app(app)
    return app


async def get(path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=an_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        return await client.get(path, headers=headers)


def hex_span(span_id: int) -> str:
    return format(span_id, "016x")


def chain(span: ReadableSpan, exporter: InMemorySpanExporter) -> list[str]:
    """Names from `span` up to the root of what was collected, parents after children."""
    by_id = {s.context.span_id: s for s in exporter.get_finished_spans()}
    names = [span.name]
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


async def test_an_incoming_traceparent_is_the_parent_of_the_server_span(
    spans: InMemorySpanExporter,
) -> None:
    response = await get("/v1/things/t-1", {"traceparent": CALLER_TRACEPARENT})
    assert response.status_code == 200
    span = server_span(spans)
    assert format(span.context.trace_id, "032x") == CALLER_TRACE
    assert span.parent is not None and span.parent.is_remote
    assert hex_span(span.parent.span_id) == CALLER_SPAN

    inside = TRACEPARENT.fullmatch(response.json()["inside"])
    assert inside is not None
    assert inside.group(1) == CALLER_TRACE
    [current] = [
        s for s in spans.get_finished_spans() if hex_span(s.context.span_id) == inside.group(2)
    ]
    assert chain(current, spans)[-1] == span.name  # the handler runs inside the server span


async def test_the_server_span_is_named_by_route_and_says_how_it_went(
    spans: InMemorySpanExporter,
) -> None:
    await get("/v1/things/t-1")
    span = server_span(spans)
    assert span.name == "GET /v1/things/{thing_id}"
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/v1/things/{thing_id}"
    assert span.attributes["http.request.method"] == "GET"
    assert span.attributes["url.path"] == "/v1/things/t-1"
    assert span.attributes["http.response.status_code"] == 200
    assert span.status.status_code == StatusCode.UNSET


async def test_without_a_traceparent_the_request_starts_a_trace(
    spans: InMemorySpanExporter,
) -> None:
    response = await get("/v1/things/t-1")
    span = server_span(spans)
    assert span.parent is None
    inside = TRACEPARENT.fullmatch(response.json()["inside"])
    assert inside is not None and inside.group(1) == format(span.context.trace_id, "032x")


async def test_a_server_error_marks_the_span_and_a_client_error_does_not(
    spans: InMemorySpanExporter,
) -> None:
    assert (await get("/v1/broken")).status_code == 503
    assert server_span(spans).status.status_code == StatusCode.ERROR
    spans.clear()
    assert (await get("/v1/missing")).status_code == 404
    assert server_span(spans).status.status_code == StatusCode.UNSET


async def test_probes_are_not_traced(spans: InMemorySpanExporter) -> None:
    response = await get("/healthz", {"traceparent": CALLER_TRACEPARENT})
    assert response.json() == {"status": "untraced"}
    assert spans.get_finished_spans() == ()


async def test_operation_spans_only_when_asked_for(
    spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request is one server span by default; TRACE_OPERATIONS=true adds FastAPI's
    dependency, endpoint and serialization spans inside it."""
    await get("/v1/things/t-1")
    assert not [s.name for s in spans.get_finished_spans() if s.name.startswith("fastapi.")]
    spans.clear()
    monkeypatch.setenv("TRACE_OPERATIONS", "true")
    await get("/v1/things/t-1")
    inner = [s for s in spans.get_finished_spans() if s.name.startswith("fastapi.")]
    assert inner and all(s.context.trace_id == server_span(spans).context.trace_id for s in inner)


def test_fastapi_does_not_export_on_its_own() -> None:
    """configure_tracing installs the exporters; FastAPI adding its own would send spans twice."""
    app = FastAPI()
    instrument_app(app)
    assert app._telemetry["auto_configure"] is False


async def test_request_log_lines_carry_the_trace_of_the_request(
    log_lines: Lines, spans: InMemorySpanExporter
) -> None:
    await get("/v1/things/t-1", {"traceparent": CALLER_TRACEPARENT, "x-correlation-id": "c-9"})
    handler_line, request_line = [line for line in log_lines() if line["logger"] != "httpx"]
    assert handler_line["event"] == "thing.read"
    assert request_line["event"] == "http.request"
    for line in (handler_line, request_line):
        assert line["trace_id"] == CALLER_TRACE
        assert line["correlation_id"] == "c-9"


async def test_one_trace_from_request_through_the_append_to_the_consumer(
    spans: InMemorySpanExporter,
) -> None:
    """What the store records on the outbox row is what the consumer continues from Kafka."""
    response = await get("/v1/things/t-1", {"traceparent": CALLER_TRACEPARENT})
    stored = response.json()["stored"]
    with continued_from(stored, "billing.events.v1 process", topic="billing.events.v1"):
        pass
    finished = {s.name: s for s in spans.get_finished_spans()}
    server = finished["GET /v1/things/{thing_id}"]
    append = finished["event_store.append"]
    consumer = finished["billing.events.v1 process"]
    assert {format(s.context.trace_id, "032x") for s in (server, append, consumer)} == {
        CALLER_TRACE
    }
    assert stored == f"00-{CALLER_TRACE}-{hex_span(append.context.span_id)}-01"
    assert consumer.kind == SpanKind.CONSUMER
    path = chain(consumer, spans)
    assert path[:2] == ["billing.events.v1 process", "event_store.append"]
    assert path[-1] == server.name


# -- tracer provider from the environment ------------------------------------------------------


def processors(provider: TracerProvider | None) -> list[Any]:
    assert provider is not None
    return list(provider._active_span_processor._span_processors)


@pytest.fixture
def otel_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "OTEL_SDK_DISABLED",
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_without_an_endpoint_spans_are_made_but_not_exported(otel_env: pytest.MonkeyPatch) -> None:
    provider = build_tracer_provider("billing-adapter")
    assert processors(provider) == []
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "billing-adapter"


def test_an_otlp_endpoint_turns_on_the_otlp_exporter(otel_env: pytest.MonkeyPatch) -> None:
    otel_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    [processor] = processors(build_tracer_provider("billing-adapter"))
    assert isinstance(processor, BatchSpanProcessor)
    assert isinstance(processor._batch_processor._exporter, OTLPSpanExporter)
    processor.shutdown()


def test_the_console_exporter_on_request(otel_env: pytest.MonkeyPatch) -> None:
    otel_env.setenv("OTEL_TRACES_EXPORTER", "console")
    [processor] = processors(build_tracer_provider("billing-adapter"))
    assert isinstance(processor, SimpleSpanProcessor)
    assert isinstance(processor.span_exporter, ConsoleSpanExporter)


def test_exporter_none_wins_over_an_endpoint(otel_env: pytest.MonkeyPatch) -> None:
    otel_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    otel_env.setenv("OTEL_TRACES_EXPORTER", "none")
    assert processors(build_tracer_provider("billing-adapter")) == []


def test_the_operator_names_the_service(otel_env: pytest.MonkeyPatch) -> None:
    otel_env.setenv("OTEL_SERVICE_NAME", "billing-adapter-eu")
    provider = build_tracer_provider("billing-adapter")
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "billing-adapter-eu"


def test_a_disabled_sdk_installs_nothing(otel_env: pytest.MonkeyPatch) -> None:
    otel_env.setenv("OTEL_SDK_DISABLED", "true")
    assert build_tracer_provider("billing-adapter") is None


def recorded(provider: TracerProvider | None, parent: str | None = None, n: int = 400) -> int:
    """How many of `n` server spans the provider records (each a new trace, or the child of
    the traceparent `parent`), checking every one still has ids for the logs and events."""
    assert provider is not None
    tracer = provider.get_tracer("sampling-test")
    count = 0
    for _ in range(n):
        context = propagate.extract({"traceparent": parent} if parent else {})
        with tracer.start_as_current_span(
            "GET /v1/invoices/{invoice_id}", context=context, kind=trace.SpanKind.SERVER
        ) as span:
            assert span.get_span_context().is_valid
            count += span.is_recording()
    return count


SAMPLED_PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
UNSAMPLED_PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"


def test_a_share_of_new_traces_is_recorded_by_default(otel_env: pytest.MonkeyPatch) -> None:
    """Issue 23: recording every request's spans was 8% of a read's CPU."""
    share = recorded(build_tracer_provider("billing-adapter")) / 400
    assert 0.02 < share < 0.25  # DEFAULT_SAMPLE_RATIO, 0.1, give or take chance


def test_a_callers_sampling_decision_is_followed(otel_env: pytest.MonkeyPatch) -> None:
    provider = build_tracer_provider("billing-adapter")
    assert recorded(provider, SAMPLED_PARENT, n=50) == 50
    assert recorded(provider, UNSAMPLED_PARENT, n=50) == 0


def test_the_share_is_raised_by_the_sampler_argument(otel_env: pytest.MonkeyPatch) -> None:
    otel_env.setenv("OTEL_TRACES_SAMPLER_ARG", "1")
    assert recorded(build_tracer_provider("billing-adapter")) == 400


def test_opentelemetrys_own_sampler_setting_wins(otel_env: pytest.MonkeyPatch) -> None:
    otel_env.setenv("OTEL_TRACES_SAMPLER", "always_on")
    otel_env.setenv("OTEL_TRACES_SAMPLER_ARG", "0")
    assert recorded(build_tracer_provider("billing-adapter")) == 400


@pytest.mark.parametrize("value", ["ten percent", "1.5", "-0.1", "nan"])
def test_a_share_that_is_no_ratio_stops_the_start(otel_env: pytest.MonkeyPatch, value: str) -> None:
    otel_env.setenv("OTEL_TRACES_SAMPLER_ARG", value)
    with pytest.raises(ValueError, match="OTEL_TRACES_SAMPLER_ARG"):
        build_tracer_provider("billing-adapter")


def test_configure_tracing_keeps_the_provider_already_installed(provider: TracerProvider) -> None:
    assert configure_tracing("another-name") is provider
    assert trace.get_tracer_provider() is provider
