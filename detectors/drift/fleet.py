"""Fleet-wide drift: a pooled chart per statistic, and a vote when many cameras drift."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import Any, Literal

import numpy as np

from framegate.detectors.drift.config import DriftConfig, FleetDriftConfig
from framegate.detectors.drift.events import DriftEvent
from framegate.detectors.drift.metric import MetricMonitor, ZTally
from framegate.detectors.drift.reference import MetricReference, charts
from framegate.detectors.health import HealthEvent

VOTE = "camera_vote"
STATE_VERSION = 4  # 4: the pooled charts' state of self-starting metric monitors


@dataclass(frozen=True, slots=True)
class CameraDrift:
    """A camera firing on one statistic (or health check), as the vote sees it."""

    at: float  # when the camera's alert fired
    direction: Literal["up", "down"]
    change_point: str | None


@dataclass(frozen=True, slots=True)
class Vote:
    """The camera vote on one statistic: watching, firing, or cooling down ``until``."""

    phase: Literal["watch", "firing", "cooldown"] = "watch"
    until: float = 0.0
    direction: Literal["up", "down"] = "up"
    fired_frame_id: str = ""


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
        rate = 1.0 / c.period_s
        ks, hs = charts(1.0, 1.0, 1, 10**9, self._chart_config, rate)
        self._pooled_reference = MetricReference(
            mean=0.0,
            std=1.0,
            lr_std=1.0,
            tau=1.0,
            block=1,
            n=10**9,
            allowances=ks,
            thresholds=hs,
            frame_rate=rate,
        )
        self._pooled: dict[str, MetricMonitor] = {}  # statistic -> the fleet's chart
        self._period_start: float | None = None
        # statistic -> camera -> its standardised block values in the current period
        self._period_z: dict[str, dict[str, ZTally]] = {}
        self._last_seen: dict[str, float] = {}  # camera -> time of its last report
        # statistic (or health check) -> camera -> its open alert
        self._drifting: dict[str, dict[str, CameraDrift]] = {}
        self._votes: dict[str, Vote] = {}  # statistic (or health check) -> its vote

    def update(
        self,
        camera_id: str,
        *,
        at: float,
        zscores: Mapping[str, tuple[float, int]] | None = None,
        events: Sequence[DriftEvent] = (),
        health: Sequence[HealthEvent] = (),
    ) -> list[DriftEvent]:
        """Add one camera's report at time ``at``: its drained block values, its drift
        transitions and its camera-health transitions.

        Health transitions count in the camera vote like drift ones, keyed by the check's
        name (``frozen``, ``obstructed``, ``camera_moved``), always ``up``: many cameras
        frozen together is a fleet event. They take no part in the pooled chart.
        """
        out: list[DriftEvent] = []
        c = self.config
        if self._period_start is None:
            self._period_start = math.floor(at / c.period_s) * c.period_s
        while at >= self._period_start + c.period_s:
            out.extend(self._close_period())
        self._last_seen[camera_id] = at
        for name, (s, n) in (zscores or {}).items():
            tally = self._period_z.setdefault(name, {}).setdefault(camera_id, ZTally())
            tally.total += s
            tally.count += n
        transitions = [
            (ev.metric, ev.status, CameraDrift(ev.at, ev.direction, ev.change_point))
            for ev in events
        ]
        transitions += [
            (h.check.value, h.status, CameraDrift(h.at, "up", _health_change_point(h)))
            for h in health
        ]
        for metric, status, drift in transitions:
            cams = self._drifting.setdefault(metric, {})
            if status == "firing":
                cams[camera_id] = drift
            else:
                cams.pop(camera_id, None)
            vote = self._check_vote(metric, at)
            if vote is not None:
                out.append(vote)
        return out

    def _close_period(self) -> list[DriftEvent]:
        assert self._period_start is not None
        start = self._period_start
        self._period_start = start + self.config.period_s
        out = []
        for name, by_camera in sorted(self._period_z.items()):
            # a camera firing on its own is explained by its own alert (and the vote)
            firing = self._drifting.get(name, {})
            means = [
                t.total / math.sqrt(t.count)
                for cam, t in by_camera.items()
                if t.count > 0 and cam not in firing
            ]
            # A period with fewer than min_cameras cameras says nothing about the fleet: its
            # pooled value is one camera's own statistic, already watched by that camera.
            if len(means) < self.config.min_cameras:
                continue
            mon = self._pooled.get(name)
            if mon is None:
                mon = self._pooled[name] = MetricMonitor(
                    name, self._chart_config, self._pooled_reference
                )
            z = float(np.median(means)) / median_std(len(means))
            ev = mon.update(z, f"period:{start:.0f}", start)
            if ev is not None:
                out.append(replace(ev, camera_ids=tuple(sorted(by_camera))))
        self._period_z = {}
        return out

    def _check_vote(self, metric: str, at: float) -> DriftEvent | None:
        c = self.config
        active = sum(1 for t in self._last_seen.values() if at - t <= c.active_s)
        cams = self._drifting.get(metric, {})
        vote = self._votes.get(metric, Vote())
        by_dir: dict[str, list[str]] = {"up": [], "down": []}
        for cam, drift in cams.items():
            if vote.phase == "firing" or at - drift.at <= c.window_s:
                by_dir[drift.direction].append(cam)
        if vote.phase == "firing":
            direction = vote.direction
            n = len(by_dir[direction])
            if n * 2 < c.min_cameras or n < c.min_fraction * active / 2:
                self._votes[metric] = replace(vote, phase="cooldown", until=at + c.cooldown_s)
                return self._vote_event(
                    metric,
                    "resolved",
                    at,
                    direction,
                    by_dir[direction],
                    active,
                    vote.fired_frame_id,
                )
            return None
        if vote.phase == "cooldown" and at < vote.until:
            return None
        for d in ("up", "down"):
            n = len(by_dir[d])
            if n >= c.min_cameras and n >= c.min_fraction * max(active, 1):
                self._votes[metric] = Vote("firing", 0.0, d, f"fleet@{at:.3f}")
                return self._vote_event(metric, "firing", at, d, by_dir[d], active, "")
        self._votes[metric] = Vote("watch", 0.0, vote.direction, "")
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
        cps = sorted(
            (info[c].at, info[c].change_point) for c in cams if c in info and info[c].change_point
        )
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
            "version": STATE_VERSION,
            "period_start": self._period_start,
            "period_z": {
                name: {cam: asdict(t) for cam, t in by_camera.items()}
                for name, by_camera in self._period_z.items()
            },
            "last_seen": self._last_seen,
            "drifting": {
                name: {cam: asdict(d) for cam, d in cams.items()}
                for name, cams in self._drifting.items()
            },
            "votes": {name: asdict(v) for name, v in self._votes.items()},
            "pooled": {k: m.state() for k, m in self._pooled.items()},
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], config: FleetDriftConfig | None = None
    ) -> FleetDriftMonitor:
        """Restore a saved monitor; raises ``ValueError`` on a layout of another version."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported fleet drift state version {state.get('version')!r}")
        self = cls(config)
        ps = state["period_start"]
        self._period_start = None if ps is None else float(ps)
        self._period_z = {
            name: {cam: ZTally(float(t["total"]), int(t["count"])) for cam, t in cams.items()}
            for name, cams in state["period_z"].items()
        }
        self._last_seen = {k: float(v) for k, v in state["last_seen"].items()}
        self._drifting = {
            name: {
                cam: CameraDrift(float(d["at"]), d["direction"], d["change_point"])
                for cam, d in cams.items()
            }
            for name, cams in state["drifting"].items()
        }
        self._votes = {
            name: Vote(str(v["phase"]), float(v["until"]), v["direction"], str(v["fired_frame_id"]))  # type: ignore[arg-type]
            for name, v in state["votes"].items()
        }
        self._pooled = {
            k: MetricMonitor.from_state(k, s, self._chart_config)
            for k, s in state["pooled"].items()
        }
        return self


def _health_change_point(event: HealthEvent) -> str | None:
    # a health episode changes at the frame that opened it
    return event.frame_id if event.status == "firing" else None
