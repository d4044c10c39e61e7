"""`billing-adapter import KIND FILE`: bulk import straight into the service's database.

Writes through the event store like the API does, so the service's outbox
relay publishes the events to Kafka. The file streams through in constant
memory; the progress bar follows the bytes read. Rejected rows are printed
(the first `--show` of them) and, with `--errors`, all written to a CSV file.

Exit status: 0 when every row was imported or already there, 1 when some
rows were rejected (the others are imported), 2 when the file was refused.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import IO

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from billing_adapter.api.import_files import DECODE_ERRORS, ENCODING, Format, read_rows
from billing_adapter.service_layer.bulk_import import BatchResult, FileRefused, Kind, Tally
from billing_adapter.service_layer.import_file import BATCH_SIZE, import_file
from receivables_platform import event_loop
from receivables_platform.db.pool import create_pool
from receivables_platform.heap import collect_for_bulk_work
from receivables_platform.ids import new_id
from receivables_platform.spreadsheet import FormulaSafeWriter

app = typer.Typer(add_completion=False, help="Billing adapter tools.")
err = Console(stderr=True)


@app.callback()
def main() -> None:
    """Billing adapter tools."""


def format_of(path: Path, given: Format | None) -> Format:
    if given is not None:
        return given
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return Format.CSV
    if suffix in (".jsonl", ".ndjson"):
        return Format.JSONL
    raise typer.BadParameter(
        f"cannot tell the format of {path.name}; pass --format", param_hint="--format"
    )


@app.command("import")
def import_command(
    kind: Kind = typer.Argument(..., help="What the file holds"),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    file_format: Format | None = typer.Option(
        None, "--format", help="csv or jsonl (default: from the suffix)"
    ),
    database_url: str = typer.Option(
        ..., envvar="DATABASE_URL", help="The billing adapter's database"
    ),
    batch_size: int = typer.Option(BATCH_SIZE, min=1, max=50_000),
    show: int = typer.Option(20, min=0, help="Rejected rows to print"),
    errors: Path | None = typer.Option(None, help="Write every rejected row to this CSV file"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar"),
) -> None:
    """Import accounts, invoices or payments from CSV or JSON Lines."""
    fmt = format_of(file, file_format)
    collect_for_bulk_work()
    try:
        tally = event_loop.run(_run(kind, fmt, file, database_url, batch_size, show, errors, quiet))
    except FileRefused as refused:
        err.print(f"[red]file refused[/red]: {refused.reason}")
        raise typer.Exit(2) from None
    print(
        f"read {tally.read}, imported {tally.imported}, updated {tally.updated}, "
        f"unchanged {tally.unchanged}, rejected {tally.rejected}"
    )
    raise typer.Exit(1 if tally.rejected else 0)


class _Report:
    """Prints the first rejections, writes all of them, advances the counts on the bar."""

    def __init__(self, show: int, sink: IO[str] | None, progress: Progress, task: TaskID) -> None:
        self.show, self.progress, self.task = show, progress, task
        self.writer = FormulaSafeWriter(sink) if sink else None
        if self.writer:
            self.writer.writerow(["row", "line", "field", "reason"])
        self.tally = Tally()

    async def __call__(self, result: BatchResult) -> None:
        self.tally.add(result.tally)
        for rejection in result.rejections:
            if self.writer:
                self.writer.writerow(
                    [rejection.row, rejection.line, rejection.field or "", rejection.reason]
                )
            if self.show > 0:
                self.show -= 1
                self.progress.console.print(
                    f"row {rejection.row} (line {rejection.line}) "
                    f"{rejection.field or '(row)'}: {rejection.reason}",
                    markup=False,
                )
        t = self.tally
        self.progress.update(
            self.task,
            description=(
                f"{t.read:,} read, {t.imported:,} imported, {t.unchanged:,} unchanged, "
                f"{t.rejected:,} rejected"
            ),
        )


async def _run(
    kind: Kind,
    fmt: Format,
    file: Path,
    database_url: str,
    batch_size: int,
    show: int,
    errors: Path | None,
    quiet: bool,
) -> Tally:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
    )
    sink = errors.open("w", encoding="utf-8", newline="") if errors else None
    try:
        with (
            progress,
            progress.open(
                file,
                "r",
                encoding=ENCODING,
                errors=DECODE_ERRORS,
                newline="",
                description=f"importing {kind}",
            ) as text,
        ):
            task = progress.task_ids[0]
            report = _Report(show, sink, progress, task)
            await import_file(
                pool,
                kind,
                read_rows(kind, fmt, text),
                on_batch=report,
                batch_size=batch_size,
                correlation_id=f"import:{file.name}:{new_id()}",
                actor=f"cli:{getpass.getuser()}",
            )
            return report.tally
    finally:
        if sink:
            sink.close()
        await pool.close()


if __name__ == "__main__":
    sys.exit(app())
