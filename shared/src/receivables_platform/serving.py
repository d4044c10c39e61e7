"""Serving a service: a process's first steps, and the app uvicorn runs in it.

Apart from `service.py` (what a service is: its spec and the app built from it) so that
nothing the app is built from depends on how it is served; `web_processes` holds what
several processes on one port share, and this module, at the top, uses both.
"""

from __future__ import annotations

import os
import signal

from fastapi import FastAPI

from receivables_platform.heap import freeze_start_up, freeze_survivors
from receivables_platform.service import ServiceSpec, build_app
from receivables_platform.settings import ServiceSettings
from receivables_platform.web_processes import (
    SPEC_ENV,
    SUPERVISOR_ENV,
    die_with_parent,
    shared_metrics,
    supervise,
)

# uvicorn's import string for `worker_app`, the factory each worker process calls
WORKER_APP = "receivables_platform.serving:worker_app"


def observed_settings(spec: ServiceSpec) -> ServiceSettings:
    """The service's settings, with its logs and traces set up: a process's first step."""
    from receivables_platform.observability.logging import configure_logging
    from receivables_platform.observability.tracing import configure_tracing

    settings = spec.settings()
    configure_logging(spec.name, settings.log_level)
    configure_tracing(spec.name)
    return settings


def app_to_serve(
    spec: ServiceSpec, settings: ServiceSettings, dependencies: object = None
) -> FastAPI:
    """The app, with everything built so far frozen out of the garbage collector's sight:
    it lives as long as the process, and a full collection no longer walks it (about
    100,000 objects, some 50 ms, a pause every request in flight would wait out); and from
    then on what survives each full collection (remembered states) is frozen too."""
    app = build_app(spec, settings, dependencies=dependencies)
    freeze_start_up()
    freeze_survivors()
    return app


def serve(spec: ServiceSpec) -> None:
    import uvicorn

    from receivables_platform.db.migrate import upgrade
    from receivables_platform.web.header_limit import HeaderLimitedProtocol

    settings = observed_settings(spec)
    if not settings.database_url:
        raise SystemExit(f"{spec.name}: DATABASE_URL is not set (make run sets it for you)")
    # composed before migrating, so a bad service setting stops the process before it
    # touches the database (each worker process composes its own)
    dependencies = spec.dependencies() if spec.dependencies else None
    upgrade(settings.database_url, spec.versions_dir)
    host, port = settings.http_host, settings.http_port or spec.default_port
    if settings.web_concurrency > 1:
        supervise(spec)
        with shared_metrics():
            uvicorn.run(
                WORKER_APP,
                factory=True,
                workers=settings.web_concurrency,
                host=host,
                port=port,
                log_config=None,
                access_log=False,
                http=HeaderLimitedProtocol,
            )
        return
    uvicorn.run(
        app_to_serve(spec, settings, dependencies),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        http=HeaderLimitedProtocol,
    )


def worker_app() -> FastAPI:
    """uvicorn's factory in each worker process: the service's app, built as `serve` builds it."""
    die_with_parent(signal.SIGKILL)
    # the supervisor died before the line above took effect (compared with its pid, not
    # with 1: in a container the supervisor is often pid 1 itself)
    if str(os.getppid()) != os.environ.get(SUPERVISOR_ENV):
        raise SystemExit("the supervisor is gone")
    from uvicorn.importer import import_from_string

    spec = import_from_string(os.environ[SPEC_ENV])
    return app_to_serve(spec, observed_settings(spec))
