"""Fleet-wide drift: a pooled chart per statistic, and a vote when many cameras drift."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

import numpy as np

from detectors.drift.config import DriftConfig, FleetDriftConfig
from detectors.drift.events import DriftEvent
from detectors.drift.metric import MetricMonitor
from detectors.drift.reference import MetricReference, charts

VOTE = "camera_vote"


@lru_cache(maxsize=256)
def median_std(cameras: int) -> float:
    """Standard deviation of the median of ``cameras`` independent N(0, 1) values.

    Seeded simulation (200,000 draws; deterministic, so every worker charts the same
    values), about ``sqrt(pi / (2 * cameras))`` for many cameras.

    >>> round(median_std(1), 2), round(median_std(25) * 5, 2)
    (1.0, 1.25)
    """
    rng = np.random.default_rng(cameras)
    draws = rng.standard_normal((max(1, 200_000 // cameras), cameras))
    return float(np.median(draws, axis=1).std())


class FleetDriftMonitor:
    """Drift of the whole fleet, fed by every camera's monitor.

    Two signals per statistic:

    * **pooled chart** — per ``period_s``, each camera's standardised block values
      (:meth:`CameraDriftMonitor.drain_z`) are summed into ``m = sum(z) / sqrt(count)``,
      N(0, 1) when the camera did not move; the median of the cameras' ``m`` over its
      standard deviation (:func:`median_std`) is ``Z``, charted like a camera statistic
      (same CUSUM, resolve and cooldown logic). It sees a small shift most cameras share,
      which no single camera can; one broken camera, however far off, barely moves a
      median (a mean would follow it), and none counts while it fires on its own. Its
      ``before``/``after`` are in units of ``Z``.
    * **camera vote** — a fleet ``firing`` event when at least ``min_cameras`` cameras, and
      ``min_fraction`` of the active ones, fire on the same statistic in the same direction
      within ``window_s``; ``resolved`` when fewer than half of that remain.

    Events have ``camera_ids`` set to the cameras involved; ``streams/`` publishes them with
    ``camera_id=None``. Timestamps drive everything; there is no clock.
    """

    def __init__(self, config: FleetDriftConfig | None = None) -> None:
        self.config = config or FleetDriftConfig()
        c = self.config
        self._chart_config = DriftConfig(
            target_false_alarms_per_day=c.target_false_alarms_per_day,
            frame_rate=1.0 / c.period_s,
            expected_metrics=c.expected_metrics,
            design_shifts=c.design_shifts,
            cooldown_frames=max(0, math.ceil(c.cooldown_s / c.period_s)),
            min_resolve_shift=min(c.design_shifts) / 2,
        )
        ks, hs = charts(1.0, 1.0, 1, 10**9, self._chart_config)
        self._pooled_ref = MetricReference(
            mean=0.0, std=1.0, lr_std=1.0, tau=1.0, block=1, n=10**9, allowances=ks, thresholds=hs
        )
        self._pooled: dict[str, MetricMonitor] = {}
        self._period_start: float | None = None
        self._acc: dict[str, dict[str, list[float]]] = {}  # metric -> camera -> [sum z, n]
        self._seen: dict[str, float] = {}
        self._drifting: dict[str, dict[str, list[Any]]] = {}  # metric -> cam -> [at, dir, cp]
        self._vote: dict[str, list[Any]] = {}  # metric -> [state, until, dir, fired frame id]

    def update(
        self,
        camera_id: str,
        *,
        at: float,
        zscores: Mapping[str, tuple[float, int]] | None = None,
        events: Sequence[DriftEvent] = (),
    ) -> list[DriftEvent]:
        """Add one camera's report (its drained block values and its events) at time ``at``."""
        out: list[DriftEvent] = []
        c = self.config
        if self._period_start is None:
            self._period_start = math.floor(at / c.period_s) * c.period_s
        while at >= self._period_start + c.period_s:
            out.extend(self._close_period())
        self._seen[camera_id] = at
        for name, (s, n) in (zscores or {}).items():
            acc = self._acc.setdefault(name, {}).setdefault(camera_id, [0.0, 0])
            acc[0] += s
            acc[1] += n
        for ev in events:
            cams = self._drifting.setdefault(ev.metric, {})
            if ev.status == "firing":
                cams[camera_id] = [ev.at, ev.direction, ev.change_point]
            else:
                cams.pop(camera_id, None)
            vote = self._check_vote(ev.metric, at)
            if vote is not None:
                out.append(vote)
        return out

    def _close_period(self) -> list[DriftEvent]:
        assert self._period_start is not None
        start = self._period_start
        self._period_start = start + self.config.period_s
        out = []
        for name, by_camera in sorted(self._acc.items()):
            # a camera firing on its own is explained by its own alert (and the vote)
            firing = self._drifting.get(name, {})
            means = [
                s / math.sqrt(n) for c, (s, n) in by_camera.items() if n > 0 and c not in firing
            ]
            # A period with fewer than min_cameras cameras says nothing about the fleet: its
            # pooled value is one camera's own statistic, already watched by that camera.
            if len(means) < self.config.min_cameras:
                continue
            mon = self._pooled.get(name)
            if mon is None:
                mon = self._pooled[name] = MetricMonitor(name, self._chart_config, self._pooled_ref)
            z = float(np.median(means)) / median_std(len(means))
            ev = mon.update(z, f"period:{start:.0f}", start)
            if ev is not None:
                out.append(replace(ev, camera_ids=tuple(sorted(by_camera))))
        self._acc = {}
        return out

    def _check_vote(self, metric: str, at: float) -> DriftEvent | None:
        c = self.config
        active = sum(1 for t in self._seen.values() if at - t <= c.active_s)
        cams = self._drifting.get(metric, {})
        state, until, direction, fired = self._vote.get(metric, ["watch", 0.0, "up", ""])
        by_dir: dict[str, list[str]] = {"up": [], "down": []}
        for cam, (t, d, _cp) in cams.items():
            if state == "firing" or at - t <= c.window_s:
                by_dir[d].append(cam)
        if state == "firing":
            n = len(by_dir[direction])
            if n * 2 < c.min_cameras or n < c.min_fraction * active / 2:
                self._vote[metric] = ["cooldown", at + c.cooldown_s, direction, fired]
                return self._vote_event(
                    metric, "resolved", at, direction, by_dir[direction], active, fired
                )
            return None
        if state == "cooldown" and at < until:
            return None
        for d in ("up", "down"):
            n = len(by_dir[d])
            if n >= c.min_cameras and n >= c.min_fraction * max(active, 1):
                self._vote[metric] = ["firing", 0.0, d, f"fleet@{at:.3f}"]
                return self._vote_event(metric, "firing", at, d, by_dir[d], active, "")
        self._vote[metric] = ["watch", 0.0, direction, ""]
        return None

    def _vote_event(
        self,
        metric: str,
        status: str,
        at: float,
        direction: str,
        cams: list[str],
        active: int,
        fired: str,
    ) -> DriftEvent:
        info = self._drifting.get(metric, {})
        cps = sorted((info[c][0], info[c][2]) for c in cams if c in info and info[c][2])
        frac = len(cams) / max(active, 1)
        return DriftEvent(
            metric=metric,
            detector=VOTE,
            status=status,  # type: ignore[arg-type]
            frame_id=f"fleet@{at:.3f}",
            at=at,
            change_point=cps[0][1] if cps else None,
            before={"cameras_active": float(active)},
            after={"cameras_drifting": float(len(cams)), "fraction": frac},
            example_frame_ids=[],
            severity="critical" if status == "firing" else "info",
            direction=direction,  # type: ignore[arg-type]
            camera_ids=tuple(sorted(cams)),
            fired_frame_id=fired or f"fleet@{at:.3f}",
        )

    def state(self) -> dict[str, Any]:
        """JSON-serialisable state; restore with :meth:`from_state`."""
        return {
            "version": 2,
            "period_start": self._period_start,
            "acc": self._acc,
            "seen": self._seen,
            "drifting": self._drifting,
            "vote": self._vote,
            "pooled": {k: m.state() for k, m in self._pooled.items()},
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], config: FleetDriftConfig | None = None
    ) -> FleetDriftMonitor:
        if state.get("version") != 2:
            raise ValueError(f"unsupported fleet drift state version {state.get('version')!r}")
        self = cls(config)
        ps = state["period_start"]
        self._period_start = None if ps is None else float(ps)
        self._acc = {
            k: {c: [float(v[0]), int(v[1])] for c, v in cams.items()}
            for k, cams in state["acc"].items()
        }
        self._seen = {k: float(v) for k, v in state["seen"].items()}
        self._drifting = {
            m: {c: [float(v[0]), str(v[1]), v[2]] for c, v in cams.items()}
            for m, cams in state["drifting"].items()
        }
        self._vote = {
            m: [str(v[0]), float(v[1]), str(v[2]), str(v[3])] for m, v in state["vote"].items()
        }
        self._pooled = {
            k: MetricMonitor.from_state(k, s, self._chart_config)
            for k, s in state["pooled"].items()
        }
        return self
