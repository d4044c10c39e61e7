"""The four services as child processes of the dev stack.

Each runs exactly as it would in a container (`python -m <package>`), configured
only through its environment, so what works under `make run` works deployed.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from receivables_devkit.devstack.infra import StackError, port_is_free
from receivables_platform.web_processes import die_with_parent

PACKAGES = ("billing_adapter", "collections_service", "case_service", "reporting_service")
HOST = "127.0.0.1"
CONSOLE = ("console_service", "console", 8100)
"""The console's package, name and dev port: it has no spec (no database, no events)."""


@dataclass(frozen=True)
class ServiceEntry:
    package: str
    name: str
    database: str
    port: int

    @property
    def port_env(self) -> str:
        return port_env_name(self.name)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def port_env_name(service_name: str) -> str:
    """`BILLING_ADAPTER_PORT` and so on: the documented port moved without editing code."""
    return service_name.upper().replace("-", "_") + "_PORT"


def load_services() -> list[ServiceEntry]:
    """Names, databases and default ports from each service's own spec: one source of truth."""
    entries = []
    for package in PACKAGES:
        spec = importlib.import_module(f"{package}.spec").SPEC
        override = os.environ.get(port_env_name(spec.name))
        try:
            port = int(override) if override else spec.default_port
        except ValueError:
            raise StackError(f"{port_env_name(spec.name)}={override!r} is not a port") from None
        entries.append(ServiceEntry(package, spec.name, spec.database, port))
    return entries


def console_entry(port: int | None = None) -> ServiceEntry:
    """The console on CONSOLE_PORT (default 8100), started after the services it calls."""
    package, name, default_port = CONSOLE
    override = os.environ.get(port_env_name(name))
    try:
        chosen = port or (int(override) if override else default_port)
    except ValueError:
        raise StackError(f"{port_env_name(name)}={override!r} is not a port") from None
    return ServiceEntry(package, name, "", chosen)


def peer_urls(services: Sequence[ServiceEntry]) -> dict[str, str]:
    """Where each API is (BILLING_ADAPTER_URL...), for whoever calls another service:
    the console, and collections asking billing for pay links."""
    return {f"{entry.name.upper().replace('-', '_')}_URL": entry.url for entry in services}


def console_env(services: Sequence[ServiceEntry], port: int, jwt_secret: str) -> dict[str, str]:
    """Where the four APIs are, and the dev sign-in: it mints tokens with the services'
    secret. The session key is derived from that secret, so a restart keeps people
    signed in, and it is never the secret itself."""
    env = peer_urls(services)
    session_key = hmac.new(jwt_secret.encode(), b"console-session", hashlib.sha256).hexdigest()
    return {
        **env,
        "CONSOLE_PORT": str(port),
        "HTTP_HOST": HOST,
        "JWT_SECRET": jwt_secret,
        "CONSOLE_DEV_SIGN_IN": "true",
        "CONSOLE_SESSION_SECRET": session_key,
    }


class ServiceProcess:
    def __init__(self, entry: ServiceEntry, env: dict[str, str], log_path: Path) -> None:
        self.entry = entry
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - the child writes to it until stopped
        # Own session: a terminal Ctrl-C reaches the stack only, which then stops the
        # services first and the infrastructure after them. A stack killed with SIGKILL
        # must not leave services holding the dev ports: they die with it.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.entry.package],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )

    def poll(self) -> int | None:
        return self.proc.poll() if self.proc else None

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.entry.url}/readyz", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        tail = text.splitlines()[-lines:]
        return "\n".join(f"    {line}" for line in tail) or "    (log is empty)"

    def terminate(self) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)

    def wait(self, deadline: float) -> bool:
        """True if it stopped by the deadline; otherwise it is killed."""
        if self.proc is None:
            return True
        try:
            self.proc.wait(max(0.0, deadline - time.monotonic()))
            stopped = True
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            stopped = False
        if self._log:
            self._log.close()
            self._log = None
        return stopped


def ensure_ports_free(entries: Sequence[ServiceEntry]) -> None:
    """Fail before starting anything, naming the variable that moves the service elsewhere."""
    for entry in entries:
        if not port_is_free(entry.port, HOST):
            raise StackError(
                f"port {entry.port} for {entry.name} is in use; "
                f"stop whatever holds it or set {entry.port_env}"
            )


def wait_until_ready(
    processes: Sequence[ServiceProcess],
    timeout: float,
    on_ready: Callable[[ServiceProcess, float], None],
) -> None:
    """Every `/readyz` answers 200 within `timeout`, or a StackError naming who did not."""
    started = time.monotonic()
    deadline = started + timeout
    pending = list(processes)
    while pending:
        for proc in list(pending):
            code = proc.poll()
            if code is not None:
                raise StackError(
                    f"{proc.entry.name} exited with code {code} while starting; "
                    f"last lines of {proc.log_path}:\n{proc.log_tail()}"
                )
            if proc.ready():
                pending.remove(proc)
                on_ready(proc, time.monotonic() - started)
        if not pending:
            return
        if time.monotonic() > deadline:
            proc = pending[0]
            raise StackError(
                f"{proc.entry.name} did not answer 200 on {proc.entry.url}/readyz "
                f"within {timeout:g}s; last lines of {proc.log_path}:\n"
                f"{proc.log_tail()}"
            )
        time.sleep(0.2)


def stop_all(processes: Sequence[ServiceProcess], grace: float = 20.0) -> list[str]:
    """SIGTERM to all at once (uvicorn drains, the lifespan stops relay and consumers).

    Returns what went wrong for services that were still running: killed after
    the grace period, or exited non-zero, since either hides a shutdown bug.
    """
    running = [proc for proc in processes if proc.poll() is None]
    for proc in running:
        proc.terminate()
    deadline = time.monotonic() + grace
    problems = []
    for proc in processes:
        stopped = proc.wait(deadline)
        if proc not in running:
            continue
        code = proc.poll()
        if not stopped:
            problems.append(f"{proc.entry.name} did not stop within {grace:.0f}s and was killed")
        elif code not in (0, -signal.SIGTERM):
            problems.append(
                f"{proc.entry.name} exited with code {code} when stopped; "
                f"last lines of {proc.log_path}:\n{proc.log_tail()}"
            )
    return problems


def example_request(base_url: str) -> str | None:
    """A GET route of the running service that needs no parameters, so the printed curl
    works today and keeps working as the APIs grow."""
    try:
        schema = httpx.get(f"{base_url}/openapi.json", timeout=2.0).json()
    except (httpx.HTTPError, ValueError):
        return None
    for path, operations in sorted(schema.get("paths", {}).items()):
        get = operations.get("get")
        if not path.startswith("/v1") or "{" in path or get is None:
            continue
        if any(param.get("required") for param in get.get("parameters", [])):
            continue
        return f"{base_url}{path}"
    return None
