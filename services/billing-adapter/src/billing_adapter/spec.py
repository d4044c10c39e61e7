"""How the platform runs billing adapter: name, port, database, routers and workers."""

from pathlib import Path

from billing_adapter.api.accounts import router as accounts
from billing_adapter.api.approvals import router as approvals
from billing_adapter.api.imports import router as imports
from billing_adapter.api.invoices import router as invoices
from billing_adapter.api.pay_links import router as pay_links
from billing_adapter.api.payments import router as payments
from billing_adapter.api.stripe_webhook import router as stripe_webhook
from billing_adapter.service_layer.corrections import answer_case_event
from billing_adapter.service_layer.stripe_connector import sweep_parked_forever
from billing_adapter.settings import BillingDependencies
from receivables_platform.contracts.billing import TOPIC
from receivables_platform.contracts.cases import TOPIC as CASES
from receivables_platform.service import ServiceSpec, Subscription, WithDependencies
from receivables_platform.web.app import ServiceState, composed


async def stripe_parked_sweep(state: ServiceState) -> None:
    await sweep_parked_forever(state.pool, composed(state, BillingDependencies).stripe.mapping)


SPEC = ServiceSpec(
    name="billing-adapter",
    title="Billing adapter",
    default_port=8101,
    database="billing",
    versions_dir=Path(__file__).parent / "migrations" / "versions",
    publishes=TOPIC,
    routers=[accounts, invoices, approvals, payments, pay_links, stripe_webhook, imports],
    # cases ask billing for corrections; billing answers on its own topic
    subscriptions=[Subscription("default", [CASES], WithDependencies(answer_case_event))],
    background=[stripe_parked_sweep],
    # the composition root: STRIPE_*, PAY_LINK_* and APPROVAL_THRESHOLDS read once, at start
    dependencies=BillingDependencies.from_environment,
)
