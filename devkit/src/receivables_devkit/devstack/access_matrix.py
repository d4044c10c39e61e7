"""The access matrix of every service, as `tests/integration/access_matrix.toml` lays it out.

Here rather than in `web.access` because it builds each service's app: the web
toolkit sits below the service runner and knows no service, the dev stack sits
above both. `python -m receivables_devkit.devstack.access_matrix` prints the
file's text for review after a route or its roles change.
"""

from __future__ import annotations

from importlib import import_module

from receivables_devkit.devstack.services import PACKAGES
from receivables_platform.service import build_app
from receivables_platform.web.access import render_toml, route_access


def services_access() -> dict[str, dict[str, list[str] | str]]:
    """Every service's routes and the roles each allows, keyed by service name."""
    matrix = {}
    for package in PACKAGES:
        spec = import_module(f"{package}.spec").SPEC
        matrix[spec.name] = route_access(build_app(spec, spec.settings(database_url=None)))
    return matrix


if __name__ == "__main__":
    print(render_toml(services_access()), end="")
