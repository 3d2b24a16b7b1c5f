"""All drift statistics of one camera."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from framegate.detectors.drift.config import DriftConfig
from framegate.detectors.drift.events import DriftEvent
from framegate.detectors.drift.metric import MetricMonitor
from framegate.detectors.drift.rate import FrameRate
from framegate.detectors.drift.reference import CameraReference

CLASS_PREFIX = "class_freq:"
CLASS_FRAME_KEY = "class_freq:*"
#: 4: self-starting references (a growing pool per statistic), the camera's frame rate,
#: the day's rhythm per statistic
STATE_VERSION = 4


def class_frequency_stats(labels: Iterable[str]) -> dict[str, float]:
    """Class-frequency statistics of one frame that has predictions.

    The input convention: a frame *with* predictions carries ``"class_freq:*": 1.0`` and
    ``"class_freq:<label>": 1.0`` for each label present (any detection above the model's
    score threshold, or the top-1 class). Known labels that are missing count as 0 on that
    frame; frames without predictions carry no ``class_freq`` keys and count for nothing.

    >>> class_frequency_stats(["person", "car", "person"])
    {'class_freq:*': 1.0, 'class_freq:car': 1.0, 'class_freq:person': 1.0}
    """
    out = {CLASS_FRAME_KEY: 1.0}
    for label in sorted(set(labels)):
        out[CLASS_PREFIX + label] = 1.0
    return out


class CameraDriftMonitor:
    """Online drift detection on every statistic of one camera.

    Parameters
    ----------
    config
        Thresholds and budgets.
    reference
        References from :func:`framegate.detectors.drift.calibrate`; statistics without one
        are self-starting: watched from their ``config.warmup_frames``-th value against a
        reference that keeps growing (:mod:`framegate.detectors.drift.pool`).

    The false-alarm budget per day becomes thresholds at ``config.frame_rate`` when it is
    set, else at the camera's own rate, estimated from the ``at`` (``captured_at``) times
    it is fed (:attr:`frame_rate`).

    Examples
    --------
    >>> import numpy as np
    >>> from framegate.detectors.drift import CameraDriftMonitor, DriftConfig
    >>> rng = np.random.default_rng(1)
    >>> mon = CameraDriftMonitor(DriftConfig())
    >>> values = np.r_[rng.normal(100, 2, 1000), rng.normal(96, 2, 1000)]
    >>> events = [e for i, v in enumerate(values)
    ...           for e in mon.update({"brightness": v}, frame_id=f"f{i}", at=i / 2)]
    >>> [(e.status, e.metric, e.direction, e.frame_id, e.severity) for e in events]
    [('firing', 'brightness', 'down', 'f1007', 'critical')]
    >>> mon.frame_rate
    2.0
    """

    def __init__(self, config: DriftConfig, reference: CameraReference | None = None) -> None:
        self.config = config
        self.reference = reference or CameraReference()
        self._metrics: dict[str, MetricMonitor] = {}
        self._class_frames = 0
        self._rate = FrameRate()

    @property
    def metrics(self) -> Mapping[str, MetricMonitor]:
        return self._metrics

    @property
    def frame_rate(self) -> float | None:
        """Frames per second the thresholds are set for: ``config.frame_rate`` when set,
        else the camera's own rate once a few frames have told it (None before)."""
        return self.config.frame_rate or self._rate.value

    def _monitor(self, name: str) -> MetricMonitor:
        m = MetricMonitor(name, self.config, self.reference.metrics.get(name))
        if name.startswith(CLASS_PREFIX):
            # a class seen for the first time was absent from the earlier prediction frames
            m.backfill(0.0, min(self._class_frames, self.config.warmup_frames // 2))
        self._metrics[name] = m
        return m

    def update(self, stats: Mapping[str, float], *, frame_id: str, at: float) -> list[DriftEvent]:
        """Add one frame's statistics (any subset); return the events it caused."""
        events: list[DriftEvent] = []
        metrics = self._metrics
        self._rate.update(at)
        rate = self.frame_rate
        has_classes = CLASS_FRAME_KEY in stats
        for name, value in stats.items():
            if name == CLASS_FRAME_KEY or value != value:  # NaN: not measured on this frame
                continue
            m = metrics.get(name)
            if m is None:
                m = self._monitor(name)
            ev = m.update(float(value), frame_id, at, rate)
            if ev is not None:
                events.append(ev)
        if has_classes:
            self._class_frames += 1
            for name, m in metrics.items():
                if name.startswith(CLASS_PREFIX) and name not in stats:
                    ev = m.update(0.0, frame_id, at, rate)
                    if ev is not None:
                        events.append(ev)
        return events

    def rebaseline(self, metric: str | None = None, *, at: float) -> list[DriftEvent]:
        """Declare the camera's present state its new normal, for ``metric`` or all.

        Each statistic concerned forgets its reference (a calibrated one too), its charts
        and the day's rhythm it had learnt, and is self-starting again from the next frame:
        watched from its ``config.warmup_frames``-th value. An alert still open on it is
        closed: its ``resolved`` event, at ``at`` (the time of the request), is returned.
        The camera's frame rate is kept. A statistic never seen is not an error (nothing to
        forget); it starts afresh when it first comes.

        >>> mon = CameraDriftMonitor(DriftConfig())
        >>> for i in range(400):
        ...     _ = mon.update({"brightness": 0.5 + 0.01 * (i % 7)}, frame_id=f"f{i}", at=i / 10)
        >>> mon.metrics["brightness"].warming_up, mon.rebaseline(at=40.0)
        (False, [])
        >>> mon.metrics["brightness"].warming_up, round(mon.frame_rate, 6)
        (True, 10.0)
        """
        names = list(self._metrics) if metric is None else [metric]
        events = []
        for name in names:
            old = self._metrics.get(name)
            if old is None:
                continue
            closing = old.close(at)
            if closing is not None:
                events.append(closing)
            self._metrics[name] = MetricMonitor(name, self.config)
        if self.reference.metrics and any(n in self.reference.metrics for n in names):
            kept = {n: r for n, r in self.reference.metrics.items() if n not in names}
            self.reference = self.reference.model_copy(update={"metrics": kept})
        return events

    def drain_z(self) -> dict[str, tuple[float, int]]:
        """Per statistic: sum and count of standardised block values since the last drain.

        This is the camera's contribution to :class:`FleetDriftMonitor`.
        """
        out = {}
        for name, m in self._metrics.items():
            s, n = m.drain_z()
            if n:
                out[name] = (s, n)
        return out

    def state(self) -> dict[str, Any]:
        """JSON-serialisable state (no pickling); restore with :meth:`from_state`."""
        return {
            "version": STATE_VERSION,
            "class_frames": self._class_frames,
            "frame_rate": self._rate.state(),
            "reference": self.reference.model_dump(mode="json"),
            "metrics": {name: m.state() for name, m in self._metrics.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], config: DriftConfig) -> CameraDriftMonitor:
        """Rebuild a monitor that makes the same decisions as the one that was saved.

        Raises ``ValueError`` on a layout of another version (the caller starts afresh).
        """
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported drift state version {state.get('version')!r}")
        self = cls(config, CameraReference.model_validate(state["reference"]))
        self._class_frames = int(state["class_frames"])
        self._rate = FrameRate.from_state(state["frame_rate"])
        for name, ms in state["metrics"].items():
            self._metrics[name] = MetricMonitor.from_state(name, ms, config)
        return self
