"""Camera liveness: ``camera_offline`` and ``camera_lagging`` episodes, from times alone.

Health that does not depend on content. A camera is *offline* once it has been silent for
``offline_intervals`` times its usual interval between frames (estimated from
``captured_at``), and at least ``offline_min_s``; the first frame after that resolves it. A
camera is *lagging* when ``lag_frames`` frames in a row reached the broker more than
``lag_s`` later than the camera's usual delay (its clock offset: the smallest delay seen,
allowed to rise slowly); as many frames in a row within half of that resolve it.

Pure: every time is passed in (seconds since the epoch); no clock, no I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from framegate.detectors.alerts import _NAMESPACE
from framegate.schemas import Alert
from framegate.schemas.checks import Severity

OFFLINE = "camera_offline"
LAGGING = "camera_lagging"
LIVENESS_DETECTOR = "liveness"


@dataclass(frozen=True)
class LivenessEvent:
    """One transition of ``metric`` (:data:`OFFLINE` or :data:`LAGGING`).

    ``fired_frame_id`` names the episode (for an offline camera: its last frame before the
    silence), so a firing and its resolution share one alert id, and a worker that decides
    again after a restart decides the same id.
    """

    metric: Literal["camera_offline", "camera_lagging"]
    status: Literal["firing", "resolved"]
    at: float
    frame_id: str
    fired_frame_id: str
    severity: Severity
    value: float  # seconds silent (offline) or late beyond the usual delay (lagging)
    limit: float

    @property
    def alert_key(self) -> str:
        return f"{self.metric}|{LIVENESS_DETECTOR}|{self.fired_frame_id}"

    def to_alert(self, camera_id: str) -> Alert:
        firing = self.status == "firing"
        what = "silent" if self.metric == OFFLINE else "late"
        detail = (
            f"camera {camera_id}: {self.metric.replace('_', ' ')} "
            f"({what} {self.value:.1f} s, limit {self.limit:.1f} s)"
            if firing
            else f"camera {camera_id}: {self.metric.replace('_', ' ')} cleared"
        )
        return Alert(
            alert_id=str(uuid.uuid5(_NAMESPACE, f"{camera_id}|{self.alert_key}")),
            kind="camera_health",
            status=self.status,
            camera_id=camera_id,
            metric=self.metric,
            detector=LIVENESS_DETECTOR,
            at=datetime.fromtimestamp(self.at, tz=UTC),
            frame_id=self.frame_id,
            change_point=self.fired_frame_id if firing else None,
            after={"seconds": round(self.value, 3), "limit_s": round(self.limit, 3)}
            if firing
            else {},
            example_frame_ids=[self.fired_frame_id] if firing else [],
            severity=self.severity,
            detail=detail,
        )


class Liveness:
    """One camera's liveness.

    Parameters
    ----------
    offline_intervals
        Silence, in usual intervals between frames, that makes the camera offline.
    offline_min_s
        Shortest silence that makes it offline (a short gap pages no one).
    lag_s
        Delay beyond the camera's usual delay that makes a frame late.
    lag_frames
        Late frames in a row that make the camera lagging (and on-time frames that end it).
    offset_follow
        How fast, in seconds per second of ``captured_at``, the usual delay may rise.

    Examples
    --------
    >>> live = Liveness(offline_min_s=10.0)
    >>> [live.frame(f"f{i}", captured_at=float(i), arrived_at=i + 0.1) for i in range(3)]
    [[], [], []]
    >>> live.tick(now=5.0), [e.status for e in live.tick(now=12.5)]
    ([], ['firing'])
    >>> [(e.metric, e.status) for e in live.frame("f3", captured_at=13.0, arrived_at=13.1)]
    [('camera_offline', 'resolved')]
    """

    def __init__(
        self,
        *,
        offline_intervals: float = 5.0,
        offline_min_s: float = 60.0,
        lag_s: float = 60.0,
        lag_frames: int = 5,
        offset_follow: float = 0.001,
    ) -> None:
        if offline_intervals <= 1:
            raise ValueError(f"offline_intervals must exceed 1, got {offline_intervals}")
        if offline_min_s <= 0 or lag_s <= 0:
            raise ValueError("offline_min_s and lag_s must be positive")
        if lag_frames < 1:
            raise ValueError(f"lag_frames must be at least 1, got {lag_frames}")
        self.offline_intervals = offline_intervals
        self.offline_min_s = offline_min_s
        self.lag_s = lag_s
        self.lag_frames = lag_frames
        self.offset_follow = offset_follow
        self._reset()

    def _reset(self) -> None:
        self._last_frame_id: str | None = None
        self._last_captured: float | None = None
        self._last_arrival: float | None = None
        self._interval: float | None = None  # moving average of captured_at gaps
        self._offset: float | None = None  # the camera's usual delay
        self._offline: str | None = None  # the frame that opened the episode
        self._lagging: str | None = None
        self._run = 0  # late frames in a row (not lagging) or on-time ones (lagging)
        self._lag = 0.0
        self._watch_from: float | None = None

    # -- reading --------------------------------------------------------------------------
    @property
    def interval_s(self) -> float | None:
        """The camera's usual interval between frames (None before two frames)."""
        return self._interval

    @property
    def offline_after_s(self) -> float:
        """Silence that makes this camera offline."""
        usual = self._interval or 0.0
        return max(self.offline_min_s, self.offline_intervals * usual)

    @property
    def offline(self) -> bool:
        return self._offline is not None

    @property
    def lagging(self) -> bool:
        return self._lagging is not None

    @property
    def last_arrival(self) -> float | None:
        return self._last_arrival

    @property
    def lag_s_now(self) -> float:
        """The last frame's delay beyond the camera's usual delay."""
        return self._lag

    # -- updating -------------------------------------------------------------------------
    def frame(self, frame_id: str, *, captured_at: float, arrived_at: float) -> list[LivenessEvent]:
        """A frame captured at ``captured_at`` reached the broker at ``arrived_at``."""
        events: list[LivenessEvent] = []
        if self._offline is not None:
            silent = arrived_at - (self._last_arrival or arrived_at)
            events.append(self._event(OFFLINE, "resolved", arrived_at, frame_id, silent))
            self._offline = None
        if self._last_captured is not None:
            gap = captured_at - self._last_captured
            if gap > 0:
                self._interval = gap if self._interval is None else 0.9 * self._interval + 0.1 * gap
        delay = arrived_at - captured_at
        if self._offset is None:
            self._offset = delay
        else:
            rise = self.offset_follow * max(0.0, captured_at - (self._last_captured or captured_at))
            self._offset = min(delay, self._offset + rise)
        self._lag = delay - self._offset
        events += self._update_lag(frame_id, arrived_at)
        self._last_frame_id = frame_id
        if self._last_captured is None or captured_at > self._last_captured:
            self._last_captured = captured_at
        self._last_arrival = max(arrived_at, self._last_arrival or arrived_at)
        return events

    def _update_lag(self, frame_id: str, at: float) -> list[LivenessEvent]:
        if self._lagging is None:
            self._run = self._run + 1 if self._lag > self.lag_s else 0
            if self._run >= self.lag_frames:
                self._lagging, self._run = frame_id, 0
                return [self._event(LAGGING, "firing", at, frame_id, self._lag)]
            return []
        self._run = self._run + 1 if self._lag < self.lag_s / 2 else 0
        if self._run >= self.lag_frames:
            self._run = 0
            return [self._event(LAGGING, "resolved", at, frame_id, self._lag)]
        return []

    def watch_from(self, now: float) -> None:
        """Silence is counted from ``now`` at the earliest (a worker that just took the
        camera over has not yet read what the camera sent meanwhile)."""
        self._watch_from = now

    def tick(self, *, now: float) -> list[LivenessEvent]:
        """The wall clock reads ``now``: an offline transition, if the silence is long enough."""
        if self._offline is not None or self._last_arrival is None:
            return []
        since = max(self._last_arrival, self._watch_from or self._last_arrival)
        if now - since < self.offline_after_s:
            return []
        assert self._last_frame_id is not None
        self._offline = self._last_frame_id
        return [self._event(OFFLINE, "firing", now, self._last_frame_id, now - self._last_arrival)]

    def _event(
        self, metric: Any, status: Any, at: float, frame_id: str, value: float
    ) -> LivenessEvent:
        if status == "resolved":
            fired = (self._offline if metric == OFFLINE else self._lagging) or frame_id
            if metric == LAGGING:
                self._lagging = None
            limit = self.offline_after_s if metric == OFFLINE else self.lag_s
            return LivenessEvent(metric, status, at, frame_id, fired, "info", value, limit)
        limit = self.offline_after_s if metric == OFFLINE else self.lag_s
        severity: Severity = "critical" if metric == OFFLINE else "warning"
        return LivenessEvent(metric, status, at, frame_id, frame_id, severity, value, limit)

    # -- state ----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """JSON-serialisable state; restore with :meth:`from_state`."""
        return {
            "last_frame_id": self._last_frame_id,
            "last_captured": self._last_captured,
            "last_arrival": self._last_arrival,
            "interval": self._interval,
            "offset": self._offset,
            "offline": self._offline,
            "lagging": self._lagging,
            "run": self._run,
            "lag": self._lag,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], **params: Any) -> Liveness:
        live = cls(**params)
        live._last_frame_id = state["last_frame_id"]
        live._last_captured = state["last_captured"]
        live._last_arrival = state["last_arrival"]
        live._interval = state["interval"]
        live._offset = state["offset"]
        live._offline = state["offline"]
        live._lagging = state["lagging"]
        live._run = int(state["run"])
        live._lag = float(state["lag"])
        return live
