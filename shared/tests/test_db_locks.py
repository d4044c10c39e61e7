"""The advisory locks every service takes: writers queue, background jobs take turns."""

from __future__ import annotations

import asyncio

import asyncpg

from receivables_platform.db.locks import hold_until_commit, one_holder_at_a_time


async def test_a_second_writer_of_an_account_waits_for_the_first_to_commit(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as first, pool.acquire() as second, pool.acquire() as third:
        async with first.transaction():
            await hold_until_commit(first, "collections.account", "acct-1", "acct-2")

            async def second_writer() -> None:
                async with second.transaction():
                    await hold_until_commit(second, "collections.account", "acct-2")

            waiting = asyncio.create_task(second_writer())
            await asyncio.sleep(0.3)
            assert not waiting.done(), "the second writer got past a held lock"
            # another namespace is another object: not held up
            async with third.transaction():
                await hold_until_commit(third, "external_ids.invoice", "acct-2")
        await asyncio.wait_for(waiting, 5)


async def test_one_replica_runs_the_job_while_another_skips_the_round(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as first, pool.acquire() as second:
        async with one_holder_at_a_time(first, "cases.sla_sweep") as ours:
            assert ours
            async with one_holder_at_a_time(second, "cases.sla_sweep") as theirs:
                assert not theirs
        async with one_holder_at_a_time(second, "cases.sla_sweep") as theirs:
            assert theirs, "the lock outlived the block that held it"
