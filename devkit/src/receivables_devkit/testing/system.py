"""All four services as separate processes over real PostgreSQL and Kafka, for whole-system tests.

Uses the dev stack's own process handling, so the tests start services exactly
the way `make run` and a container do (`python -m <package>`, configured by
environment only), each with a fresh database and a free loopback port.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from receivables_devkit.devstack.infra import StackError
from receivables_devkit.devstack.services import (
    ServiceEntry,
    ServiceProcess,
    console_entry,
    console_env,
    load_services,
    peer_urls,
    stop_all,
    wait_until_ready,
)
from receivables_devkit.infra.embedded_postgres import database_url
from receivables_devkit.infra.ports import free_port
from receivables_platform.ids import new_id
from receivables_platform.web.auth import ROLES, issue_token

PORT_ATTEMPTS = 3


@dataclass
class RunningSystem:
    server_url: str
    kafka_bootstrap: str
    log_dir: Path
    jwt_secret: str = field(default_factory=lambda: new_id().hex + new_id().hex)
    env: dict[str, str] = field(default_factory=dict)
    """More environment for every process (e.g. STRIPE_WEBHOOK_SECRET), over os.environ."""
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    databases: dict[str, str] = field(default_factory=dict)
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    """Extra environment per service, e.g. RUN_RELAY=false to run its relay apart."""

    def url(self, service: str) -> str:
        return self.processes[service].entry.url

    def token(self, *roles: str, sub: str = "system-test") -> str:
        return issue_token(self.jwt_secret, sub, roles or sorted(ROLES), ttl=3600)

    def auth(self, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(*roles)}"}

    async def start(self, services: Sequence[str] | None = None, ready_within: float = 90) -> None:
        entries = [e for e in load_services() if services is None or e.name in services]
        for entry in entries:
            self.processes[entry.name] = await self._process(entry)
        peers = peer_urls([proc.entry for proc in self.processes.values()])
        for proc in self.processes.values():
            proc.env = {**peers, **proc.env}
            proc.start()
        for attempt in range(PORT_ATTEMPTS):
            try:
                await asyncio.to_thread(
                    wait_until_ready,
                    list(self.processes.values()),
                    ready_within,
                    lambda proc, seconds: None,
                )
                return
            except StackError:
                lost = [entry for entry in entries if self._lost_its_port(entry.name)]
                if not lost or attempt == PORT_ATTEMPTS - 1:
                    raise
                for entry in lost:  # another process took the free port first: a new one
                    self.processes[entry.name] = proc = self._placed(entry)
                    proc.env = {**peers, **proc.env}
                    proc.start()

    def _lost_its_port(self, service: str) -> bool:
        """Between `free_port` and the bind, a parallel test may take the port."""
        proc = self.processes[service]
        return (
            proc.poll() is not None
            and proc.log_path.exists()
            and "address already in use" in proc.log_path.read_text(errors="replace")
        )

    async def _process(self, entry: ServiceEntry) -> ServiceProcess:
        name = f"t_{entry.database}_{new_id().hex[:12]}"
        conn = await asyncpg.connect(self.server_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.databases[entry.name] = database_url(self.server_url, name)
        return self._placed(entry)

    def _placed(self, entry: ServiceEntry) -> ServiceProcess:
        port = free_port()
        env = {
            **os.environ,
            **self.env,
            "DATABASE_URL": self.databases[entry.name],
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(port),
            "JWT_SECRET": self.jwt_secret,
            "LOG_LEVEL": "INFO",
            **self.service_env.get(entry.name, {}),
        }
        placed = ServiceEntry(entry.package, entry.name, entry.database, port)
        return ServiceProcess(placed, env, self.log_dir / f"{entry.name}.log")

    async def start_console(self, ready_within: float = 60) -> str:
        """The console over the running services, started as `make run` starts it; its URL."""
        entry = console_entry(free_port())
        services = [proc.entry for name, proc in self.processes.items() if name != "console"]
        env = {
            **os.environ,
            **self.env,
            "LOG_LEVEL": "INFO",
            **console_env(services, entry.port, self.jwt_secret),
        }
        proc = self.processes["console"] = ServiceProcess(entry, env, self.log_dir / "console.log")
        proc.start()
        await asyncio.to_thread(wait_until_ready, [proc], ready_within, lambda p, s: None)
        return entry.url

    def kill(self, service: str) -> None:
        """SIGKILL, the way a node dies: no drain, no lifespan shutdown, no goodbye."""
        proc = self.processes[service]
        if proc.proc is not None and proc.poll() is None:
            proc.proc.send_signal(signal.SIGKILL)
        proc.wait(time.monotonic() + 10)

    async def restart(self, service: str, ready_within: float = 60) -> None:
        """Start a stopped or killed service again on its port; its earlier log is kept."""
        proc = self.processes[service]
        if proc.log_path.exists():
            runs = len(list(proc.log_path.parent.glob(f"{proc.log_path.stem}.run*.log")))
            proc.log_path.rename(proc.log_path.with_suffix(f".run{runs + 1}.log"))
        proc.start()
        await asyncio.to_thread(wait_until_ready, [proc], ready_within, lambda p, s: None)

    async def stop(self, drop_databases: bool = True) -> list[str]:
        """Stop every service; drop their databases unless the server is thrown away anyway."""
        problems = await asyncio.to_thread(stop_all, list(self.processes.values()))
        if not drop_databases:
            return problems
        conn = await asyncpg.connect(self.server_url)
        try:
            for url in self.databases.values():
                name = url.rsplit("/", 1)[-1]
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
        return problems
