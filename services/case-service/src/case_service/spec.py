"""How the platform runs case service: name, port, database, routers and workers."""

from pathlib import Path

from case_service.api.admin import router as admin
from case_service.api.cases import router as cases
from case_service.api.inbound_email import router as inbound_email
from case_service.api.search import router as search
from case_service.api.updates import router as updates
from case_service.service_layer.billing_events import handle_billing_event
from case_service.service_layer.sla import sweep_forever
from case_service.settings import CaseDependencies
from receivables_platform.contracts import billing
from receivables_platform.contracts.cases import TOPIC
from receivables_platform.service import ServiceSpec, Subscription
from receivables_platform.web.app import ServiceState


async def sla_sweep(state: ServiceState) -> None:
    await sweep_forever(state.pool)


SPEC = ServiceSpec(
    name="case-service",
    title="Case service",
    default_port=8103,
    database="cases",
    versions_dir=Path(__file__).parent / "migrations" / "versions",
    publishes=TOPIC,
    subscriptions=[Subscription("default", [billing.TOPIC], handle_billing_event)],
    routers=[search, cases, updates, admin, inbound_email],
    background=[sla_sweep],
    dependencies=CaseDependencies.from_environment,
)
