"""How the platform runs reporting service: name, port, database, routers and workers."""

from pathlib import Path

from receivables_platform.service import ServiceSpec, Subscription
from reporting_service.api.accounts import router as accounts
from reporting_service.api.aging import router as aging
from reporting_service.api.kpis import router as kpis
from reporting_service.api.reports import router as reports
from reporting_service.api.search import router as search
from reporting_service.api.snapshots import router as snapshots
from reporting_service.api.timeline import router as timeline
from reporting_service.consumers.projections import PROJECTIONS
from reporting_service.service_layer.snapshots import snapshot_worker

SPEC = ServiceSpec(
    name="reporting-service",
    title="Reporting service",
    default_port=8104,
    database="reporting",
    versions_dir=Path(__file__).parent / "migrations" / "versions",
    routers=[aging, snapshots, kpis, reports, accounts, search, timeline],
    background=[snapshot_worker()],
    subscriptions=[
        Subscription(p.subscription, [p.topic], p.handler) for p in PROJECTIONS.values()
    ],
)
