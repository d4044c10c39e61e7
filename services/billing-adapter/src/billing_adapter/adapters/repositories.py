"""Where billing aggregates live: one stream per customer account in the service's event store."""

from billing_adapter.domain.account import evolve
from billing_adapter.domain.state import Account
from receivables_platform.contracts.billing import TOPIC
from receivables_platform.repository import AggregateRepository
from receivables_platform.store import EventStore

SOURCE = "urn:receivables:billing-adapter"
store = EventStore(source=SOURCE, topic=TOPIC)
accounts: AggregateRepository[Account] = AggregateRepository(
    store, prefix="account", initial=Account, evolve=evolve)
