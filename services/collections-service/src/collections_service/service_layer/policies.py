"""Cadence policies: versioned, one per segment (plus the default, with no segment).

The versions are decided by `domain.policies`; this module checks the templates they name
exist and keeps the versions through `adapters.policies`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

import asyncpg

from collections_service.adapters import policies as policy_store
from collections_service.adapters.queries import policy_of
from collections_service.domain import policies as policy_rules
from collections_service.domain.cadence import Step, ordered_steps
from collections_service.domain.dunning import CatchUp
from collections_service.domain.refusals import conflict
from collections_service.service_layer import templates
from receivables_platform.ids import new_id
from receivables_platform.store import ConcurrencyError


async def create(
    conn: asyncpg.Connection,
    *,
    segment: str | None,
    name: str,
    steps: Sequence[Step],
    by: str,
    catch_up: CatchUp = CatchUp.FIRST_NOT_DONE,
) -> asyncpg.Record:
    policy = policy_rules.create(
        new_id(), segment=segment, name=name, steps=steps, catch_up=catch_up
    )
    await templates.refuse_unknown(conn, policy_rules.templates_named(steps))
    row = await policy_store.add_version(conn, policy, by=by)
    if row is None:
        which = f"segment {segment!r}" if segment else "the default (no segment)"
        raise conflict(
            f"{which} already has a policy: revise it instead",
            field="segment",
            title="Policy exists",
        )
    return row


async def latest(conn: asyncpg.Connection, policy_id: UUID) -> asyncpg.Record:
    return await policy_store.latest(conn, policy_id)


async def revise(
    conn: asyncpg.Connection,
    policy_id: UUID,
    *,
    name: str | None,
    steps: Sequence[Step],
    by: str,
    check: Callable[[int], object] | None = None,
    catch_up: CatchUp = CatchUp.FIRST_NOT_DONE,
) -> asyncpg.Record:
    ordered_steps(steps)
    current = await policy_store.latest(conn, policy_id)
    if check is not None:
        check(current["version"])
    revised = policy_rules.revise(policy_of(current), name=name, steps=steps, catch_up=catch_up)
    await templates.refuse_unknown(conn, policy_rules.templates_named(steps))
    row = await policy_store.add_version(conn, revised, by=by)
    if row is None:
        raise ConcurrencyError(f"policy-{policy_id}", current["version"])
    return row
