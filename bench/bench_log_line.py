"""CPU per request log line: the one JSON line every API request writes.

Every request of every service logs one `http.request` line through the shared
processor chain (context, trace ids, secret and contact-detail scrubbing, JSON),
so its cost is paid on every request the load benchmark counts. Prints the CPU
microseconds per line, written to a sink that discards it.

    .venv/bin/python bench/bench_log_line.py --lines 20000
"""

from __future__ import annotations

import argparse
import io
import time

import structlog

from receivables_platform.observability.logging import configure_logging


class Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=20_000)
    args = parser.parse_args()
    configure_logging("billing-adapter", "INFO", stream=Discard())
    log = structlog.get_logger("receivables_platform.web")
    fields = {
        "method": "GET",
        "route": "/v1/accounts/{account_id}",
        "path": "/v1/accounts/01a21a09-3966-7000-8000-000000000001",
        "status": 200,
        "duration_ms": 1.23,
        "sub": "collector-load-1",
    }
    with structlog.contextvars.bound_contextvars(correlation_id="01a21a09-3966-7000-8000-0"):
        began = time.process_time()
        for _ in range(args.lines):
            log.info("http.request", **fields)
        used = time.process_time() - began
    print(f"{args.lines} request log lines: {used / args.lines * 1e6:.1f} µs CPU per line")


if __name__ == "__main__":
    main()
