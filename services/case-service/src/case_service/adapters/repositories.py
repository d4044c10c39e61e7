"""Where cases live: one stream per case in the service's event store."""

from case_service.domain.case import evolve
from case_service.domain.state import Case
from receivables_platform.contracts.cases import TOPIC
from receivables_platform.repository import AggregateRepository
from receivables_platform.store import EventStore

SOURCE = "urn:receivables:case-service"
store = EventStore(source=SOURCE, topic=TOPIC)
# open cases' latest state is kept per process: a read folds only what is new
cases: AggregateRepository[Case] = AggregateRepository(
    store, prefix="case", initial=Case, evolve=evolve, lock_namespace="cases.case", remember=5_000
)
