"""Where billing aggregates live: streams in the service's event store."""

from billing_adapter.domain.invoice import Invoice, evolve
from receivables_platform.contracts.billing import TOPIC
from receivables_platform.repository import AggregateRepository
from receivables_platform.store import EventStore

SOURCE = "urn:receivables:billing-adapter"
store = EventStore(source=SOURCE, topic=TOPIC)
invoices: AggregateRepository[Invoice] = AggregateRepository(
    store, prefix="invoice", initial=Invoice, evolve=evolve)
