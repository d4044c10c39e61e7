"""Apache Kafka in KRaft mode, one combined broker/controller node, from the jars that
`make kafka` copies out of Maven Central into `.tools/kafka/libs`.

Tansu keeps nothing across a restart and has no idempotent producer; platform teams run
Apache Kafka, so the relay, consumer and healing suites must pass on it too
(`make test-kafka`, docs/kafka.md). The node keeps its log across `kill()`/`start()`
like a real broker; `restart()` is the data loss the healing suites need, made real by
deleting the log and formatting a new cluster on the same ports.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from receivables_devkit.infra.embedded_kafka import EmbeddedKafka
from receivables_devkit.infra.ports import free_port, wait_for_port

KAFKA_HOME = Path(
    os.environ.get("KAFKA_HOME", Path(__file__).resolve().parents[4] / ".tools" / "kafka")
)
"""Where `make kafka` put the broker; `KAFKA_HOME` points elsewhere."""

JVM_OPTIONS = (
    "-Xms64m",
    "-Xmx256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
)
"""Small and quick to start: the suites run beside other work on two cores."""


BROKERS = ("tansu", "kafka")


class KafkaNotInstalled(RuntimeError):
    pass


def broker_choice() -> str:
    """`BROKER=kafka|tansu` (default tansu): one switch for the fixtures and the dev stack."""
    choice = os.environ.get("BROKER", "tansu").strip().lower() or "tansu"
    if choice not in BROKERS:
        raise ValueError(f"BROKER={choice!r}: expected one of {', '.join(BROKERS)}")
    return choice


def configured_broker(log_file: Path | None = None, data_dir: Path | None = None) -> EmbeddedKafka:
    """The broker `BROKER` names, not yet started; `data_dir` is kept only by Kafka
    (Tansu holds everything in memory)."""
    if broker_choice() == "kafka":
        return ApacheKafka(log_file=log_file, data_dir=data_dir)
    return EmbeddedKafka(log_file=log_file)


def new_cluster_id() -> str:
    """A random id as Kafka's own `Uuid.randomUuid` makes it: never starting with `-`, which
    the storage tool would read as an option (one id in 64 did, and the broker never started)."""
    cid = "-"
    while cid.startswith("-"):
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    return cid


class ApacheKafka(EmbeddedKafka):
    def __init__(
        self,
        port: int | None = None,
        log_file: Path | None = None,
        data_dir: Path | None = None,
        *,
        node_id: int = 1,
    ) -> None:
        super().__init__(port=port, log_file=log_file)
        self.node_id = node_id
        self.controller_port = free_port()
        self._own_dir = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="rx-kafka-"))
        self.voters = f"{node_id}@{self.host}:{self.controller_port}"
        """The KRaft controller quorum; a `KafkaCluster` sets all of its nodes here."""
        self.cluster_id: str | None = None
        """Set by a `KafkaCluster`, whose nodes must share it; else new at each format."""
        self.replicas = 1
        """Replicas of the internal topics (`__consumer_offsets`): at most the node count."""

    @property
    def _config(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def _log_dir(self) -> Path:
        return self.data_dir / "log"

    def _java(self, main: str, *args: str) -> list[str]:
        libs = KAFKA_HOME / "libs"
        if not any(libs.glob("kafka_2.13-*.jar")):
            raise KafkaNotInstalled(f"no Apache Kafka in {libs}: run `make kafka`")
        java = shutil.which(
            "java",
            path=os.path.join(os.environ.get("JAVA_HOME", ""), "bin")
            + os.pathsep
            + os.environ.get("PATH", ""),
        )
        if java is None:
            raise KafkaNotInstalled("no `java` on PATH: Apache Kafka needs Java 17")
        return [java, *JVM_OPTIONS, "-cp", f"{libs}/*", main, *args]

    def _write_config(self) -> None:
        host, port, cport = self.host, self.port, self.controller_port
        replicas, min_isr = self.replicas, max(1, self.replicas - 1)
        self._config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    f"node.id={self.node_id}",
                    f"controller.quorum.voters={self.voters}",
                    f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{cport}",
                    f"advertised.listeners=PLAINTEXT://{host}:{port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    f"log.dirs={self._log_dir}",
                    # the internal topics cannot have more replicas than there are nodes
                    f"offsets.topic.replication.factor={replicas}",
                    "offsets.topic.num.partitions=4",
                    f"transaction.state.log.replication.factor={replicas}",
                    f"transaction.state.log.min.isr={min_isr}",
                    f"share.coordinator.state.topic.replication.factor={replicas}",
                    f"share.coordinator.state.topic.min.isr={min_isr}",
                    # the suites start groups by the dozen; waiting 3 s for more members each
                    # time is what makes a real broker feel slow in tests
                    "group.initial.rebalance.delay.ms=0",
                    # the fault tests' consumers give up a dead member after 3 s, below the
                    # broker's 6 s floor, which refuses their join (InvalidSessionTimeout)
                    "group.min.session.timeout.ms=1000",
                    # as Tansu: a topic a client mentions first comes with this many partitions
                    f"num.partitions={self.AUTO_CREATED_PARTITIONS}",
                    "auto.create.topics.enable=true",
                    # retention is checked every 5 minutes by default; the healing tests need a
                    # topic whose old segments go within seconds (the platform's topics keep
                    # forever)
                    "log.retention.check.interval.ms=500",
                    # a leaderless partition of a topic that allows unclean elections gets one
                    # within a second, not 5 minutes (the healing tests force one; no platform
                    # topic allows them)
                    "unclean.leader.election.interval.ms=1000",
                    "",
                ]
            )
        )

    def _format(self) -> None:
        """A new cluster id each time: after `restart()` the node is another cluster, as
        a broker whose disk was lost and rebuilt would be."""
        cid = self.cluster_id or new_cluster_id()
        subprocess.run(
            self._java(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cid,
                "-c",
                str(self._config),
                "--ignore-formatted",
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> ApacheKafka:
        self.launch()
        wait_for_port(self.host, self.port, timeout=120)
        return self

    def launch(self) -> None:
        """Start the process without waiting: a cluster's node opens its port only once a
        quorum of controllers is up, so a cluster launches them all before waiting."""
        # written each start: a kept log may come back on other free ports
        self._write_config()
        if not (self._log_dir / "meta.properties").exists():
            self._format()
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self._proc = subprocess.Popen(
            self._java("kafka.Kafka", str(self._config)),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        super().stop()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def stop_keeping_log(self) -> None:
        """A clean shutdown (SIGTERM: leadership handed over, log flushed); `start()` rejoins."""
        EmbeddedKafka.stop(self)

    def kill(self) -> None:
        """SIGKILL; the log stays, so `start()` brings the same topics back."""
        super().kill()

    def restart(self) -> None:
        """Same address, empty broker, new cluster: a real loss of the broker's data."""
        EmbeddedKafka.stop(self)
        shutil.rmtree(self._log_dir, ignore_errors=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.start()


class KafkaCluster:
    """Three (or `size`) KRaft nodes on loopback, each broker and controller, sharing one
    cluster id and quorum: what replication, leader elections and `min.insync.replicas`
    need to be real. Topics the fault tests create get replication factor 3 and
    `min.insync.replicas` 2 (`KafkaSettings`), so one node may die without a loss."""

    def __init__(self, size: int = 3, log_dir: Path | None = None) -> None:
        self.nodes = [
            ApacheKafka(log_file=log_dir / f"kafka-{n}.log" if log_dir else None, node_id=n)
            for n in range(1, size + 1)
        ]
        voters = ",".join(f"{n.node_id}@{n.host}:{n.controller_port}" for n in self.nodes)
        cluster_id = new_cluster_id()
        for node in self.nodes:
            node.voters, node.cluster_id, node.replicas = voters, cluster_id, size

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(n.bootstrap_servers for n in self.nodes)

    def node(self, node_id: int) -> ApacheKafka:
        return next(n for n in self.nodes if n.node_id == node_id)

    def start(self) -> KafkaCluster:
        with ThreadPoolExecutor(len(self.nodes)) as pool:  # formatting is a JVM start each
            list(pool.map(lambda n: n.launch(), self.nodes))
        for node in self.nodes:
            wait_for_port(node.host, node.port, timeout=120)
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
