"""FastAPI app factory: one lifespan that owns the pool and the background workers.

A service hands in its routers and the workers it runs beside the API (outbox
relay, consumers); the lifespan starts them after the pool is up and cancels
them on shutdown, so one process is one whole service in dev and a platform
team can still split roles with settings.

Every app also gets the HTTP conventions of docs/architecture.md#http, so no service
can forget one: problem+json errors, the token verifier behind
`require_roles`, Idempotency-Key replays (and the purge of old keys), request
logging with correlation ids, and `/metrics` beside the open probes.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import asyncpg
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from receivables_platform.db.pool import create_pool
from receivables_platform.observability.http import telemetry_config
from receivables_platform.settings import ServiceSettings
from receivables_platform.web.api_docs import install_api_docs
from receivables_platform.web.auth import TokenVerifier
from receivables_platform.web.connection import ReleaseConnections
from receivables_platform.web.header_limit import HeaderLimitMiddleware
from receivables_platform.web.idempotency import install_idempotency, purge_forever
from receivables_platform.web.metrics import install_metrics
from receivables_platform.web.openapi_examples import document_examples
from receivables_platform.web.openapi_problems import document_problems
from receivables_platform.web.path_prefix import ServedUnderPrefix
from receivables_platform.web.problems import install_problem_handlers
from receivables_platform.web.request_log import RequestLogMiddleware
from receivables_platform.web.request_text import NulTextMiddleware

Worker = Callable[["ServiceState"], Coroutine[Any, Any, None]]
T = TypeVar("T")


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"]


class Readiness(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "ready", "checks": {"database": "ok", "broker": "ok"}}]
        }
    )

    status: Literal["ready", "not ready"]
    checks: dict[str, str] = Field(
        description="Each dependency checked: `ok`, or `unavailable: <error>`"
    )


@dataclass
class ServiceState:
    settings: ServiceSettings
    pool: asyncpg.Pool
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    dependencies: Any = None
    """The service's own settings and collaborators, as its spec composed them
    (`ServiceSpec.dependencies`); routes find the same object at `app.state.dependencies`."""


def composed(holder: Request | ServiceState, kind: type[T]) -> T:
    """The service's dependencies as its spec composed them (`ServiceSpec.dependencies`),
    from a request or a worker's state; a service built without them fails loudly here."""
    found = holder.app.state.dependencies if isinstance(holder, Request) else holder.dependencies
    if not isinstance(found, kind):
        raise TypeError(
            f"the app was built with {type(found).__name__} as its dependencies, "
            f"not {kind.__name__}"
        )
    return found


def create_app(
    settings: ServiceSettings,
    *,
    title: str,
    routers: Sequence[APIRouter] = (),
    workers: Sequence[Worker] = (),
    readiness: Sequence[Callable[[ServiceState], Awaitable[None]]] = (),
    dependencies: Any = None,
) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        assert settings.database_url, "DATABASE_URL must be resolved before the app starts"
        pool = await create_pool(settings.database_url, max_size=settings.database_pool_size)
        state = ServiceState(settings=settings, pool=pool, dependencies=dependencies)
        app.state.service = state
        for worker in [*workers, purge_idempotency_keys]:
            state.tasks.append(asyncio.create_task(worker(state), name=worker.__name__))
        try:
            yield
        finally:
            for task in state.tasks:
                task.cancel()
            await asyncio.gather(*state.tasks, return_exceptions=True)
            await pool.close()

    app = FastAPI(
        title=title,
        version="1.0.0",
        lifespan=lifespan,
        telemetry=telemetry_config(),
        generate_unique_id_function=operation_id,
        docs_url=None,
        redoc_url=None,
    )
    app.state.dependencies = dependencies
    install_api_docs(app)
    install_conventions(app, settings)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> Health:
        """Live: the process answers."""
        return Health(status="ok")

    @app.get(
        "/readyz",
        tags=["health"],
        response_model=Readiness,
        responses={
            503: {"model": Readiness, "description": "The database or the broker does not answer"}
        },
    )
    async def readyz(request: Request) -> JSONResponse:
        """Ready: the database and the broker answer."""
        state: ServiceState = request.app.state.service
        checks: dict[str, str] = {}
        try:
            async with state.pool.acquire(timeout=2) as conn:
                await conn.fetchval("SELECT 1")
            checks["database"] = "ok"
        except Exception as exc:  # any failure means not ready
            checks["database"] = f"unavailable: {type(exc).__name__}"
        for check in readiness:
            try:
                await asyncio.wait_for(check(state), 5)
                checks[check.__name__] = "ok"
            except Exception as exc:
                checks[check.__name__] = f"unavailable: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    for router in routers:
        app.include_router(router)
    return app


def install_conventions(app: FastAPI, settings: ServiceSettings) -> None:
    app.state.token_verifier = TokenVerifier.from_settings(settings)
    install_problem_handlers(app)
    install_idempotency(app)
    install_metrics(app)
    document_problems(app)
    document_examples(app)  # after the problems: their schema gets its example too
    app.add_middleware(ReleaseConnections)
    app.add_middleware(NulTextMiddleware)
    app.add_middleware(HeaderLimitMiddleware)
    app.add_middleware(RequestLogMiddleware)
    if settings.http_root_path:
        app.add_middleware(ServedUnderPrefix, prefix=settings.http_root_path)


def operation_id(route: APIRoute) -> str:
    """`invoices_read`: the router's tag and the route's function, a name a generated client
    can use as its method (FastAPI's default, `read_v1_invoices__invoice_id__get`, repeats
    the path and changes whenever it does)."""
    tag = re.sub(r"[^a-z0-9]+", "_", str(route.tags[0]).lower()).strip("_") if route.tags else ""
    return f"{tag}_{route.name}" if tag and not route.name.startswith(tag) else route.name


async def purge_idempotency_keys(state: ServiceState) -> None:
    await purge_forever(state.pool)
