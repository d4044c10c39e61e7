"""JSON log lines on stdout that a log pipeline can join to traces and requests.

Every line, whether it comes from our structlog loggers or from a library on
stdlib logging (uvicorn, aiokafka, asyncpg, alembic), goes through one handler
and one processor chain, so it has the same shape: ISO timestamp in UTC,
level, logger, service, the active trace and span ids, and whatever the code
bound with `structlog.contextvars` (the request's correlation id, for one).

Logs leave the process and are kept longer and read more widely than the data
they describe, so secrets and contact details are scrubbed here, once, rather
than trusted to every call site: values under secret-looking keys are
replaced, email addresses (anywhere) and phone numbers (under phone-like keys,
since free text is full of digits that are not phones) are masked, credentials inside
URLs and bearer tokens inside free text are cut out. Tracebacks are rendered
as text without local variables for the same reason.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from opentelemetry import trace
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[REDACTED]"

# Keys whose whole value is a secret, matched anywhere in the key, case-insensitively.
_SECRET_KEY = re.compile(
    r"passw(or)?d|passphrase|pwd|secret|token|authori[sz]ation|api[-_]?key|private[-_]?key|"
    r"credential|cookie|signature",
    re.IGNORECASE,
)
_PHONE_KEY = re.compile(r"phone|mobile|msisdn|fax", re.IGNORECASE)

_EMAIL = re.compile(r"\b([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})\b")
_URL_CREDENTIALS = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]*:)[^/\s@]+@")
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE)
_DIGIT = re.compile(r"\d")

# Loggers whose own handlers would print a second, non-JSON copy of each line.
_LIBRARY_LOGGERS = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "aiokafka",
    "asyncpg",
    "alembic",
    "httpx",
    "httpcore",
)


def mask_email(value: str) -> str:
    """Keep the first character and the domain: enough to tell two customers apart in a log."""
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", value)


def mask_phone(value: str) -> str:
    """Keep the last two digits, the way a receipt shows a card number."""
    digits = _DIGIT.findall(value)
    return "***" + "".join(digits[-2:]) if len(digits) > 2 else "***"


def _scrub_text(value: str) -> str:
    if "://" in value:
        value = _URL_CREDENTIALS.sub(r"\1***@", value)
    if "@" in value:
        value = mask_email(value)
    if " " in value:
        value = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", value)
    return value


@functools.lru_cache(maxsize=4096)
def _key_kind(key: str) -> int:
    """0 plain, 1 secret, 2 phone: a line's keys come from a small set, so each is
    classified once instead of searched by two patterns on every line."""
    return 1 if _SECRET_KEY.search(key) else 2 if _PHONE_KEY.search(key) else 0


def _scrub(key: str | None, value: Any) -> Any:
    if key is not None and (kind := _key_kind(key)):
        if kind == 1:
            return REDACTED if value not in (None, "") else value
        if isinstance(value, str):
            return mask_phone(value)
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, Mapping):
        return {k: _scrub(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(key, v) for v in value]
    return value


def redact_secrets(logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
    """Replace secrets and mask contact details anywhere in the line, nested values included."""
    for key in list(event_dict):
        if key.startswith("_"):
            continue  # structlog's own bookkeeping (_record, _from_structlog)
        event_dict[key] = _scrub(None if key == "event" else key, event_dict[key])
    return event_dict


def add_trace_context(logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
    """The active span's ids, hex as in W3C traceparent, so a log search lands on the trace."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict


def _add_service(service_name: str) -> Processor:
    def add_service(logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service_name)
        return event_dict

    return add_service


def _level_number(level: str | int) -> int:
    if isinstance(level, int):
        return level
    number = logging.getLevelName(level.strip().upper())
    if not isinstance(number, int):
        raise ValueError(f"unknown log level {level!r}")
    return number


def configure_logging(
    service_name: str, level: str | int | None = None, *, stream: TextIO | None = None
) -> None:
    """Route structlog and stdlib logging to one JSON renderer on `stream` (stdout).

    `level` defaults to LOG_LEVEL, then INFO. Calling it again replaces the
    previous configuration, so a test can point the output at a buffer.
    """
    number = _level_number(level if level is not None else os.environ.get("LOG_LEVEL", "INFO"))
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service_name),
        add_trace_context,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        structlog.processors.UnicodeDecoder(),
        redact_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(number),
        logger_factory=structlog.stdlib.LoggerFactory(),
        context_class=dict,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(default=str),
        ],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    handler.setFormatter(formatter)
    handler.set_name("receivables_platform.json")
    # No line shows the caller's file, thread or process: the logging HOWTO's
    # "Optimization" settings spare every record a stack walk and two lookups.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(number)
    for name in _LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
        library.setLevel(logging.NOTSET)
    # The request-log middleware writes one richer line per request already.
    logging.getLogger("uvicorn.access").setLevel(max(number, logging.WARNING))
