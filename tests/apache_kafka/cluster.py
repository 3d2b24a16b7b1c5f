"""Apache Kafka on this machine, for the tests: its own jars from Maven, KRaft nodes as JVMs.

No tarball and no Docker: the jars come from Maven (:mod:`.jars`, versions pinned in
``pom.xml``). :class:`KafkaCluster` formats a KRaft storage directory per node, starts every
node as a combined broker and controller on free ports of 127.0.0.1, waits until every broker
is registered, and stops them. Nodes can be killed (SIGKILL) and started again on the same
ports and data. Every node still running when Python exits is stopped.

Run one node by hand (``make kafka``)::

    python -m tests.apache_kafka.cluster            # prints its bootstrap servers
    python -m tests.apache_kafka.cluster --nodes 3
    python -m tests.apache_kafka.cluster --run pytest tests/integration   # on Apache Kafka
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import base64
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

from framegate.streams.kafka.broker import free_port, port_open
from tests.apache_kafka.jars import KafkaUnavailable, classpath, java, kafka_version
from tests.apache_kafka.security import Security

HOST = "127.0.0.1"
# A small heap per JVM: three nodes, a worker and the tests share two cores and a few GiB.
JVM_OPTIONS = (
    "-Xms64m",
    "-Xmx384m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:MaxDirectMemorySize=128m",
    "-Djava.awt.headless=true",
    "-Djava.net.preferIPv4Stack=true",
)
STARTED = "Kafka Server started"  # what a combined node logs once it serves


_RUNNING: set[KafkaCluster] = set()  # stopped at exit, whatever the tests did


class KafkaStartError(RuntimeError):
    """A node did not start; the message quotes its log."""


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding, never starting
    with "-" (which a command line would take for an option), as Kafka's ``Uuid``."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


@dataclass
class Node:
    """One combined broker and controller."""

    node_id: int
    port: int
    controller_port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${sys:framegate.kafka.log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = INFO
"""


