"""`python -m receivables_platform.contracts`: regenerate the committed schemas and AsyncAPI.

`--check` writes nothing and exits 1 when a file is missing or stale, for CI
and pre-commit hooks that must not change the tree they check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from receivables_platform.contracts import REGISTRY
from receivables_platform.contracts.asyncapi import ASYNCAPI_PATH, build_asyncapi, render_asyncapi
from receivables_platform.contracts.schemas import (
    SCHEMA_ROOT,
    IncompatibleSchemaChange,
    export_schemas,
    plan_export,
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Event contract schemas and the AsyncAPI document.",
)


@app.command()
def export(
    root: Annotated[Path, typer.Option(help="Folder of <type>/v<N>.json files")] = SCHEMA_ROOT,
    check: Annotated[bool, typer.Option(help="Write nothing; exit 1 if out of date")] = False,
    force: Annotated[
        bool, typer.Option(help="Overwrite a published schema even if the change is incompatible")
    ] = False,
) -> None:
    """Write every registered contract's JSON Schema."""
    if check:
        plan = plan_export(root, REGISTRY)
        for (event_type, version), problems in sorted(plan.incompatible.items()):
            for problem in problems:
                typer.echo(f"incompatible: {event_type} v{version}: {problem}", err=True)
        for path in plan.changes:
            typer.echo(f"out of date: {path}", err=True)
        raise typer.Exit(1 if plan.changes else 0)
    try:
        plan = export_schemas(root, REGISTRY, force=force)
    except IncompatibleSchemaChange as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    for path in plan.created:
        typer.echo(f"created {path}")
    for path in plan.updated:
        typer.echo(f"updated {path}")
    if not plan.changes:
        typer.echo(f"{len(plan.rendered)} schemas up to date in {root}")


@app.command()
def asyncapi(
    out: Annotated[Path, typer.Option(help="Where the document goes")] = ASYNCAPI_PATH,
    schema_root: Annotated[Path, typer.Option(help="Folder the payloads refer to")] = SCHEMA_ROOT,
    check: Annotated[bool, typer.Option(help="Write nothing; exit 1 if out of date")] = False,
) -> None:
    """Write the AsyncAPI 3.0 document of every topic and registered event type."""
    text = render_asyncapi(build_asyncapi(REGISTRY, out=out, schema_root=schema_root))
    current = out.read_text(encoding="utf-8") if out.exists() else None
    if check:
        if current != text:
            typer.echo(f"out of date: {out}", err=True)
            raise typer.Exit(1)
        return
    if current == text:
        typer.echo(f"{out} up to date")
        return
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}")
