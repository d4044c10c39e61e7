"""Schemathesis against every service's published OpenAPI, authenticated, in bounded time.

Valid and invalid requests generated from each operation's schema must never
get a 5xx, and every response must match what the OpenAPI document promises
(status code documented, body valid against the declared schema), so a
frontend generated from our OpenAPI never meets a response it cannot read.
The seed is fixed, so a failure reproduces; the report names the request.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from schemathesis_run import run_schemathesis

from receivables_devkit.testing.system import RunningSystem

CHECKS = (
    "not_a_server_error,status_code_conformance,response_schema_conformance,"
    "content_type_conformance,response_headers_conformance,declared_headers_only"
)
EXAMPLES_PER_OPERATION = 15
SECONDS_PER_SERVICE = 75
CPYTHON_AST_CRASH = "AST constructor recursion depth mismatch"
SERVICES = ("billing-adapter", "collections-service", "case-service", "reporting-service")


async def fuzz(system: RunningSystem, service: str, reports: Path) -> tuple[int, str]:
    return await run_schemathesis(
        f"{system.url(service)}/openapi.json",
        reports / service,
        "--checks",
        CHECKS,
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--seed",
        "20261126",
        "--max-time",
        str(SECONDS_PER_SERVICE),
        "--no-shrink",
        "--workers",
        "2",
        # stateful: sequences that follow the links schemathesis infers (a create's Location
        # to its read); the coverage phase hits a CPython 3.11.7 "AST constructor recursion
        # depth" crash inside schemathesis itself, so it stays off
        "--phases",
        "examples,fuzzing,stateful",
        "--request-timeout",
        "20",
        "--header",
        f"Authorization: Bearer {system.token()}",
    )


@pytest.mark.timeout(600)
@pytest.mark.parametrize("service", SERVICES)
async def test_generated_requests_get_documented_answers_and_no_5xx(
    system: RunningSystem, service: str, tmp_path: Path
):
    code, output = await fuzz(system, service, tmp_path)
    if code != 0 and CPYTHON_AST_CRASH in output and "Failures:" not in output:
        # schemathesis itself crashed inside CPython 3.11.7's ast (no check failed): once more
        (again := tmp_path / "again").mkdir()
        code, output = await fuzz(system, service, again)
    assert code == 0, f"schemathesis found problems in {service}:\n{output[-12000:]}"
