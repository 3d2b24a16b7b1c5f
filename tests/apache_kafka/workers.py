"""Real `framegate worker` processes on Apache Kafka, and the clients the tests talk with.

Every client here is framegate's own (:func:`~framegate.streams.kafka.clients.producer`, with
``acks=all``, and :func:`~framegate.streams.kafka.clients.reader`), built from the same
:class:`~framegate.schemas.settings.Settings` as the worker, so the security settings under
test are the ones every tool uses.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from framegate.schemas.settings import Settings
from framegate.streams.kafka.broker import free_port
from framegate.streams.kafka.clients import producer, reader
from framegate.streams.kafka.processes import spawn_worker, stop_process, wait_ready


def framegate_env(bootstrap_servers: str, prefix: str | None = None, **overrides: Any) -> dict:
    """A worker's environment on Apache Kafka: its own topics and consumer group, a free web
    port, and ``overrides`` as ``FRAMEGATE_<NAME>`` (``None`` removes a variable)."""
    prefix = prefix or f"k{uuid.uuid4().hex[:8]}."
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRAMEGATE_")}
    env.update(
        {
            "FRAMEGATE_BOOTSTRAP_SERVERS": bootstrap_servers,
            "FRAMEGATE_BROKER_FLAVOR": "kafka",
            "FRAMEGATE_TOPIC_PREFIX": prefix,
            "FRAMEGATE_CONSUMER_GROUP": f"framegate-{prefix.rstrip('.')}",
            "FRAMEGATE_PARTITIONS": "2",
            "FRAMEGATE_EMBEDDER": "none",
            "FRAMEGATE_WEB_PORT": str(free_port()),
        }
    )
    for name, value in overrides.items():
        key = f"FRAMEGATE_{name.upper()}"
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


def settings_of(env: dict[str, str]) -> Settings:
    return Settings(
        **{
            k[len("FRAMEGATE_") :].lower(): v
            for k, v in env.items()
            if k.startswith("FRAMEGATE_") and not k.startswith("FRAMEGATE_TEST")
        }
    )


@dataclass
class Worker:
    """One `framegate worker` process."""

    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    ready_s: float | None = None
    settings: Settings = field(init=False)

    def __post_init__(self) -> None:
        self.settings = settings_of(self.env)

    def start(self, timeout: float = 120.0) -> Worker:
        self.env["FRAMEGATE_DATA_DIR"] = str(self.log.with_suffix(".data"))
        self.process = spawn_worker(self.env, self.log)
        self.ready_s = wait_ready(self.process, self.log, timeout)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        self.process = None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last commit, no state saved."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process = None

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """The worker's ``/metrics``: (sample name, sorted labels) -> value."""
        url = f"http://127.0.0.1:{self.settings.web_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def peak_rss_mib(self) -> float:
        """Peak resident memory of the running worker (VmHWM), MiB."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024


def publish(settings: Settings, topic: str, messages: Iterable[tuple[bytes | None, bytes]]) -> None:
    asyncio.run(publish_async(settings, topic, messages))


async def publish_async(
    settings: Settings, topic: str, messages: Iterable[tuple[bytes | None, bytes]]
) -> None:
    client = producer(settings)
    await client.start()
    try:
        for key, value in messages:
            await client.send(settings.topic(topic), key=key, value=value)
        await client.flush()
    finally:
        await client.stop()


def collect(
    settings: Settings,
    topic: str,
    *,
    count: int,
    timeout: float = 60.0,
    settle_s: float = 1.5,
    distinct: str = "frame_id",
) -> list[dict]:
    """Every message on ``topic`` once ``count`` different ``distinct`` values are there (or
    at the timeout), and whatever arrives ``settle_s`` after that (a second, unexpected
    copy). Redelivered copies are kept: the tests count them."""
    return asyncio.run(_collect(settings, topic, count, timeout, settle_s, distinct))


async def _collect(
    settings: Settings, topic: str, count: int, timeout: float, settle_s: float, distinct: str
) -> list[dict]:
    consumer = reader(settings, settings.topic(topic))
    await consumer.start()
    found: list[dict] = []
    deadline = time.monotonic() + timeout
    try:
        while len({r.get(distinct) for r in found}) < count and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found += [json.loads(r.value) for r in records]
        for records in (await consumer.getmany(timeout_ms=int(settle_s * 1000))).values():
            found += [json.loads(r.value) for r in records]
    finally:
        await consumer.stop()
    return found
