"""Reporting's consumer handlers by consumer group, for `python -m receivables_platform.consumer
--handler reporting_subscriptions:<group>` in the fault test (the handlers are closures, so
they have no importable name of their own)."""

from receivables_platform.consumer import Handler
from reporting_service.spec import SPEC


def __getattr__(group: str) -> Handler:
    for subscription in SPEC.subscriptions:
        if SPEC.group_id(subscription) == group:
            return subscription.handler
    raise AttributeError(group)
