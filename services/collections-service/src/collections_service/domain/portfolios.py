"""Portfolio rules: which collector an account nobody was given by hand goes to.

Rules are tried by rank (lowest first); the first whose segment and balance range fit the
account wins. A rule is a plain record (collections publishes no rule events): what is
decided here is whether it is valid and which rule an account falls to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from receivables_platform.domain import Refused


@dataclass(frozen=True)
class Rule:
    collector_id: str
    rank: int
    segment: str | None = None
    min_balance_minor: int | None = None
    max_balance_minor: int | None = None
    rule_id: UUID | None = None
    """Set once the rule is kept; an account it assigns names it."""

    def check(self) -> None:
        low, high = self.min_balance_minor, self.max_balance_minor
        if low is not None and high is not None and high < low:
            raise Refused("the balance range ends below where it starts", field="max_balance_minor")

    def fits(self, segment: str | None, balance_minor: int) -> bool:
        return (
            (self.segment is None or self.segment == segment)
            and (self.min_balance_minor is None or balance_minor >= self.min_balance_minor)
            and (self.max_balance_minor is None or balance_minor <= self.max_balance_minor)
        )


def rule_for(rules: Sequence[Rule], segment: str | None, balance_minor: int) -> Rule | None:
    """The first rule, in the order given (by rank), that fits the account."""
    return next((rule for rule in rules if rule.fits(segment, balance_minor)), None)
