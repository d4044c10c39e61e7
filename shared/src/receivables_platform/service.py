"""What makes a package a receivables service: its spec, and how it is served.

A spec names the service's database, the topic it publishes (its relay) and
the topics it consumes (its read models). `build_app` turns it into one
process running the API, the relay and the consumers; settings can switch the
relay or consumers off so a platform team can run them as separate
deployments. `serving.serve(spec)` is each service's `__main__`.

The spec is a service's composition root: its `dependencies` factory is the one place
that reads the service's own settings and builds its collaborators (a clock, a
calendar, a policy), once, when the app is built. Routes, consumers and background
work are handed that object; nothing below reads the environment or keeps a
process-wide copy, so a test composes its own and passes it to `build_app`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from fastapi import APIRouter, FastAPI

from receivables_platform.consumer import ConsumerRunner, Handler, handled_types
from receivables_platform.consumer.set_aside import set_aside_router
from receivables_platform.consumer.status import status_router
from receivables_platform.envelope import CloudEvent
from receivables_platform.kafka.health import BrokerHealth
from receivables_platform.relay import OutboxRelay
from receivables_platform.relay.admin import outbox_admin_router
from receivables_platform.settings import ServiceSettings
from receivables_platform.store import event_limits
from receivables_platform.web.app import ServiceState, Worker, create_app
from receivables_platform.web.header_limit import header_limits
from receivables_platform.web.refusals import install_refusal_handler


@dataclass(frozen=True)
class WithDependencies:
    """A consumer handler that is also handed the service's dependencies (its third
    argument), bound when the consumer starts."""

    handler: Callable[[asyncpg.Connection, CloudEvent, Any], Awaitable[None]]

    @property
    def event_types(self) -> frozenset[str] | None:
        return handled_types(self.handler)

    def bind(self, dependencies: object) -> Handler:
        async def bound(conn: asyncpg.Connection, event: CloudEvent) -> None:
            await self.handler(conn, event, dependencies)

        bound.__name__ = getattr(self.handler, "__name__", "handler")
        return bound


@dataclass(frozen=True)
class Subscription:
    """A read model fed from topics: the handler runs in the offset's transaction.

    Its consumer decodes only the event types the handler declares (a dispatch table's keys,
    or `handles(...)`); the others of its topics only move the position. A handler that
    declares nothing is handed every event.
    """

    name: str
    topics: Sequence[str]
    handler: Handler | WithDependencies

    @property
    def event_types(self) -> frozenset[str] | None:
        return handled_types(self.handler)

    def handler_for(self, dependencies: object) -> Handler:
        if isinstance(self.handler, WithDependencies):
            return self.handler.bind(dependencies)
        return self.handler


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    title: str
    default_port: int
    database: str
    versions_dir: Path
    publishes: str | None = None
    subscriptions: Sequence[Subscription] = ()
    routers: Sequence[APIRouter] = ()
    background: Sequence[Worker] = ()
    """The service's own periodic work (an SLA sweep, a daily worklist); runs with the consumers."""
    dependencies: Callable[[], object] | None = None
    """The composition root of the service's own settings and collaborators: called once by
    `build_app`, so a bad setting stops the service at start; the result reaches routes as
    `app.state.dependencies`, workers as `state.dependencies`, `WithDependencies` handlers
    as their third argument."""

    def group_id(self, subscription: Subscription, base: str | None = None) -> str:
        """The service name (docs/architecture.md#names), or `base` (CONSUMER_GROUP) for a
        deployment of its own; a second read model gets a suffix."""
        name = base or self.name
        if subscription.name == "default":
            return name
        return f"{name}.{subscription.name}"

    def settings(self, **overrides: object) -> ServiceSettings:
        """Environment first; the service's documented port when HTTP_PORT is unset."""
        base = ServiceSettings(service_name=self.name)
        values = {
            "http_port": base.http_port or self.default_port,
            **{k: v for k, v in overrides.items() if v is not None},
        }
        return base.model_copy(update=values)


def relay_worker(spec: ServiceSpec) -> Worker:
    async def outbox_relay(state: ServiceState) -> None:
        assert spec.publishes
        await OutboxRelay(
            state.pool,
            state.settings.kafka,
            service_name=spec.name,
            topics=[spec.publishes],
            pass_interval=state.settings.relay_pass_interval,
        ).run()

    return outbox_relay


def consumer_worker(spec: ServiceSpec, subscription: Subscription) -> Worker:
    async def consumer(state: ServiceState) -> None:
        await ConsumerRunner(
            state.pool,
            state.settings.kafka,
            group_id=spec.group_id(subscription, state.settings.consumer_group),
            topics=subscription.topics,
            handler=subscription.handler_for(state.dependencies),
            event_types=subscription.event_types,
        ).run()

    consumer.__name__ = f"consumer_{subscription.name}"
    return consumer


def workers_for(spec: ServiceSpec, settings: ServiceSettings) -> list[Worker]:
    workers: list[Worker] = list(spec.background) if settings.run_consumers else []
    if not settings.kafka.bootstrap_servers:
        return workers
    if spec.publishes and settings.run_relay:
        workers.append(relay_worker(spec))
    if settings.run_consumers:
        workers.extend(consumer_worker(spec, s) for s in spec.subscriptions)
    return workers


def build_app(
    spec: ServiceSpec, settings: ServiceSettings | None = None, *, dependencies: object = None
) -> FastAPI:
    """The service's app; `dependencies` replaces what the spec would compose (a test's
    fixed clock, its own limits)."""
    settings = settings or spec.settings()
    if dependencies is None and spec.dependencies is not None:
        dependencies = spec.dependencies()
    # read now, so a bad EVENT_MAX_BYTES or HTTP_MAX_HEADER_BYTES stops the service at start
    event_limits()
    header_limits()
    readiness = []
    if settings.kafka.bootstrap_servers:
        health = BrokerHealth(settings.kafka)

        async def broker(state: ServiceState) -> None:
            await health.check()

        readiness.append(broker)
    routers = list(spec.routers)
    if spec.publishes:
        routers.append(outbox_admin_router())
    if spec.subscriptions:
        routers.append(
            status_router(
                [(spec.group_id(s, settings.consumer_group), s.topics) for s in spec.subscriptions]
            )
        )
        routers.append(set_aside_router())
    app = create_app(
        settings,
        title=spec.title,
        routers=routers,
        workers=workers_for(spec, settings),
        readiness=readiness,
        dependencies=dependencies,
    )
    install_refusal_handler(app)
    return app