class KafkaCluster:
    """``nodes`` combined KRaft nodes on 127.0.0.1, in ``directory``, until :meth:`stop`.

    ``overrides`` are broker properties laid over the defaults (for example
    ``{"min.insync.replicas": "2"}``). Internal topics get a replication factor of
    ``min(3, nodes)``. With ``security`` the client listener is SASL_SSL.

    Examples
    --------
    >>> with KafkaCluster(Path("/tmp/k"), nodes=1) as kafka:  # doctest: +SKIP
    ...     print(kafka.bootstrap_servers)
    127.0.0.1:40123
    """

    def __init__(
        self,
        directory: Path,
        *,
        nodes: int = 1,
        overrides: Mapping[str, str] | None = None,
        security: Security | None = None,
        cp: str | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.security = security
        self.overrides = dict(overrides or {})
        self.cp = cp
        self.cluster_id = new_cluster_id()
        self.nodes = [
            Node(n, free_port(), free_port(), self.directory / f"node-{n}")
            for n in range(1, nodes + 1)
        ]

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"{HOST}:{node.port}" for node in self.nodes)

    def node(self, node_id: int) -> Node:
        return next(node for node in self.nodes if node.node_id == node_id)

    def properties(self, node: Node) -> dict[str, str]:
        replicas = str(min(3, len(self.nodes)))
        voters = ",".join(f"{n.node_id}@{HOST}:{n.controller_port}" for n in self.nodes)
        properties = {
            "process.roles": "broker,controller",
            "node.id": str(node.node_id),
            "controller.quorum.voters": voters,
            "listeners": f"CLIENT://{HOST}:{node.port},CONTROLLER://{HOST}:{node.controller_port}",
            "advertised.listeners": f"CLIENT://{HOST}:{node.port}",
            "listener.security.protocol.map": "CLIENT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "CLIENT",
            "controller.listener.names": "CONTROLLER",
            "log.dirs": str(node.directory / "data"),
            "auto.create.topics.enable": "false",
            "num.partitions": "1",
            "default.replication.factor": replicas,
            "offsets.topic.replication.factor": replicas,
            "offsets.topic.num.partitions": "8",
            "transaction.state.log.replication.factor": replicas,
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": replicas,
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # Frames are images: framegate's default limit is 16 MiB.
            "message.max.bytes": str(16 * 1024 * 1024),
            "replica.fetch.max.bytes": str(16 * 1024 * 1024),
            # Two cores for everything: few threads, a small cleaner buffer, quick cleaning.
            "num.network.threads": "2",
            "num.io.threads": "2",
            "num.replica.fetchers": "1",
            "background.threads": "2",
            "log.cleaner.dedupe.buffer.size": str(8 * 1024 * 1024),
            "log.cleaner.backoff.ms": "1000",
            # A dead node is noticed in seconds, not the default 9 s / 30 s.
            "broker.session.timeout.ms": "4000",
            "broker.heartbeat.interval.ms": "500",
            "replica.lag.time.max.ms": "5000",
        }
        if self.security:
            properties.update(self.security.properties())
        properties.update(self.overrides)
        return properties

    # -- life cycle -----------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> KafkaCluster:
        self.cp = self.cp or classpath()
        _RUNNING.add(self)
        self.directory.mkdir(parents=True, exist_ok=True)
        formatting = []
        for node in self.nodes:
            node.directory.mkdir(parents=True, exist_ok=True)
            config = node.directory / "server.properties"
            config.write_text("".join(f"{k}={v}\n" for k, v in self.properties(node).items()))
            (node.directory / "log4j2.properties").write_text(LOG4J2)
            scram = self.security.scram_arguments() if self.security else []
            command = [
                "java",
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                self.cp,
                "kafka.tools.StorageTool",
                "format",
                f"--cluster-id={self.cluster_id}",
                "--config",
                str(config),
                "--ignore-formatted",
                *scram,
            ]
            formatting.append(
                subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            )
        for node, process in zip(self.nodes, formatting, strict=True):
            output, _ = process.communicate(timeout=120)
            if process.returncode != 0:
                raise KafkaStartError(f"formatting node {node.node_id} failed:\n{output.decode()}")
        for node in self.nodes:
            self.start_node(node.node_id, wait=False)
        self.wait_ready(timeout)
        return self

    def start_node(self, node_id: int, *, wait: bool = True, timeout: float = 90.0) -> float:
        """Start (or restart) one node on its ports and data; seconds until it served."""
        node = self.node(node_id)
        assert not node.alive, f"node {node_id} is running"
        started = time.monotonic()
        offset = node.log.stat().st_size if node.log.exists() else 0
        command = [
            "java",
            *JVM_OPTIONS,
            f"-Dlog4j2.configurationFile={node.directory / 'log4j2.properties'}",
            f"-Dframegate.kafka.log={node.log}",
            f"-Dkafka.logs.dir={node.directory}",
            "-cp",
            str(self.cp),
            "kafka.Kafka",
            str(node.directory / "server.properties"),
        ]
        with open(node.directory / "stdout.log", "ab") as output:
            node.process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        if wait:
            self._wait_started(node, offset, started + timeout)
        return time.monotonic() - started

    def _wait_started(self, node: Node, offset: int, deadline: float) -> None:
        while True:
            text = (
                node.log.read_bytes()[offset:].decode(errors="replace") if node.log.exists() else ""
            )
            if STARTED in text and port_open(HOST, node.port):
                return
            if not node.alive:
                raise KafkaStartError(f"node {node.node_id} exited:\n{self.tail(node)}")
            if time.monotonic() > deadline:
                raise KafkaStartError(f"node {node.node_id} did not start:\n{self.tail(node)}")
            time.sleep(0.1)

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until every node serves and every broker is registered with the controllers."""
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            self._wait_started(node, 0, deadline)
        asyncio.run(self._wait_registered(deadline))

    async def _wait_registered(self, deadline: float) -> None:
        while True:
            try:
                brokers = len((await self.describe_cluster())["brokers"])
            except Exception:  # noqa: BLE001 - not up yet
                brokers = 0
            if brokers == len(self.nodes):
                return
            if time.monotonic() > deadline:
                raise KafkaStartError(f"{brokers} of {len(self.nodes)} brokers registered")
            await asyncio.sleep(0.2)

    def kill(self, node_id: int) -> None:
        """SIGKILL one node: no shutdown, no flush."""
        node = self.node(node_id)
        assert node.process is not None
        os.killpg(node.process.pid, signal.SIGKILL)
        node.process.wait()
        node.process = None

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.alive:
                node.process.terminate()
        for node in self.nodes:
            if node.process is None:
                continue
            try:
                node.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(node.process.pid, signal.SIGKILL)
                node.process.wait()
            node.process = None
        _RUNNING.discard(self)

    def __enter__(self) -> KafkaCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def tail(self, node: Node, chars: int = 4000) -> str:
        parts = []
        for log in (node.log, node.directory / "stdout.log"):
            if log.exists():
                parts.append(log.read_text(errors="replace")[-chars:])
        return "\n".join(parts)

    # -- administration -------------------------------------------------------------------

    def client_options(self) -> dict[str, Any]:
        """aiokafka options of a super user (none on a PLAINTEXT cluster)."""
        return self.security.admin_client_options() if self.security else {}

    def admin(self) -> AIOKafkaAdminClient:
        return AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap_servers, **self.client_options()
        )

    async def describe_cluster(self) -> dict[str, Any]:
        admin = self.admin()
        await admin.start()
        try:
            return await admin.describe_cluster()
        finally:
            await admin.close()

    def acl(self, *arguments: str) -> str:
        """Kafka's ``kafka-acls`` (AclCommand) as the admin user, e.g.
        ``acl("--add", "--allow-principal", "User:alice", "--operation", "All", ...)``."""
        assert self.security is not None and self.cp is not None
        config = self.directory / "admin.properties"
        config.write_text(self.security.admin_properties())
        result = java(
            "org.apache.kafka.tools.AclCommand",
            "--bootstrap-server",
            self.bootstrap_servers,
            "--command-config",
            str(config),
            *arguments,
            cp=self.cp,
        )
        return result.stdout


@atexit.register
def _stop_all() -> None:
    for cluster in list(_RUNNING):
        cluster.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1, help="combined broker+controller nodes")
    parser.add_argument("--dir", type=Path, help="data folder (default: a temporary one)")
    parser.add_argument(
        "--run",
        nargs=argparse.REMAINDER,
        help="run this command with FRAMEGATE_TEST_BOOTSTRAP_SERVERS (and _BOOTSTRAP_SERVERS) "
        "pointing at the nodes, then stop them and exit with its code",
    )
    options = parser.parse_args(argv)
    directory = options.dir or Path(tempfile.mkdtemp(prefix="framegate-kafka-"))

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Ctrl-C and SIGTERM both stop the nodes (a background job starts with SIGINT ignored).
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(f"Apache Kafka {kafka_version()}: resolving its jars with Maven ...", flush=True)
    try:
        cp = classpath()
    except KafkaUnavailable as exc:
        if options.run and os.environ.get("FRAMEGATE_KAFKA_REQUIRED") != "1":
            print(f"skipped: {exc}", flush=True)
            return 0
        print(exc, file=sys.stderr, flush=True)
        return 1
    cluster = KafkaCluster(directory, nodes=options.nodes, cp=cp)
    try:
        cluster.start()
        servers = cluster.bootstrap_servers
        print(f"ready: FRAMEGATE_BOOTSTRAP_SERVERS={servers}; logs in {directory}", flush=True)
        if options.run:
            env = {
                **os.environ,
                "FRAMEGATE_TEST_BOOTSTRAP_SERVERS": servers,
                "FRAMEGATE_BOOTSTRAP_SERVERS": servers,
            }
            return subprocess.run(options.run, env=env).returncode
        print("Ctrl-C stops", flush=True)
        while all(node.alive for node in cluster.nodes):
            time.sleep(0.5)
        print(f"a node exited; its log is in {directory}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130 if options.run else 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
