"""framegate's own Kafka clients (not Faust's): a group-less reader and a producer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError

from framegate.schemas.settings import Settings
from framegate.streams.kafka.access import refused
from framegate.streams.kafka.config import bootstrap_servers, kafka_client_options


async def _start(client: Any, start: Callable[[], Awaitable[None]], settings: Settings) -> None:
    """``start()``; when it cannot bootstrap, say why Kafka refused (if it did)."""
    try:
        await start()
    except KafkaConnectionError as exc:
        reason = await refused(settings)
        if reason is None:
            raise
        with suppress(Exception):  # half-started: release what it opened
            await client.stop()
        raise reason from exc


class Reader(AIOKafkaConsumer):
    """aiokafka's consumer, whose :meth:`topics` also refreshes what ``partitions_for_topic``
    answers (aiokafka's own fetches into a copy; its bootstrap filled the client's view with
    every topic only on brokers that answer Metadata v0, Tansu, not on Apache Kafka 4), and
    whose :meth:`start` says why Kafka refused it (see :mod:`.access`)."""

    def __init__(self, *topics: str, settings: Settings, **options: Any) -> None:
        super().__init__(*topics, **options)
        self._settings = settings

    async def start(self) -> None:
        await _start(self, super().start, self._settings)

    async def topics(self) -> set[str]:
        client = self._client
        if not await client._metadata_update(client.cluster, None):
            raise KafkaError("Unable to get cluster metadata over all known brokers")
        return client.cluster.topics()


def reader(settings: Settings, *topics: str, **overrides: Any) -> AIOKafkaConsumer:
    """A consumer without a group that commits nothing, from the earliest offset: how
    framegate's own tools read its topics (dashboard feed, tail, calibrate, demo)."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers(settings),
        "group_id": None,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "fetch_max_bytes": settings.max_message_bytes,
        "max_partition_fetch_bytes": settings.max_message_bytes,
        **kafka_client_options(settings),
    }
    return Reader(*topics, settings=settings, **{**options, **overrides})


class Producer(AIOKafkaProducer):
    """aiokafka's producer, whose :meth:`start` says why Kafka refused it."""

    def __init__(self, *, settings: Settings, **options: Any) -> None:
        super().__init__(**options)
        self._settings = settings

    async def start(self) -> None:
        await _start(self, super().start, self._settings)


def producer(settings: Settings, **overrides: Any) -> AIOKafkaProducer:
    """A producer that waits for every in-sync replica (``acks=all``)."""
    return Producer(
        settings=settings,
        bootstrap_servers=bootstrap_servers(settings),
        max_request_size=settings.max_message_bytes,
        acks="all",
        linger_ms=5,
        **kafka_client_options(settings),
        **overrides,
    )
