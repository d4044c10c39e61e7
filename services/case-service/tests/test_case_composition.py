"""The spec composes the case service's policy and limits once, and what it composed is
what the routes use: two apps in one process, each with its own policy, never share one."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import replace

import asyncpg
import httpx
import pytest

from case_service.domain.policy import CasePolicy, SlaPolicy
from case_service.settings import CaseDependencies
from case_service.spec import SPEC
from case_service.testing import billing_account, case_body, create, register_agents


def composed(sla: str, reopen_days: int = 30) -> CaseDependencies:
    return replace(
        CaseDependencies.from_environment(),
        policy=CasePolicy(SlaPolicy.parse(sla, 14), reopen_days),
    )


async def test_each_app_opens_cases_under_the_policy_it_was_built_with(cases_url, case_server):
    account_id, invoices = await billing_account(cases_url)
    targets = {}
    for sla in ("dispute:high=3", "dispute:*=9"):
        async with (
            case_server(cases_url, composed(sla)) as base,
            httpx.AsyncClient(base_url=base, timeout=10) as client,
        ):
            await register_agents(client)
            opened = await client.post(
                "/v1/cases", json=case_body(account_id, invoices), headers=create()
            )
            assert opened.status_code == 201, opened.text
            targets[sla] = opened.json()["sla"]["target_days"]
    assert targets == {"dispute:high=3": 3, "dispute:*=9": 9}


def test_the_spec_reads_the_environment_at_start_and_refuses_a_bad_rule(monkeypatch):
    monkeypatch.setenv("CASE_SLA_TARGETS", "dispute:urgent=2")
    monkeypatch.setenv("INBOUND_EMAIL_MAX_ATTACHMENTS", "7")
    assert SPEC.dependencies is not None
    built = SPEC.dependencies()
    assert isinstance(built, CaseDependencies)
    assert built.inbound_email.max_attachments == 7
    monkeypatch.setenv("CASE_SLA_TARGETS", "dispute:urgent=soon")
    with pytest.raises(ValueError, match="dispute:urgent=soon"):
        SPEC.dependencies()


async def test_a_bad_setting_stops_the_process_before_it_migrates(fresh_database):
    url = await fresh_database()  # empty: the service would migrate it first thing
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "JWT_SECRET": "k" * 40,
        "HTTP_PORT": "0",
        "KAFKA_BOOTSTRAP_SERVERS": "",
        "CASE_SLA_TARGETS": "dispute:urgent=soon",
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "case_service"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "dispute:urgent=soon" in done.stderr
    conn = await asyncpg.connect(url)
    try:
        assert (
            await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
        )
    finally:
        await conn.close()
