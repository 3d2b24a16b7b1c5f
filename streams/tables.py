"""Per-camera state in Faust tables, with changelogs: a replaced worker recovers it.

Values are plain JSON documents written by each detector's ``state()``; nothing is pickled.
"""

from __future__ import annotations

import json
import weakref
from typing import Any

import faust
from faust.streams import _current_event

from streams.app import app, settings


def _table(name: str, help: str) -> faust.Table:  # noqa: A002 - Faust's own keyword
    return app.Table(
        name,
        default=None,
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
        partitions=settings.partitions,
        help=help,
    )


camera_state = _table("camera-state", "Everything the gate knows about each camera (CameraGate).")
fleet_state = _table("fleet-state", "The fleet drift monitor, under the single key 'fleet'.")


def dumps(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def put(table: faust.Table, key: str, value: Any, event: faust.types.EventT) -> None:
    """``table[key] = value``, with the changelog written to ``event``'s partition.

    Faust picks the changelog partition from the *current* event; inside a batch from
    ``take_events`` that is the batch's last event, which may be another camera's partition.
    """
    token = _current_event.set(weakref.ref(event))
    try:
        table[key] = value
    finally:
        _current_event.reset(token)
