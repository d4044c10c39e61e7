"""Case-service policy: SLA targets per type and priority, and the reopen window.

Configured from the environment so a platform team sets them per deployment:
`CASE_SLA_TARGETS` is a comma-separated list of `type:priority=days` rules
where either side may be `*` (`dispute:urgent=3,*:urgent=5,dispute:*=10`);
the most specific rule wins (type and priority, then type, then priority),
else `CASE_SLA_DEFAULT_DAYS` (14). `CASE_REOPEN_WINDOW_DAYS` (30) is how long
after closing a case may be reopened.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from receivables_platform.contracts.cases import CasePriority, CaseType

ANY = "*"


@dataclass(frozen=True)
class SlaPolicy:
    default_days: int = 14
    rules: dict[tuple[str, str], int] = field(default_factory=dict)

    def target_days(self, type_: CaseType, priority: CasePriority) -> int:
        for key in ((type_, priority), (type_, ANY), (ANY, priority)):
            if key in self.rules:
                return self.rules[key]
        return self.default_days

    @classmethod
    def parse(cls, spec: str, default_days: int = 14) -> SlaPolicy:
        """`type:priority=days,...`; a bad rule fails at start-up, naming it."""
        rules: dict[tuple[str, str], int] = {}
        for raw in filter(None, (part.strip() for part in spec.split(","))):
            try:
                key, days = raw.split("=")
                type_, priority = (x.strip() for x in key.split(":"))
                value = int(days)
                if type_ != ANY:
                    CaseType(type_)
                if priority != ANY:
                    CasePriority(priority)
            except ValueError as exc:
                raise ValueError(f"CASE_SLA_TARGETS rule {raw!r}: {exc}") from None
            if not 0 < value <= 365:
                raise ValueError(f"CASE_SLA_TARGETS rule {raw!r}: days must be 1..365")
            rules[(type_, priority)] = value
        return cls(default_days, rules)


@dataclass(frozen=True)
class CasePolicy:
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    reopen_window_days: int = 30

    ENVIRONMENT = ("CASE_SLA_DEFAULT_DAYS", "CASE_SLA_TARGETS", "CASE_REOPEN_WINDOW_DAYS")
    """What `from_environment` reads; the Helm chart sets exactly these."""

    @classmethod
    def from_environment(cls) -> CasePolicy:
        default_days, targets, reopen_window = cls.ENVIRONMENT
        default = int(os.environ.get(default_days, "14"))
        return cls(SlaPolicy.parse(os.environ.get(targets, ""), default),
                   int(os.environ.get(reopen_window, "30")))
