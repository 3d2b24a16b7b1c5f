"""Camera liveness on the worker that owns the camera: ``camera_offline``, ``camera_lagging``.

The gate agent hands every frame it reads to :meth:`LivenessWatch.observe` (arrival = the
message's broker timestamp); a one-second timer asks every owned camera whether it has
gone silent. Each camera's :class:`~framegate.detectors.liveness.Liveness` is a small JSON
document in the ``camera-liveness`` table (changelog), which also records the input
partition, so a worker that takes the partition over after a restart finds the silent
cameras it now owns, and counts their silence from the moment it took over at the earliest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, MutableMapping
from typing import Any

from framegate.detectors.liveness import Liveness, LivenessEvent
from framegate.schemas import Frame
from framegate.schemas.settings import Settings
from framegate.streams.worker.metrics import Metrics
from framegate.streams.worker.outputs import Outbox
from framegate.streams.worker.tables import put
from framegate.streams.worker.topics import Topics

log = logging.getLogger(__name__)


class _PartitionEvent:
    """Stands in for an event of ``partition``, so a timer can write the table there."""

    class _Message:
        def __init__(self, topic: str, partition: int) -> None:
            self.topic, self.partition = topic, partition

    def __init__(self, topic: str, partition: int) -> None:
        self.message = self._Message(topic, partition)


class LivenessWatch:
    """Every owned camera's liveness, with its table and its alerts.

    Parameters
    ----------
    owned_partitions
        The input partitions this worker owns now (Faust's assignment; tests pass a set).
    clock
        Wall-clock seconds; injectable for tests.
    """

    def __init__(
        self,
        settings: Settings,
        topics: Topics,
        metrics: Metrics,
        table: MutableMapping[str, Any],
        *,
        owned_partitions: Callable[[], set[int]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.topics = topics
        self.metrics = metrics
        self.table = table
        self.owned_partitions = owned_partitions
        self.clock = clock
        self.params = {
            "offline_intervals": settings.liveness_offline_intervals,
            "offline_min_s": settings.liveness_offline_min_s,
            "lag_s": settings.liveness_lag_s,
            "lag_frames": settings.liveness_lag_frames,
        }
        self.frames_topic = settings.topic("frames")
        self._live: dict[str, Liveness] = {}
        self._partition: dict[str, int] = {}
        self._saved_at: dict[str, float] = {}
        self._assigned_at = clock()

    def camera(self, camera_id: str) -> Liveness:
        live = self._live.get(camera_id)
        if live is None:
            document = self.table.get(camera_id)
            live = None
            if document is not None:
                try:
                    live = Liveness.from_state(document["liveness"], **self.params)
                    self._partition[camera_id] = int(document["partition"])
                except (KeyError, TypeError, ValueError):
                    log.exception("camera %s: liveness not restored; starting afresh", camera_id)
            if live is None:
                live = Liveness(**self.params)
            live.watch_from(self._assigned_at)
            self._live[camera_id] = live
        return live

    def observe(self, outbox: Outbox, frame: Frame, event: Any) -> None:
        """A frame of the camera was read (its message's timestamp is its arrival)."""
        camera_id = frame.camera_id
        live = self.camera(camera_id)
        stamp = getattr(event.message, "timestamp", None)
        arrived = stamp / 1000.0 if isinstance(stamp, int | float) and stamp > 0 else self.clock()
        events = live.frame(
            frame.frame_id, captured_at=frame.captured_at.timestamp(), arrived_at=arrived
        )
        self._partition[camera_id] = int(event.message.partition)
        self._emit(outbox, camera_id, events)
        self._save(camera_id, force=bool(events))

    def tick(self) -> Outbox:
        """Alerts for the owned cameras that went silent."""
        outbox = Outbox()
        now = self.clock()
        for camera_id in self._owned_cameras():
            try:
                events = self.camera(camera_id).tick(now=now)
            except Exception:  # one camera's state must not stop the others'
                log.exception("camera %s: liveness not checked", camera_id)
                continue
            if events:
                self._emit(outbox, camera_id, events)
                self._save(camera_id, force=True)
        return outbox

    def _owned_cameras(self) -> list[str]:
        owned = self.owned_partitions() if self.owned_partitions is not None else None
        cameras = set(self._live)
        for camera_id, document in list(self.table.items()):
            if isinstance(document, dict) and "partition" in document:
                self._partition.setdefault(camera_id, int(document["partition"]))
                cameras.add(camera_id)
        if owned is None:
            return sorted(cameras)
        return sorted(c for c in cameras if self._partition.get(c) in owned)

    def _emit(self, outbox: Outbox, camera_id: str, events: list[LivenessEvent]) -> None:
        key = camera_id.encode()
        for event in events:
            alert = event.to_alert(camera_id)
            outbox.add(
                self.topics.alerts,
                key,
                alert.model_dump_json().encode(),
                lambda alert=alert: self.metrics.observe_alert(alert),
            )

    def _save(self, camera_id: str, *, force: bool = False) -> None:
        now = time.monotonic()
        saved = self._saved_at.get(camera_id)
        if not force and saved is not None and now - saved < self.settings.state_flush_s:
            return
        partition = self._partition.get(camera_id)
        if partition is None:
            return
        document = {"partition": partition, "liveness": self._live[camera_id].state()}
        try:
            put(self.table, camera_id, document, _PartitionEvent(self.frames_topic, partition))
        except Exception:  # the next save tries again
            log.exception("camera %s: liveness not saved", camera_id)
            return
        self._saved_at[camera_id] = now

    def save_all(self, *, force: bool = True) -> None:
        for camera_id in list(self._live):
            self._save(camera_id, force=force)

    def hand_over(self) -> None:
        """Partitions move: save everything; the table is the truth for the next owner."""
        self.save_all()
        self._live.clear()
        self._saved_at.clear()
        self._assigned_at = self.clock()

    def status(self) -> dict[str, dict[str, Any]]:
        """Per owned camera: usual interval, last arrival, lag, open episodes."""
        return {
            camera_id: {
                "interval_s": live.interval_s,
                "last_arrival": live.last_arrival,
                "lag_s": live.lag_s_now,
                "offline": live.offline,
                "lagging": live.lagging,
            }
            for camera_id, live in self._live.items()
        }
