"""The relay and the consumer as real processes, so fault tests can SIGKILL them.

A fault that matters (a crash mid-batch, between two commits) only happens to
a process; these start the same CLIs a deployment runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

TOTALS_HANDLER = "receivables_devkit.testing.totals:add_to_totals"


class PlatformProcess:
    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.args, self.log, self.env = args, log, env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> PlatformProcess:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(self.env or {})},
            )
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout: float) -> int:
        """The exit code of a process expected to end by itself."""
        assert self.proc is not None
        code = self.proc.wait(timeout)
        self.proc = None
        return code

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, the way a node dies."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
            self.proc = None


def relay_process(
    database_url: str,
    bootstrap: str,
    service: str,
    log: Path,
    *extra: str,
    env: dict[str, str] | None = None,
) -> PlatformProcess:
    return PlatformProcess(
        [
            sys.executable,
            "-m",
            "receivables_platform.relay",
            "--database-url",
            database_url,
            "--bootstrap-servers",
            bootstrap,
            "--service",
            service,
            *extra,
        ],
        log,
        env,
    )


def consumer_process(
    database_url: str,
    bootstrap: str,
    group: str,
    topic: str,
    log: Path,
    *extra: str,
    handler: str = TOTALS_HANDLER,
    env: dict[str, str] | None = None,
    module: str = "receivables_platform.consumer",
) -> PlatformProcess:
    """`module`: the consumer CLI, or a test's wrapper of it that takes the same options."""
    return PlatformProcess(
        [
            sys.executable,
            "-m",
            module,
            "--database-url",
            database_url,
            "--bootstrap-servers",
            bootstrap,
            "--group",
            group,
            "--topic",
            topic,
            "--handler",
            handler,
            "--session-timeout-ms",
            "3000",
            "--heartbeat-interval-ms",
            "300",
            *extra,
        ],
        log,
        env,
    )
