"""The worklist's priority score: who a collector should call first.

    score = days + amount + promises + risk + escalation, where

    days        = 5 x min(days past due, 180)                    (0..900)
    amount      = round(100 x log10(1 + amount past due / 100))  (0..~700; 1,000.00 -> 300)
    promises    = 250 x min(broken promises in the last 180 days, 4)
    risk        = 200 when the account is marked at risk
    escalation  = 100 when today's step escalates to a supervisor

Days dominate early (an old debt first), the amount grows by orders of
magnitude rather than linearly (one huge account must not bury fifty late
ones), and a customer who broke their word jumps the queue. The score is an
integer and never falls when any input grows; ties break on the amount, then
the account id, so the order is stable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DAYS_WEIGHT, DAYS_CAP = 5, 180
AMOUNT_WEIGHT = 100
BROKEN_WEIGHT, BROKEN_CAP = 250, 4
RISK_POINTS = 200
ESCALATION_POINTS = 100


@dataclass(frozen=True)
class PriorityInputs:
    amount_past_due_minor: int
    days_past_due: int
    broken_commitments: int = 0
    at_risk: bool = False
    escalates: bool = False


def priority_score(inputs: PriorityInputs) -> int:
    days = DAYS_WEIGHT * min(max(inputs.days_past_due, 0), DAYS_CAP)
    amount = round(AMOUNT_WEIGHT * math.log10(1 + max(inputs.amount_past_due_minor, 0) / 100))
    promises = BROKEN_WEIGHT * min(max(inputs.broken_commitments, 0), BROKEN_CAP)
    return (
        days
        + amount
        + promises
        + (RISK_POINTS if inputs.at_risk else 0)
        + (ESCALATION_POINTS if inputs.escalates else 0)
    )
