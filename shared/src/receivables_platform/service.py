"""What makes a package a receivables service: its spec, and how it is served.

A spec names the service's database, the topic it publishes (its relay) and
the topics it consumes (its read models). `build_app` turns it into one
process running the API, the relay and the consumers; settings can switch the
relay or consumers off so a platform team can run them as separate
deployments. `serve(spec)` is each service's `__main__`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, FastAPI

from receivables_platform.consumer import ConsumerRunner, Handler
from receivables_platform.consumer.set_aside import set_aside_router
from receivables_platform.consumer.status import status_router
from receivables_platform.kafka.health import BrokerHealth
from receivables_platform.relay import OutboxRelay
from receivables_platform.relay.admin import outbox_admin_router
from receivables_platform.settings import ServiceSettings
from receivables_platform.store import event_limits
from receivables_platform.web.app import ServiceState, Worker, create_app
from receivables_platform.web.header_limit import header_limits
from receivables_platform.web.refusals import install_refusal_handler


@dataclass(frozen=True)
class Subscription:
    """A read model fed from topics: the handler runs in the offset's transaction."""

    name: str
    topics: Sequence[str]
    handler: Handler


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

    def group_id(self, subscription: Subscription) -> str:
        """The service name (docs/architecture.md#names); a second read model gets a suffix."""
        if subscription.name == "default":
            return self.name
        return f"{self.name}.{subscription.name}"

    def settings(self, **overrides: object) -> ServiceSettings:
        """Environment first; the service's documented port when HTTP_PORT is unset."""
        base = ServiceSettings(service_name=self.name)
        values = {"http_port": base.http_port or self.default_port,
                  **{k: v for k, v in overrides.items() if v is not None}}
        return base.model_copy(update=values)


def relay_worker(spec: ServiceSpec) -> Worker:
    async def outbox_relay(state: ServiceState) -> None:
        assert spec.publishes
        await OutboxRelay(state.pool, state.settings.kafka, service_name=spec.name,
                          topics=[spec.publishes]).run()

    return outbox_relay


def consumer_worker(spec: ServiceSpec, subscription: Subscription) -> Worker:
    async def consumer(state: ServiceState) -> None:
        await ConsumerRunner(state.pool, state.settings.kafka, group_id=spec.group_id(subscription),
                             topics=subscription.topics, handler=subscription.handler).run()

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


def build_app(spec: ServiceSpec, settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or spec.settings()
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
        routers.append(status_router([(spec.group_id(s), s.topics) for s in spec.subscriptions]))
        routers.append(set_aside_router())
    app = create_app(settings, title=spec.title, routers=routers,
                     workers=workers_for(spec, settings), readiness=readiness)
    install_refusal_handler(app)
    return app
