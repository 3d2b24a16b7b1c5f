"""Every topic framegate reads or writes, declared once.

Values are raw bytes on purpose: Faust's own deserialiser never sees untrusted input (a
decode error inside ``stream.take()`` ends the agent silently); :mod:`streams.intake`
validates with pydantic instead.
"""

from __future__ import annotations

from streams.app import app, settings


def _topic(*names: str, description: str):
    # Faust topics take no help text; the description documents the declaration.
    return app.topic(
        *(settings.topic(name) for name in names),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.partitions,
        replicas=settings.replication_factor,
    )


frames = _topic("frames", description="Frames published by cameras, keyed by camera_id.")
predictions = _topic(
    "predictions", description="The fleet model's predictions, keyed by camera_id."
)
quality = _topic("quality", description="One quality report per frame.")
relabel = _topic("relabel", description="Frames a person should look at, and why.")
alerts = _topic("alerts", description="Drift and camera-health alerts.")
deadletter = _topic("deadletter", description="Inputs that could not be processed, and why.")

fleet = _topic(
    "fleet", description="Internal: each camera's drift summaries for the fleet monitor."
)

# The gate reads frames and predictions as one stream, so a camera's two inputs meet in
# one agent, in order (both topics are keyed by camera_id and co-partitioned).
inputs = _topic("frames", "predictions", description="Frames and predictions, together.")
predictions_name = settings.topic("predictions")
