"""A service's API served by several processes on one port (`WEB_CONCURRENCY`).

One event loop uses one core at most. On a host with more cores than that, run
without Kubernetes replicas, `WEB_CONCURRENCY=N` has uvicorn's supervisor bind
the port and start N worker processes, each a whole service process (API,
relay candidate, consumer group member), as N replicas behind a load balancer
would be; the kernel spreads connections between them.

What changes with more than one process:

* the supervisor runs the migrations once, before any worker starts;
* a worker dies with its supervisor (SIGKILL), so a killed service never leaves
  workers holding its port, the way a container's processes go with it;
* `/metrics` adds up every worker's counters and histograms (prometheus_client's
  multiprocess mode, in a directory that lives as long as the supervisor);
  a gauge is reported per worker, with a `pid` label.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

from receivables_platform.web.metrics import METRICS_DIR_ENV

if TYPE_CHECKING:
    from receivables_platform.service import ServiceSpec

SPEC_ENV = "RECEIVABLES_SERVICE_SPEC"
SUPERVISOR_ENV = "RECEIVABLES_SUPERVISOR_PID"
SUPERVISOR_ENVIRONMENT = {
    SPEC_ENV: "Set by the supervisor for its API processes (WEB_CONCURRENCY above 1): the "
    "service each one builds; do not set it.",
    SUPERVISOR_ENV: "Set by the supervisor for its API processes: its pid, so an orphaned "
    "process exits; do not set it.",
}


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send `sig` to this process when its parent dies (Linux)."""
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, sig)


def spec_import_path(spec: ServiceSpec) -> str:
    """`package.spec:SPEC` for the imported module that defines `spec`: what a worker imports."""
    defining = [
        name
        for name, module in list(sys.modules.items())
        if getattr(module, "SPEC", None) is spec and name != "__main__"
    ]
    if not defining:
        raise LookupError(f"no imported module defines the spec of {spec.name} as SPEC")
    return f"{min(defining, key=lambda name: not name.endswith('.spec'))}:SPEC"


def supervise(spec: ServiceSpec) -> None:
    """Tell the workers which service to build, and whose children they are."""
    os.environ[SPEC_ENV] = spec_import_path(spec)
    os.environ[SUPERVISOR_ENV] = str(os.getpid())


@contextlib.contextmanager
def shared_metrics() -> Iterator[None]:
    """A fresh directory the workers write their metrics to, removed when serving ends."""
    path = tempfile.mkdtemp(prefix="receivables-metrics-")
    os.environ[METRICS_DIR_ENV] = path
    try:
        yield
    finally:
        os.environ.pop(METRICS_DIR_ENV, None)
        shutil.rmtree(path, ignore_errors=True)
