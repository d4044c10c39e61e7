"""How the platform runs collections service: name, port, database, routers and workers."""

from pathlib import Path

from collections_service.api.autopay import router as autopay
from collections_service.api.commitments import router as commitments
from collections_service.api.contacts import router as contacts
from collections_service.api.dunning import router as dunning
from collections_service.api.holds import router as holds
from collections_service.api.policies import router as policies
from collections_service.api.portfolios import router as portfolios
from collections_service.api.profiles import router as profiles
from collections_service.api.worklist import router as worklist
from collections_service.consumers import on_event
from collections_service.runtime import Runtime
from collections_service.scheduler import daily_run, dunning_sender
from receivables_platform.contracts import billing, cases, collections
from receivables_platform.service import ServiceSpec, Subscription, WithDependencies

SPEC = ServiceSpec(
    name="collections-service",
    title="Collections service",
    default_port=8102,
    database="collections",
    versions_dir=Path(__file__).parent / "migrations" / "versions",
    publishes=collections.TOPIC,
    subscriptions=[
        Subscription("default", [billing.TOPIC, cases.TOPIC], WithDependencies(on_event))
    ],
    routers=[
        policies,
        portfolios,
        worklist,
        commitments,
        contacts,
        holds,
        autopay,
        profiles,
        dunning,
    ],
    background=[daily_run, dunning_sender],
    # the composition root: clock, calendar and COLLECTIONS_* settings, read once at start
    dependencies=Runtime.from_environment,
)
