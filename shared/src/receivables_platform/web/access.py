"""Who may call which route, read from the routes themselves.

`require_roles` marks the dependency it returns with its roles; this walks each
route's dependency tree for those marks. The access-matrix test compares the
result for every service (`devstack.access_matrix`, which knows the services;
this module knows only FastAPI) with the reviewed matrix in
`tests/integration/access_matrix.toml` and then checks, over HTTP, that the
running services enforce exactly that.
A route with no mark is open: probes, metrics, the OpenAPI document, and
webhooks that carry their own signatures.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

OPEN = "open"


def route_access(app: FastAPI) -> dict[str, list[str] | str]:
    """`"METHOD /path"` -> the sorted roles allowed, or `"open"`."""
    access: dict[str, list[str] | str] = {}
    # iter_route_contexts flattens included routers (FastAPI includes them lazily)
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        # a caller must pass every role check on the way, so the allowed roles intersect
        marks = list(_marked_roles(route.dependant))
        allowed: list[str] | str = sorted(frozenset.intersection(*marks)) if marks else OPEN
        for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}):
            access[f"{method} {route.path}"] = allowed
    return dict(sorted(access.items()))


def _marked_roles(dependant: Dependant) -> Iterator[frozenset[str]]:
    for sub in dependant.dependencies:
        roles = getattr(sub.call, "roles", None)
        if isinstance(roles, frozenset):
            yield roles
        yield from _marked_roles(sub)


def render_toml(matrix: dict[str, dict[str, list[str] | str]]) -> str:
    """The matrix file's text (`python -m receivables_devkit.devstack.access_matrix`)."""
    lines = []
    for service, routes in matrix.items():
        lines.append(f"[{service}]")
        for route, allowed in routes.items():
            value = (
                f'"{allowed}"'
                if isinstance(allowed, str)
                else "[" + ", ".join(f'"{r}"' for r in allowed) + "]"
            )
            lines.append(f'"{route}" = {value}')
        lines.append("")
    return "\n".join(lines)
