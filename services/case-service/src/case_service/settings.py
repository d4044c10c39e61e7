"""Case-service settings read from the environment: the SLA targets, the reopen window and
the limits on inbound email; `CaseDependencies` is what the spec composes from them.

The domain's `CasePolicy` says what the rules are; this says where a deployment
sets them, so the domain reads no environment. `CASE_SLA_TARGETS` is a
comma-separated list of `type:priority=days` rules where either side may be `*`
(`dispute:urgent=3,*:urgent=5,dispute:*=10`); the most specific rule wins (type
and priority, then type, then priority), else `CASE_SLA_DEFAULT_DAYS` (14).
`CASE_REOPEN_WINDOW_DAYS` (30) is how long after closing a case may be reopened.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from case_service.adapters.inbound_mail import InboundEmailLimits
from case_service.domain.policy import CasePolicy, SlaPolicy

ENVIRONMENT = ("CASE_SLA_DEFAULT_DAYS", "CASE_SLA_TARGETS", "CASE_REOPEN_WINDOW_DAYS")
"""What `case_policy` reads; the Helm chart sets exactly these."""


def case_policy() -> CasePolicy:
    """The policy the environment sets; a bad rule raises ValueError naming it."""
    default_days, targets, reopen_window = ENVIRONMENT
    default = int(os.environ.get(default_days, "14"))
    return CasePolicy(SlaPolicy.parse(os.environ.get(targets, ""), default),
                      int(os.environ.get(reopen_window, "30")))


@dataclass(frozen=True)
class CaseDependencies:
    """What routes and use cases are handed: built once at start by the spec (the
    composition root), never read from the environment below it."""

    policy: CasePolicy
    inbound_email: InboundEmailLimits

    @classmethod
    def from_environment(cls) -> CaseDependencies:
        """A bad CASE_SLA_TARGETS rule or INBOUND_EMAIL_* limit stops the service at start."""
        return cls(case_policy(), InboundEmailLimits())
