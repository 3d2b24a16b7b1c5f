"""Per-camera state in Faust tables, with changelogs: a replaced worker recovers it.

Values are plain JSON documents written by each detector's ``state()``; nothing is pickled.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import faust
from faust.streams import _current_event

from framegate.schemas.settings import Settings


@dataclass(frozen=True)
class Tables:
    """The app's tables: keyed JSON documents with changelog topics."""

    camera_state: faust.Table
    fleet_state: faust.Table
    camera_liveness: faust.Table
    camera_controls: faust.Table

    @classmethod
    def declare(cls, app: faust.App, settings: Settings) -> Tables:
        def table(name: str, help: str) -> faust.Table:  # noqa: A002 - Faust's own keyword
            return app.Table(
                name,
                default=None,
                schema=faust.Schema(key_serializer="json", value_serializer="json"),
                partitions=settings.partitions,
                help=help,
            )

        return cls(
            camera_state=table(
                "camera-state", "Everything the gate knows about each camera (CameraGate)."
            ),
            fleet_state=table(
                "fleet-state", "The fleet drift monitor, under the single key 'fleet'."
            ),
            camera_liveness=table(
                "camera-liveness", "Each camera's liveness (offline, lagging) and its partition."
            ),
            camera_controls=table(
                "camera-controls", "Each camera's acknowledged alerts, mutes and applied actions."
            ),
        )

    def operators(self) -> tuple[faust.Table, faust.Table]:
        """The liveness and controls tables, in :class:`GateAgent`'s order."""
        return self.camera_liveness, self.camera_controls


def put(table: MutableMapping[str, Any], key: str, value: Any, event: faust.types.EventT) -> None:
    """``table[key] = value``, with the changelog written to ``event``'s partition.

    Faust picks the changelog partition from the *current* event; inside a batch from
    ``take_events`` that is the batch's last event, which may be another camera's partition.
    """
    token = _current_event.set(weakref.ref(event))
    try:
        table[key] = value
    finally:
        _current_event.reset(token)


class Checkpoints:
    """Live objects' ``state()`` written to ``table`` at most every ``interval_s`` per key.

    A camera's or the fleet's state is tens of kilobytes; writing it on every message would
    multiply the changelog traffic by the message rate. Agents force a write when partitions
    move or the worker stops, so a graceful hand-over loses nothing; after a crash the
    messages since the last write are replayed from the committed offsets.
    """

    def __init__(self, table: MutableMapping[str, Any], interval_s: float) -> None:
        self.table = table
        self.interval_s = interval_s
        self._last_event: dict[str, faust.types.EventT] = {}
        self._saved_at: dict[str, float] = {}
        self._changed: set[str] = set()

    def seen(self, key: str, event: faust.types.EventT) -> None:
        """``event`` is the latest that changed ``key`` (its partition gets the changelog)."""
        self._last_event[key] = event
        self._changed.add(key)

    def changed(self, key: str) -> None:
        """``key`` changed without a new event (a timer's work): it is due for a write."""
        if key in self._last_event:
            self._changed.add(key)

    def save(self, live: Mapping[str, Any], keys: Iterable[str], *, force: bool = False) -> None:
        """Write the keys that changed since their last write and are due (all, ``force``)."""
        now = time.monotonic()
        for key in keys:
            event, obj = self._last_event.get(key), live.get(key)
            if event is None or obj is None or not (force or key in self._changed):
                continue
            saved_at = self._saved_at.get(key)
            if force or saved_at is None or now - saved_at >= self.interval_s:
                put(self.table, key, obj.state(), event)
                self._saved_at[key] = now
                self._changed.discard(key)

    def clear(self) -> None:
        self._last_event.clear()
        self._saved_at.clear()
        self._changed.clear()
