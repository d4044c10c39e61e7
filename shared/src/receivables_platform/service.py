"""What makes a package a receivables service: its spec, and how it is served.

`serve(spec)` is each service's `__main__`: read settings, migrate the
service's database, build the app with its relay and consumers, run uvicorn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter, FastAPI

from receivables_platform.settings import ServiceSettings
from receivables_platform.web.app import Worker, create_app
from receivables_platform.web.refusals import install_refusal_handler


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    title: str
    default_port: int
    database: str
    versions_dir: Path
    publishes: str | None = None
    routers: Sequence[APIRouter] = ()
    workers: Sequence[Worker] = ()
    extra: dict[str, object] = field(default_factory=dict)

    def settings(self, **overrides: object) -> ServiceSettings:
        """Environment first; the service's documented port when HTTP_PORT is unset."""
        base = ServiceSettings(service_name=self.name)
        values = {"http_port": base.http_port or self.default_port,
                  **{k: v for k, v in overrides.items() if v is not None}}
        return base.model_copy(update=values)


def build_app(spec: ServiceSpec, settings: ServiceSettings | None = None,
              extra_workers: Sequence[Worker] = ()) -> FastAPI:
    settings = settings or spec.settings()
    app = create_app(settings, title=spec.title, routers=spec.routers,
                     workers=[*spec.workers, *extra_workers])
    install_refusal_handler(app)
    return app


def serve(spec: ServiceSpec,
          app_factory: Callable[[ServiceSettings], FastAPI] | None = None) -> None:
    import uvicorn

    from receivables_platform.db.migrate import upgrade

    settings = spec.settings()
    if not settings.database_url:
        raise SystemExit(f"{spec.name}: DATABASE_URL is not set (make run sets it for you)")
    upgrade(settings.database_url, spec.versions_dir)
    app = app_factory(settings) if app_factory else build_app(spec, settings)
    uvicorn.run(app, host=settings.http_host, port=settings.http_port or spec.default_port,
                log_config=None,
                access_log=False)
