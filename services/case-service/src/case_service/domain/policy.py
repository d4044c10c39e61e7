"""Case-service policy: SLA targets per type and priority, and the reopen window.

A platform team sets them per deployment; `case_service.settings` reads them
from the environment, so this module stays pure. The most specific SLA rule
wins (type and priority, then type, then priority), else the default days.
"""

from __future__ import annotations

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
