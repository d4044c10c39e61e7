"""Migrate one service's database and exit: `python -m receivables_platform.db.migrate_service`.

Services migrate at start as well; this entry point lets a deployment run the
migrations once, before any new pod starts (the Helm chart's pre-install and
pre-upgrade hook Job, the compose file's one-shot migration containers), so a
failed migration stops the rollout instead of crash-looping every replica.

    python -m receivables_platform.db.migrate_service billing-adapter

SERVICE is the service's package (`billing_adapter`) or its name
(`billing-adapter`); its `spec.SPEC` says where the migrations are.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import structlog
import typer

from receivables_platform.db.migrate import upgrade
from receivables_platform.observability.logging import configure_logging
from receivables_platform.service import ServiceSpec

app = typer.Typer(add_completion=False, help=__doc__)
log = structlog.get_logger("receivables_platform.db.migrate_service")


def load_spec(service: str) -> ServiceSpec:
    """`<package>.spec.SPEC` for a package name or a dashed service name."""
    package = service.strip().replace("-", "_")
    if not package.isidentifier():
        raise typer.BadParameter(f"{service!r} is not a service package name")
    try:
        module = importlib.import_module(f"{package}.spec")
    except ModuleNotFoundError as exc:
        if exc.name not in (package, f"{package}.spec"):
            raise  # the service exists but one of its imports is missing: show that
        raise typer.BadParameter(f"no service package {package!r} is installed") from None
    spec = getattr(module, "SPEC", None)
    if not isinstance(spec, ServiceSpec):
        raise typer.BadParameter(f"{package}.spec has no SPEC (a ServiceSpec)")
    return spec


@app.command()
def main(
    service: Annotated[str, typer.Argument(help="Service package or name, e.g. billing-adapter")],
    database_url: Annotated[
        str,
        typer.Option(envvar="DATABASE_URL", show_default=False, help="The service's own database"),
    ],
    log_level: Annotated[str, typer.Option(envvar="LOG_LEVEL")] = "INFO",
) -> None:
    """Bring SERVICE's database to its newest schema, then exit 0."""
    spec = load_spec(service)
    configure_logging(spec.name, log_level)
    log.info("migrations.started", versions=str(spec.versions_dir))
    upgrade(database_url, spec.versions_dir)
    log.info("migrations.done")


if __name__ == "__main__":
    app()
