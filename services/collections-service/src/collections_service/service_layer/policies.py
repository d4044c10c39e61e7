"""Cadence policies: versioned, one per segment (plus the default, with no segment).

A revision is a new row with the next version; tasks keep the policy id and
version that scheduled them, so editing a policy never rewrites what already
happened. Step ids stay stable across versions, so a step that already fired
for an invoice does not fire again under the new version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from uuid import UUID

import asyncpg

from collections_service.adapters import reads
from collections_service.domain.cadence import Step, ordered_steps
from collections_service.domain.dunning import CatchUp
from collections_service.domain.refusals import conflict
from collections_service.service_layer import templates
from receivables_platform.contracts.collections import Channel
from receivables_platform.ids import new_id
from receivables_platform.store import ConcurrencyError


def _steps_json(steps: Sequence[Step]) -> list[dict[str, object]]:
    return [{**asdict(s), "channel": s.channel.value} for s in steps]


async def _templates_exist(conn: asyncpg.Connection, steps: Sequence[Step]) -> None:
    """An email step naming no template is refused now, naming the step, not at send time."""
    await templates.refuse_unknown(conn, {f"steps.{index}.template": step.template
                                          for index, step in enumerate(steps)
                                          if step.channel is Channel.EMAIL})


async def create(conn: asyncpg.Connection, *, segment: str | None, name: str,
                 steps: Sequence[Step], by: str,
                 catch_up: CatchUp = CatchUp.FIRST_NOT_DONE) -> asyncpg.Record:
    ordered = ordered_steps(steps)
    await _templates_exist(conn, steps)
    try:
        row = await conn.fetchrow(
            "INSERT INTO cadence_policies (policy_id, version, segment, name, steps, created_by, "
            "catch_up) VALUES ($1, 1, $2, $3, $4, $5, $6) RETURNING *",
            new_id(), segment, name, _steps_json(ordered), by, catch_up.value)
    except asyncpg.UniqueViolationError:
        which = f"segment {segment!r}" if segment else "the default (no segment)"
        raise conflict(f"{which} already has a policy: revise it instead", field="segment",
                       title="Policy exists") from None
    assert row is not None
    return row


async def latest(conn: asyncpg.Connection, policy_id: UUID) -> asyncpg.Record:
    return await reads.one(conn, "SELECT * FROM cadence_policies WHERE policy_id = $1 "
                           "ORDER BY version DESC LIMIT 1", policy_id,
                           what=f"policy {policy_id}", field="policy_id")


async def revise(conn: asyncpg.Connection, policy_id: UUID, *, name: str | None,
                 steps: Sequence[Step], by: str,
                 check: Callable[[int], object] | None = None,
                 catch_up: CatchUp = CatchUp.FIRST_NOT_DONE) -> asyncpg.Record:
    ordered = ordered_steps(steps)
    current = await latest(conn, policy_id)
    if check is not None:
        check(current["version"])
    await _templates_exist(conn, steps)
    try:
        row = await conn.fetchrow(
            "INSERT INTO cadence_policies (policy_id, version, segment, name, steps, created_by, "
            "catch_up) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
            policy_id, current["version"] + 1, current["segment"], name or current["name"],
            _steps_json(ordered), by, catch_up.value)
    except asyncpg.UniqueViolationError:
        raise ConcurrencyError(f"policy-{policy_id}", current["version"]) from None
    assert row is not None
    return row
