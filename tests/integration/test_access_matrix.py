"""Every route against every role and every kind of bad token, over HTTP.

The intended cells live in `access_matrix.toml`, reviewed like code: a route
added without an entry fails here before anyone can call it by accident. Then
the running services must let exactly those cells through: an allowed role
never gets 401/403, any other role gets 403, and a missing, expired, forged or
foreign-audience token gets 401 on every protected route.
"""

from __future__ import annotations

import asyncio
import re
import tomllib
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from receivables_devkit.devstack.access_matrix import services_access
from receivables_devkit.testing.system import RunningSystem
from receivables_platform.web.access import OPEN, render_toml
from receivables_platform.web.auth import ROLE_INCLUDES, ROLES, issue_token

MATRIX_FILE = Path(__file__).with_name("access_matrix.toml")
PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def reviewed_matrix() -> dict[str, dict[str, list[str] | str]]:
    return tomllib.loads(MATRIX_FILE.read_text())


def test_every_route_has_a_reviewed_access_rule():
    declared = services_access()
    assert declared == reviewed_matrix(), (
        f"the routes' role checks differ from {MATRIX_FILE.name}; review the change and "
        f"update the file. What the code declares now:\n\n{render_toml(declared)}"
    )


def bad_tokens(system: RunningSystem) -> dict[str, dict[str, str]]:
    every_role = sorted(ROLES)
    forged = issue_token("not-the-secret-" + uuid4().hex, "mallory", every_role)
    expired = issue_token(system.jwt_secret, "late", every_role, ttl=-3600)
    foreign = issue_token(system.jwt_secret, "elsewhere", every_role, audience="another-app")
    return {
        "no token": {},
        "expired": {"Authorization": f"Bearer {expired}"},
        "wrong key": {"Authorization": f"Bearer {forged}"},
        "other audience": {"Authorization": f"Bearer {foreign}"},
        "not a JWT": {"Authorization": "Bearer not.a.jwt"},
    }


async def call(client: httpx.AsyncClient, base: str, route: str, headers: dict[str, str]) -> int:
    method, template = route.split(" ", 1)
    path = PATH_PARAMETER.sub(lambda _: str(uuid4()), template)
    body = {} if method in ("POST", "PUT", "PATCH") else None
    response = await client.request(method, base + path, headers=headers, json=body)
    return response.status_code


@pytest.mark.timeout(300)
async def test_running_services_enforce_exactly_the_matrix(system: RunningSystem):
    matrix = reviewed_matrix()
    cells: list[tuple[str, str, str, dict[str, str], str]] = []
    for service, routes in matrix.items():
        for route, allowed in routes.items():
            if allowed == OPEN:
                continue
            for role in sorted(ROLES):
                # a composite role (a representative) may what any role it includes may
                held = {role, *ROLE_INCLUDES.get(role, ())}
                expect = "allowed" if held & set(allowed) else "forbidden"
                cells.append((service, route, role, system.auth(role), expect))
            for name, headers in bad_tokens(system).items():
                cells.append((service, route, name, headers, "unauthenticated"))
    assert cells, "the matrix protects no route at all"

    gate = asyncio.Semaphore(16)
    async with httpx.AsyncClient(timeout=30) as client:

        async def check(cell: tuple[str, str, str, dict[str, str], str]) -> str | None:
            service, route, who, headers, expect = cell
            async with gate:
                status = await call(client, system.url(service), route, headers)
            wrong = {
                "allowed": status in (401, 403) or status >= 500,
                "forbidden": status != 403,
                "unauthenticated": status != 401,
            }[expect]
            return f"{service} {route} as {who}: {status}, expected {expect}" if wrong else None

        failures = [f for f in await asyncio.gather(*map(check, cells)) if f]
    assert not failures, "\n".join(failures)
