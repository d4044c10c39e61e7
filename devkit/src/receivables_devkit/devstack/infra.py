"""Where the dev stack's PostgreSQL, broker and JWT secret come from (docs/architecture.md#events).

Environment first, so the same command runs against a real server; otherwise
the embedded servers, with everything worth keeping under one git-ignored data
folder so a restart finds the same databases at the same URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import secrets
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import asyncpg
from aiokafka.errors import KafkaError

from receivables_devkit.infra.apache_kafka import (
    ApacheKafka,
    KafkaNotInstalled,
    configured_broker,
)
from receivables_devkit.infra.embedded_kafka import EmbeddedKafka
from receivables_devkit.infra.embedded_postgres import (
    EmbeddedPostgres,
    database_url,
    ensure_database,
)
from receivables_devkit.infra.ports import free_port
from receivables_platform.contracts.topics import CONTEXTS
from receivables_platform.kafka.topics import ensure_topics
from receivables_platform.settings import KafkaSettings

DATA_DIR_ENV = "RX_DATA_DIR"


class StackError(RuntimeError):
    """A failure the developer can act on; printed without a traceback."""


def default_data_dir() -> Path:
    """`RX_DATA_DIR`, else `.data` at the workspace root, so any subfolder finds the same data."""
    if env := os.environ.get(DATA_DIR_ENV):
        return Path(env).absolute()
    here = Path.cwd().absolute()
    for folder in (here, *here.parents):
        if (folder / "uv.lock").exists():
            return folder / ".data"
    return here / ".data"


def lock_data_dir(data_dir: Path) -> IO[str]:
    """Two stacks on one data folder would stop each other's PostgreSQL: refuse the second."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(data_dir / "stack.lock", "a+")  # noqa: SIM115 - held for the stack's lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StackError(
            f"another receivables-stack is running on {data_dir}; "
            f"stop it or set {DATA_DIR_ENV} to another folder"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def jwt_secret(data_dir: Path) -> str:
    """`JWT_SECRET`, else one generated once and kept, so tokens outlive restarts."""
    if env := os.environ.get("JWT_SECRET"):
        return env
    path = data_dir / "jwt-secret"
    if path.exists() and (kept := path.read_text().strip()):
        return kept
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    return secret


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Bindable the way servers bind (SO_REUSEADDR), so a just-closed port still counts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _pid_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stable_postgres_port(data_dir: Path) -> int:
    """The port of the last run if still ours to use, so the printed URL stays the same."""
    stored = data_dir / "postgres.port"
    with contextlib.suppress(FileNotFoundError, ValueError):
        port = int(stored.read_text().strip())
        # A server left behind by a killed stack still holds the port; start() replaces it.
        leftover = EmbeddedPostgres(data_dir / "postgres", port).pid
        if port_is_free(port) or _pid_alive(leftover):
            return port
    port = free_port()
    stored.write_text(f"{port}\n")
    return port


def redact(url: str) -> str:
    """A URL fit for a terminal: the password replaced."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


@dataclass
class Infrastructure:
    """What the services connect to, and the servers this run owns and must stop."""

    postgres_url: str
    kafka_bootstrap: str
    postgres: EmbeddedPostgres | None = None
    kafka: EmbeddedKafka | None = None
    databases: dict[str, str] = field(default_factory=dict)

    def describe_postgres(self) -> str:
        if self.postgres is None:
            return f"{redact(self.postgres_url)} (from DATABASE_URL)"
        return f"{self.postgres_url} (embedded, data in {self.postgres.data_dir})"

    def describe_kafka(self) -> str:
        if self.kafka is None:
            return f"{self.kafka_bootstrap} (from KAFKA_BOOTSTRAP_SERVERS)"
        if isinstance(self.kafka, ApacheKafka):
            return (
                f"{self.kafka_bootstrap} (Apache Kafka, KRaft, data in "
                f"{self.kafka.data_dir}; log {self.kafka.log_file})"
            )
        return (
            f"{self.kafka_bootstrap} (embedded Tansu, memory only: a restart empties it "
            f"and the services republish from their event stores; log {self.kafka.log_file})"
        )

    def stop(self) -> None:
        """Broker before database, so nothing is left writing to a server that went away."""
        if self.kafka is not None:
            self.kafka.stop()
        if self.postgres is not None:
            self.postgres.stop()


def _server_url(url: str) -> str:
    """A URL to administer the server from: the one given, or its `postgres` database."""
    return url if urlsplit(url).path.strip("/") else database_url(url, "postgres")


async def _ensure_databases(server_url: str, names: list[str]) -> dict[str, str]:
    return {name: await ensure_database(server_url, name) for name in names}


def start_infrastructure(data_dir: Path, databases: list[str], infra: Infrastructure) -> None:
    """Fill `infra` as servers come up, so a stop requested midway still finds them."""
    if env_url := os.environ.get("DATABASE_URL"):
        infra.postgres_url = _server_url(env_url)
    else:
        infra.postgres = EmbeddedPostgres(data_dir / "postgres", stable_postgres_port(data_dir))
        try:
            infra.postgres.start()
        except (subprocess.CalledProcessError, TimeoutError) as exc:
            detail = (
                exc.stderr.decode(errors="replace").strip()
                if isinstance(exc, subprocess.CalledProcessError) and exc.stderr
                else str(exc)
            )
            raise StackError(
                f"embedded PostgreSQL did not start: {detail}\n"
                f"see {infra.postgres.data_dir / 'server.log'}"
            ) from exc
        infra.postgres_url = infra.postgres.url
    try:
        infra.databases = asyncio.run(_ensure_databases(infra.postgres_url, databases))
    except (OSError, asyncpg.PostgresError) as exc:
        raise StackError(f"cannot reach PostgreSQL at {redact(infra.postgres_url)}: {exc}") from exc

    if env_kafka := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        infra.kafka_bootstrap = env_kafka
    else:
        infra.kafka = configured_broker(
            log_file=data_dir / "kafka.log", data_dir=data_dir / "kafka"
        )
        try:
            infra.kafka.start()
        except (KafkaNotInstalled, subprocess.CalledProcessError) as exc:
            raise StackError(f"Apache Kafka did not start: {exc}") from exc
        except TimeoutError as exc:
            raise StackError(
                f"embedded broker did not start: {exc}; see {infra.kafka.log_file}"
            ) from exc
        infra.kafka_bootstrap = infra.kafka.bootstrap_servers
    try:
        asyncio.run(_ensure_event_topics(infra.kafka_bootstrap))
    except KafkaError as exc:
        raise StackError(
            f"cannot create the event topics on {infra.kafka_bootstrap}: {exc!r}"
        ) from exc


async def _ensure_event_topics(bootstrap: str) -> None:
    """Create every context's topic before any client can: a broker that auto-creates
    topics on first mention would otherwise pick its own partition count, and keys
    would land on other partitions than the services' settings say."""
    await ensure_topics(
        KafkaSettings(bootstrap_servers=bootstrap), [context.topic for context in CONTEXTS]
    )
