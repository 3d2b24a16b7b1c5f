"""Every topic a worker reads or writes, declared once on its app.

Values are raw bytes on purpose: Faust's own deserialiser never sees untrusted input (a
decode error inside ``stream.take()`` ends the agent silently);
:mod:`framegate.streams.worker.intake` validates with pydantic instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from framegate.schemas.settings import Settings

#: topic -> what one message is (Faust topics take no help text; this documents them).
DESCRIPTIONS = {
    "frames": "Frames published by cameras, keyed by camera_id.",
    "predictions": "The fleet model's predictions, keyed by camera_id.",
    "quality": "One quality report per frame.",
    "relabel": "Frames a person should look at, and why.",
    "alerts": "Drift and camera-health alerts.",
    "deadletter": "Inputs that could not be processed, and why.",
    "fleet": "Internal: each camera's drift summaries for the fleet monitor.",
    "control": "Operators' actions (acknowledge, mute, re-baseline), keyed by camera_id.",
    "audit": "What the worker owning the camera did with each action.",
}


@dataclass(frozen=True)
class Topics:
    """The app's topics. ``inputs`` reads frames, predictions and operators' actions as one
    stream, so a camera's inputs meet in one agent, in order (all are keyed by camera_id and
    co-partitioned)."""

    frames: Any
    predictions: Any
    quality: Any
    relabel: Any
    alerts: Any
    deadletter: Any
    fleet: Any
    control: Any
    audit: Any
    inputs: Any
    predictions_name: str

    @classmethod
    def declare(cls, app: faust.App, settings: Settings) -> Topics:
        def topic(*names: str) -> Any:
            return app.topic(
                *(settings.topic(name) for name in names),
                key_type=bytes,
                value_type=bytes,
                key_serializer="raw",
                value_serializer="raw",
                partitions=settings.partitions,
                replicas=settings.replication_factor,
            )

        return cls(
            **{name: topic(name) for name in DESCRIPTIONS},
            inputs=topic("frames", "predictions", "control"),
            predictions_name=settings.topic("predictions"),
        )
