"""Sending to the alert and dead-letter topics, each message counted in the metrics."""

from __future__ import annotations

from typing import Any

from detectors.alerts import to_alert
from detectors.drift import DriftEvent
from streams import metrics, topics
from streams.app import settings
from streams.deadletter import dead_letter


async def send_alert(key: bytes, camera_id: str | None, event: DriftEvent) -> None:
    """The alert for one drift or camera-health transition (``camera_id`` None: the fleet)."""
    alert = to_alert(camera_id, event)
    await topics.alerts.send(key=key, value=alert.model_dump_json().encode())
    metrics.observe_alert(alert)


async def send_dead_letter(event: Any, stage: str, error: Exception) -> None:
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
        settings=settings,
    )
    await topics.deadletter.send(key=message.key, value=record.model_dump_json().encode())
    metrics.observe_dead_letter(record)
