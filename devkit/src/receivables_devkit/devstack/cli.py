"""`receivables-stack`: the whole platform on a laptop, no Docker (`make run`).

`run` resolves PostgreSQL and the broker (environment, else embedded), starts
the four services as child processes, waits for every `/readyz`, prints where
everything is and a token to call it with, and on Ctrl-C stops the services
before the infrastructure they write to. `run --until-ready` does the same and
stops as soon as everything answered, which is how a test proves `make run`.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
import warnings
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from receivables_devkit.devstack.infra import (
    DATA_DIR_ENV,
    Infrastructure,
    StackError,
    default_data_dir,
    jwt_secret,
    lock_data_dir,
    redact,
    start_infrastructure,
)
from receivables_devkit.devstack.services import (
    HOST,
    ServiceProcess,
    console_entry,
    console_env,
    ensure_ports_free,
    example_request,
    load_services,
    peer_urls,
    stop_all,
    wait_until_ready,
)
from receivables_devkit.devstack.tokens import (
    DEV_SUBJECT,
    ROLES,
    max_token_lifetime,
    mint_token,
)

# The embedded servers' wheels ask platformdirs for a runtime folder they never use;
# its warning on machines without XDG_RUNTIME_DIR is noise in the stack's output.
warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")

app = typer.Typer(
    help="The receivables platform on one machine, no Docker.",
    no_args_is_help=True,
    add_completion=False,
)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar=DATA_DIR_ENV,
        show_default=".data at the workspace root",
        help="Where the embedded PostgreSQL data, JWT secret and logs live.",
    ),
]


class _Shutdown(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_first_signal_at: float | None = None


def _raise_shutdown(signum: int, frame: FrameType | None) -> None:
    global _first_signal_at
    _first_signal_at = time.monotonic()
    raise _Shutdown(signum)


def _already_stopping(signum: int, frame: FrameType | None) -> None:
    """Stopping is never cut short. `uv run` forwards the terminal's Ctrl-C a second
    time, so only a later press (a developer getting impatient) is answered."""
    if _first_signal_at is None or time.monotonic() - _first_signal_at > 1.0:
        typer.echo("already stopping; services get 20s to drain before they are killed", err=True)


def _install(handler: signal._HANDLER) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)


def _echo(text: str = "") -> None:
    typer.echo(text)


def _print_summary(
    processes: list[ServiceProcess],
    infra: Infrastructure,
    secret: str,
    data_dir: Path,
    elapsed: float,
    until_ready: bool,
) -> None:
    what_next = "stopping it again (--until-ready)" if until_ready else "Ctrl-C stops it"
    _echo(f"\nReceivables stack is up after {elapsed:.1f}s; {what_next}.\n")
    rows = [("SERVICE", "LISTENS ON", "DATABASE")]
    rows += [
        (p.entry.name, p.entry.url, redact(infra.databases[p.entry.database]))
        for p in processes
        if p.entry.database
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for name, url, db in rows:
        _echo(f"  {name:<{widths[0]}}  {url:<{widths[1]}}  {db}")
    _echo()
    _echo(f"  PostgreSQL  {infra.describe_postgres()}")
    _echo(f"  Kafka       {infra.describe_kafka()}")
    _echo(f"  Logs        {data_dir / 'logs'}/<service>.log")
    apis = [p for p in processes if p.entry.database]
    _echo(f"  API docs    {', '.join(p.entry.url + '/docs' for p in apis)}")
    for p in processes:
        if not p.entry.database:
            _echo(f"\n  Console     {p.entry.url}/  (dev sign-in: pick a person and roles)")

    ttl = max_token_lifetime()
    token = mint_token(secret, DEV_SUBJECT, list(ROLES), ttl)
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl)).isoformat(timespec="minutes")
    _echo(f"\nDev token (sub {DEV_SUBJECT}, roles {', '.join(ROLES)}; expires {expires}):")
    _echo(f"  export RX_TOKEN={token}")
    examples = (example_request(p.entry.url) for p in apis)
    target = next((url for url in examples if url), f"{apis[0].entry.url}/readyz")
    _echo(f'  curl -H "Authorization: Bearer $RX_TOKEN" {target}')
    _echo("  (more tokens: receivables-stack token ROLE...)\n")


def _child_env(database_url: str, infra: Infrastructure, port: int, secret: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "HTTP_HOST": HOST,
        "HTTP_PORT": str(port),
        "JWT_SECRET": secret,
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "PYTHONUNBUFFERED": "1",
    }


def _watch(processes: list[ServiceProcess]) -> None:
    """Until a signal arrives; a service that dies takes the stack down with it, loudly."""
    while True:
        for proc in processes:
            code = proc.poll()
            if code is not None:
                raise StackError(
                    f"{proc.entry.name} exited with code {code}; "
                    f"last lines of {proc.log_path}:\n{proc.log_tail()}"
                )
        time.sleep(0.5)


@app.command()
def run(
    until_ready: Annotated[
        bool,
        typer.Option("--until-ready", help="Stop (exit 0) as soon as every /readyz answered 200."),
    ] = False,
    ready_timeout: Annotated[
        float, typer.Option(help="Seconds each start may take before it counts as failed.")
    ] = 90.0,
    data_dir: DataDirOption = None,
) -> None:
    """Start PostgreSQL, the broker and the four services; Ctrl-C stops all of it."""
    _install(_raise_shutdown)
    started = time.monotonic()
    folder = (data_dir or default_data_dir()).absolute()
    infra = Infrastructure(postgres_url="", kafka_bootstrap="")
    processes: list[ServiceProcess] = []
    exit_code = 0
    lock = None
    try:
        lock = lock_data_dir(folder)
        entries = load_services()
        console = console_entry()
        ensure_ports_free([*entries, console])
        secret = jwt_secret(folder)
        _echo(f"Starting infrastructure (data in {folder})")
        start_infrastructure(folder, [e.database for e in entries], infra)
        _echo(f"  PostgreSQL  {redact(infra.postgres_url)}\n  Kafka       {infra.kafka_bootstrap}")
        _echo("Starting services")
        for entry in entries:
            proc = ServiceProcess(
                entry,
                {
                    **peer_urls(entries),
                    **_child_env(infra.databases[entry.database], infra, entry.port, secret),
                },
                folder / "logs" / f"{entry.name}.log",
            )
            proc.start()
            processes.append(proc)
        wait_until_ready(
            processes,
            ready_timeout,
            lambda p, t: _echo(f"  {p.entry.name} ready on {p.entry.url} ({t:.1f}s)"),
        )
        proc = ServiceProcess(
            console,
            {
                **os.environ,
                "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
                **console_env(entries, console.port, secret),
            },
            folder / "logs" / "console.log",
        )
        proc.start()
        processes.append(proc)
        wait_until_ready(
            [proc],
            ready_timeout,
            lambda p, t: _echo(f"  console ready on {p.entry.url} ({t:.1f}s)"),
        )
        _print_summary(processes, infra, secret, folder, time.monotonic() - started, until_ready)
        if not until_ready:
            _watch(processes)
    except _Shutdown as stop:
        _echo(f"\n{stop} received")
    except StackError as exc:
        typer.echo(f"\nerror: {exc}", err=True)
        exit_code = 1
    finally:
        _install(_already_stopping)
        if processes:
            _echo("Stopping services")
        for problem in stop_all(processes):
            typer.echo(f"error: {problem}", err=True)
            exit_code = exit_code or 1
        if infra.postgres or infra.kafka:
            _echo("Stopping infrastructure")
        infra.stop()
        if lock is not None:
            lock.close()
    _echo("Stopped." if exit_code == 0 else f"Stopped with errors (exit {exit_code}).")
    raise typer.Exit(exit_code)


@app.command()
def token(
    roles: Annotated[
        list[str] | None,
        typer.Argument(help=f"Roles to grant, any of: {', '.join(ROLES)}. Default: all of them."),
    ] = None,
    sub: Annotated[str, typer.Option(help="Subject: the user or integration id.")] = DEV_SUBJECT,
    ttl: Annotated[
        int | None,
        typer.Option(
            help="Seconds until it expires. Default and most: JWT_MAX_LIFETIME_SECONDS "
            "(24 h), what the services accept.",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Print a token the running stack accepts (same secret as `run`)."""
    unknown = sorted(set(roles or ()) - set(ROLES))
    if unknown:
        typer.echo(
            f"unknown role(s): {', '.join(unknown)}; choose from {', '.join(ROLES)}", err=True
        )
        raise typer.Exit(2)
    longest = max_token_lifetime()
    if ttl is not None and ttl > longest:
        typer.echo(
            f"--ttl {ttl} is longer than the {longest} s the services accept "
            "(JWT_MAX_LIFETIME_SECONDS)",
            err=True,
        )
        raise typer.Exit(2)
    secret = jwt_secret((data_dir or default_data_dir()).absolute())
    typer.echo(mint_token(secret, sub, list(roles or ROLES), longest if ttl is None else ttl))
