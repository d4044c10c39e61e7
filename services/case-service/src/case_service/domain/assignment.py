"""Who gets an inbound-email case: a pure rule, so it reads the same in a test as in a queue.

The account's collector takes it when they are also an active case agent (they
know the customer); otherwise the active agents take turns in a fixed order
(by user id), each new case going to the agent after the one who got the last.
The caller serialises the turns (one row locked for the whole transaction), so
two emails arriving together never both land on one agent.
"""

from __future__ import annotations

from collections.abc import Sequence


def choose_owner(
    collector_id: str | None, active_agents: Sequence[str], last_in_turn: str | None
) -> tuple[str | None, bool]:
    """(owner, took_a_turn): None while no agent is active, and the case waits in the queue."""
    agents = sorted(active_agents)
    if collector_id is not None and collector_id in agents:
        return collector_id, False
    if not agents:
        return None, False
    after = [a for a in agents if last_in_turn is None or a > last_in_turn]
    return (after or agents)[0], True
