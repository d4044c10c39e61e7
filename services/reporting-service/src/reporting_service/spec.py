"""How the platform runs reporting service: name, port, database, routers and workers."""

from pathlib import Path

from receivables_platform.contracts.billing import TOPIC as BILLING
from receivables_platform.service import ServiceSpec, Subscription
from reporting_service.api.aging import router as aging
from reporting_service.consumers.billing_projection import project_billing_event

SPEC = ServiceSpec(
    name="reporting-service",
    title="Reporting service",
    default_port=8104,
    database="reporting",
    versions_dir=Path(__file__).parent / "migrations" / "versions",
    routers=[aging],
    subscriptions=[Subscription("default", [BILLING], project_billing_event)],
)
