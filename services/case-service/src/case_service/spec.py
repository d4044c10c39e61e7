"""How the platform runs case service: name, port, database, routers and workers."""

from pathlib import Path

from case_service.api.admin import router as admin
from case_service.api.attachments import router as attachments
from case_service.api.cases import router as cases
from case_service.api.inbound_email import router as inbound_email
from case_service.api.inbox import router as inbox
from case_service.api.notifications import router as notifications
from case_service.api.search import router as search
from case_service.api.updates import router as updates
from case_service.service_layer.billing_events import handle_billing_event
from case_service.service_layer.collections_events import handle_collections_event
from case_service.service_layer.notifications import notify_forever
from case_service.service_layer.sla import sweep_forever
from case_service.settings import CaseDependencies
from receivables_platform.contracts import billing, collections
from receivables_platform.contracts.cases import TOPIC
from receivables_platform.service import ServiceSpec, Subscription
from receivables_platform.web.app import ServiceState, composed


async def sla_sweep(state: ServiceState) -> None:
    await sweep_forever(state.pool)


async def notify(state: ServiceState) -> None:
    await notify_forever(
        state.pool, state.settings.smtp_url, composed(state, CaseDependencies).notifications
    )


SPEC = ServiceSpec(
    name="case-service",
    title="Case service",
    default_port=8103,
    database="cases",
    versions_dir=Path(__file__).parent / "migrations" / "versions",
    publishes=TOPIC,
    subscriptions=[
        Subscription("default", [billing.TOPIC], handle_billing_event),
        Subscription("collections", [collections.TOPIC], handle_collections_event),
    ],
    routers=[search, cases, attachments, updates, admin, inbound_email, inbox, notifications],
    background=[sla_sweep, notify],
    dependencies=CaseDependencies.from_environment,
)
