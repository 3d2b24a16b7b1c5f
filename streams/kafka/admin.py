"""Create framegate's topics before any agent reads them, with the configured partitions.

An auto-created topic gets the broker's default partition count, which breaks the
co-partitioning of frames, predictions and the tables' changelogs.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from framegate.schemas.errors import FramegateError
from framegate.schemas.settings import INTERNAL_TOPIC_NAMES, TOPIC_NAMES, Settings
from framegate.streams.kafka.access import refused
from framegate.streams.kafka.config import bootstrap_servers, kafka_client_options

log = logging.getLogger(__name__)


class TopicMismatch(FramegateError):
    """A topic exists with a different partition count than configured. Operator: set
    ``FRAMEGATE_PARTITIONS`` to the existing count, or recreate the topic."""


async def ensure_topics(settings: Settings, *, attempts: int = 30) -> dict[str, int]:
    """Create every missing topic; return name -> partition count. Retries until reachable."""
    names = [settings.topic(name) for name in TOPIC_NAMES + INTERNAL_TOPIC_NAMES]
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers(settings), **kafka_client_options(settings)
    )
    for attempt in range(attempts):
        try:
            await admin.start()
            break
        except KafkaConnectionError as exc:
            # Refused credentials or an untrusted certificate: no retry will help.
            reason = await refused(settings)
            if reason is not None:
                await admin.close()
                raise reason from exc
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5)
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, settings.partitions, settings.replication_factor)
            for name in names
            if name not in existing
        ]
        if missing:
            with suppress(TopicAlreadyExistsError):  # another worker won the race
                await admin.create_topics(missing)
            log.info("created topics %s", ", ".join(t.name for t in missing))
        counts: dict[str, int] = {}
        for _ in range(50):
            described = await admin.describe_topics(names)
            counts = {t["topic"]: len(t["partitions"]) for t in described}
            if all(counts.get(name, 0) > 0 for name in names):
                break
            await asyncio.sleep(0.1)
        wrong = {n: c for n, c in counts.items() if c != settings.partitions}
        if wrong:
            raise TopicMismatch(
                f"topics with a partition count other than {settings.partitions}: {wrong}"
            )
        return counts
    finally:
        await admin.close()
