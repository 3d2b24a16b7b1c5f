"""Sending what a worker finds to the output topics, each message counted in the metrics."""

from __future__ import annotations

from typing import Any

from framegate.detectors.alerts import to_alert
from framegate.detectors.drift import DriftEvent
from framegate.detectors.health import HealthEvent
from framegate.schemas.settings import Settings
from framegate.streams.worker.deadletter import dead_letter
from framegate.streams.worker.metrics import Metrics
from framegate.streams.worker.topics import Topics


class Outputs:
    """The send side of the agents: alerts and dead letters, counted."""

    def __init__(self, topics: Topics, metrics: Metrics, settings: Settings) -> None:
        self.topics = topics
        self.metrics = metrics
        self.settings = settings

    async def send_alert(
        self, key: bytes, camera_id: str | None, event: DriftEvent | HealthEvent
    ) -> None:
        """The alert for one drift or camera-health transition (``camera_id`` None: the
        fleet)."""
        alert = to_alert(camera_id, event)
        await self.topics.alerts.send(key=key, value=alert.model_dump_json().encode())
        self.metrics.observe_alert(alert)

    async def send_dead_letter(self, event: Any, stage: str, error: Exception) -> None:
        """The dead-letter record of an input ``event`` that failed at ``stage``."""
        message = event.message
        record = dead_letter(
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key,
            payload=message.value,
            stage=stage,
            error=error,
            settings=self.settings,
        )
        await self.topics.deadletter.send(key=message.key, value=record.model_dump_json().encode())
        self.metrics.observe_dead_letter(record)
