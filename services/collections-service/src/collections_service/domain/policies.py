"""A cadence policy's versions: created once per segment (or as the default), then revised.

A policy is kept as its versions rather than as events (collections publishes no policy
events): a revision is decided from the current version and is the next one, so tasks keep
the policy id and version that scheduled them and editing a policy never rewrites what
already happened. Step ids stay stable across versions, so a step that already fired for an
invoice does not fire again under the new version.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from collections_service.domain.cadence import Policy, Step, ordered_steps
from collections_service.domain.dunning import CatchUp
from receivables_platform.contracts.collections import Channel


def create(
    policy_id: UUID, *, segment: str | None, name: str, steps: Sequence[Step], catch_up: CatchUp
) -> Policy:
    """Version 1 of a segment's policy, its steps in order (overlapping ones refused)."""
    return Policy(policy_id, 1, segment, name, ordered_steps(steps), catch_up)


def revise(
    current: Policy, *, name: str | None, steps: Sequence[Step], catch_up: CatchUp
) -> Policy:
    """The next version: new steps, the name kept unless a new one is given, the segment
    always kept (a policy belongs to its segment for good)."""
    return Policy(
        current.policy_id,
        current.version + 1,
        current.segment,
        name or current.name,
        ordered_steps(steps),
        catch_up,
    )


def templates_named(steps: Sequence[Step]) -> dict[str, str]:
    """The templates an email step sends, by the field that names them: each must exist
    when the policy is saved, not only when the step fires."""
    return {
        f"steps.{index}.template": step.template
        for index, step in enumerate(steps)
        if step.channel is Channel.EMAIL
    }
