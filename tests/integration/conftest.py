"""A real broker and real workers for integration tests.

The broker is Tansu on a free port, started once per session, unless
FRAMEGATE_TEST_BOOTSTRAP_SERVERS points at a Kafka to use instead. Each worker runs as a real
`framegate worker` process with its own topic prefix and consumer group, so tests never see
each other's messages.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from framegate.schemas.settings import Settings
from framegate.streams.kafka.broker import EmbeddedBroker, free_port
from framegate.streams.kafka.processes import spawn_worker, stop_process, wait_ready

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("FRAMEGATE_TEST_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker(free_port(), log=log) as broker:
        yield broker.bootstrap_servers


@dataclass
class Gate:
    """A running worker and the clients to talk to it."""

    env: dict[str, str]
    settings: Settings
    log: Path
    process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        self.process = spawn_worker(self.env, self.log)
        wait_ready(self.process, self.log, timeout)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        self.process = None

    def publish(self, topic: str, messages: list[tuple[bytes | None, bytes]]) -> None:
        asyncio.run(_publish(self.settings, topic, messages))

    def collect(self, topic: str, *, count: int, timeout: float = 60.0) -> list[dict]:
        """All messages on ``topic`` once at least ``count`` have arrived (or the timeout)."""
        return asyncio.run(_collect(self.settings, topic, count, timeout))


async def _publish(settings: Settings, topic: str, messages: list[tuple[bytes | None, bytes]]):
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, max_request_size=settings.max_message_bytes
    )
    await producer.start()
    try:
        for key, value in messages:
            await producer.send(settings.topic(topic), key=key, value=value)
        await producer.flush()
    finally:
        await producer.stop()


async def _collect(settings: Settings, topic: str, count: int, timeout: float) -> list[dict]:
    consumer = AIOKafkaConsumer(
        settings.topic(topic),
        bootstrap_servers=settings.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        max_partition_fetch_bytes=settings.max_message_bytes,
    )
    await consumer.start()
    found: list[dict] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                found += [json.loads(r.value) for r in records]
        # Let anything that was about to arrive (a second, unexpected message) show up too.
        for records in (await consumer.getmany(timeout_ms=1500)).values():
            found += [json.loads(r.value) for r in records]
    finally:
        await consumer.stop()
    return found


@pytest.fixture
def gate_factory(bootstrap: str, tmp_path: Path) -> Iterator:
    """Makes workers: ``gate_factory(**FRAMEGATE_settings)``; stops them after the test."""
    gates: list[Gate] = []

    def make(prefix: str | None = None, **overrides: str) -> Gate:
        prefix = prefix or f"t{uuid.uuid4().hex[:8]}."
        env = {
            **os.environ,
            "FRAMEGATE_BOOTSTRAP_SERVERS": bootstrap,
            "FRAMEGATE_TOPIC_PREFIX": prefix,
            "FRAMEGATE_CONSUMER_GROUP": f"framegate-{prefix.rstrip('.')}",
            "FRAMEGATE_PARTITIONS": "2",
            "FRAMEGATE_WEB_PORT": str(free_port()),
            "FRAMEGATE_DATA_DIR": str(tmp_path / f"data-{len(gates)}"),
            **(
                {}
                if os.environ.get("FRAMEGATE_TEST_BOOTSTRAP_SERVERS")
                else {"FRAMEGATE_BROKER_FLAVOR": "tansu"}
            ),
            **{f"FRAMEGATE_{k.upper()}": str(v) for k, v in overrides.items()},
        }
        settings = Settings(
            **{
                k[len("FRAMEGATE_") :].lower(): v
                for k, v in env.items()
                if k.startswith("FRAMEGATE_") and not k.startswith("FRAMEGATE_TEST")
            }
        )
        gate = Gate(env=env, settings=settings, log=tmp_path / f"worker-{len(gates)}.log")
        gates.append(gate)
        return gate

    yield make
    for gate in gates:
        gate.stop()
