"""Apache Kafka for the tests: one node per module, its jars resolved by Maven.

Every test here is marked ``kafka`` (and ``integration``). Without Java 17+ and Maven they
are skipped with the reason; ``FRAMEGATE_KAFKA_REQUIRED=1`` (set by ``make test-kafka`` and
CI) turns that skip into a failure, so CI cannot pass by skipping them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.apache_kafka.cluster import KafkaCluster
from tests.apache_kafka.jars import KafkaUnavailable, classpath, kafka_version
from tests.apache_kafka.workers import Worker, framegate_env

HERE = Path(__file__).parent
_figures = pytest.StashKey[dict]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.kafka)
            item.add_marker(pytest.mark.integration)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_figures] = {}


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    figures = config.stash.get(_figures, {})
    if figures:
        terminalreporter.section(f"Apache Kafka {kafka_version()}: measured")
        for name, value in figures.items():
            terminalreporter.write_line(f"{name}: {json.dumps(value)}")


@pytest.fixture
def report(request: pytest.FixtureRequest):
    """``report(name, value)``: a figure printed in the test summary (and kept in the
    ``figures`` user property of the test)."""

    def record(name: str, value: object) -> None:
        request.config.stash[_figures][name] = value
        request.node.user_properties.append((name, value))

    return record


@pytest.fixture(scope="session")
def kafka_classpath() -> str:
    try:
        return classpath()
    except KafkaUnavailable as exc:
        if os.environ.get("FRAMEGATE_KAFKA_REQUIRED") == "1":
            pytest.fail(f"FRAMEGATE_KAFKA_REQUIRED=1 but {exc}", pytrace=False)
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def kafka(kafka_classpath: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """One Apache Kafka node (combined broker and controller), PLAINTEXT on 127.0.0.1."""
    with KafkaCluster(tmp_path_factory.mktemp("kafka"), nodes=1, cp=kafka_classpath) as cluster:
        yield cluster


@pytest.fixture
def worker_factory(tmp_path: Path) -> Iterator:
    """``worker_factory(bootstrap_servers, prefix=None, **FRAMEGATE_settings)`` -> a
    :class:`Worker`, not started; every worker is stopped after the test."""
    made: list[Worker] = []

    def make(bootstrap_servers: str, prefix: str | None = None, **overrides: object) -> Worker:
        env = framegate_env(bootstrap_servers, prefix, **overrides)
        worker = Worker(env=env, log=tmp_path / f"worker-{len(made)}.log")
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.stop()
