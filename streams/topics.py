"""Every topic framegate reads or writes, declared once.

Values are raw bytes on purpose: Faust's own deserialiser never sees untrusted input (a
decode error inside ``stream.take()`` ends the agent silently); :mod:`streams.intake`
validates with pydantic instead.
"""

from __future__ import annotations

from streams.app import app, settings


def _topic(name: str, description: str):
    # Faust topics take no help text; the description documents the declaration.
    return app.topic(
        settings.topic(name),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.partitions,
        replicas=settings.replication_factor,
    )


frames = _topic("frames", "Frames published by cameras, keyed by camera_id.")
predictions = _topic("predictions", "The fleet model's predictions, keyed by camera_id.")
quality = _topic("quality", "One quality report per frame.")
relabel = _topic("relabel", "Frames a person should look at, and why.")
alerts = _topic("alerts", "Drift and camera-health alerts.")
deadletter = _topic("deadletter", "Inputs that could not be processed, and why.")

ALL = (frames, predictions, quality, relabel, alerts, deadletter)
