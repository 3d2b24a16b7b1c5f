"""One statistic of one camera: standardise, block, chart, and manage the alert lifecycle."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from framegate.detectors.drift.blocks import (
    Block,
    OpenBlock,
    Standardisation,
    history_from_state,
    history_state,
)
from framegate.detectors.drift.config import FALLBACK_FRAME_RATE, DriftConfig
from framegate.detectors.drift.cusum import ReferencePageHinkley
from framegate.detectors.drift.daily import DailyEpisodes
from framegate.detectors.drift.events import DriftEvent
from framegate.detectors.drift.lifecycle import (
    COOLDOWN,
    DETECTOR,
    FIRING,
    WATCH,
    AlertLifecycle,
    Episode,
)
from framegate.detectors.drift.pool import ReferencePool
from framegate.detectors.drift.reference import MetricReference, estimate_reference

__all__ = ["DETECTOR", "MetricMonitor", "ZTally"]
_RECHART_RATIO = 1.2  # the frame rate moved this much: set the thresholds again


@dataclass(slots=True)
class ZTally:
    """Standardised block values not yet handed to the fleet monitor."""

    total: float = 0.0
    count: int = 0


class MetricMonitor(AlertLifecycle):
    """Drift of one statistic against its reference.

    Each frame is prewhitened by the reference's autoregression, residuals are averaged in
    blocks of ``reference.block``, and each block mean is standardised against the
    reference (see :class:`MetricReference`) and fed to one
    :class:`ReferencePageHinkley` chart per design shift. The first chart to cross fires
    once; the metric then waits for a resolve chart (a CUSUM towards the reference) and a
    cooldown before it can fire again. A change that repeats the day's rhythm fires
    silently (:mod:`framegate.detectors.drift.daily`).

    Without a reference the statistic is self-starting (:mod:`framegate.detectors.drift.pool`):
    watched from its ``config.warmup_frames``-th value, against a reference that grows to
    ``config.reference_frames`` values with thresholds allowing for its size.
    """

    def __init__(
        self, name: str, config: DriftConfig, reference: MetricReference | None = None
    ) -> None:
        self.name = name
        self.config = config
        self._pool = ReferencePool(config) if reference is None else None
        self._lags: deque[float] = deque(maxlen=config.max_ar_order)  # raw values, newest last
        self._history: deque[Block] = deque(maxlen=config.history_blocks)
        self._frames_seen = 0
        self._last_frame_id = ""
        self._open = OpenBlock()
        self._phase = WATCH
        self._episode = Episode()
        self._undrained = ZTally()
        self._daily = DailyEpisodes(config.daily_tolerance_s, config.daily_memory_days)
        self._charts: list[ReferencePageHinkley] = []
        self._standard: Standardisation | None = None
        self.reference: MetricReference | None = None
        if reference is not None:
            self._set_reference(reference)

    # -- reference ------------------------------------------------------------------------
    def _set_reference(self, reference: MetricReference) -> None:
        """Chart against ``reference``; running charts carry over to the nearest new one."""
        old = self._charts
        self.reference = reference
        self._standard = Standardisation.of(reference)
        if len(reference.ar) > (self._lags.maxlen or 0):
            self._lags = deque(self._lags, maxlen=len(reference.ar))
        self._charts = [
            ReferencePageHinkley(delta=k, threshold=h)
            for k, h in zip(reference.allowances, reference.thresholds, strict=True)
        ]
        for chart in self._charts if old else ():
            nearest = min(old, key=lambda c: abs(c.delta - chart.delta))
            chart.load_state(nearest.state())

    def _estimate(self, frame_rate: float | None) -> None:
        pool = self._pool
        assert pool is not None
        rate = frame_rate or self.config.frame_rate or FALLBACK_FRAME_RATE
        final = self.config.reference_size
        self._set_reference(estimate_reference(np.asarray(pool.values), self.config, rate, final))
        pool.estimated()
        if pool.full:  # the reference is complete: its values are not needed any more
            self._pool = None

    def _follow_frame_rate(self, frame_rate: float) -> None:
        ref = self.reference
        assert ref is not None
        if ref.frame_rate is None or not (
            1 / _RECHART_RATIO < frame_rate / ref.frame_rate < _RECHART_RATIO
        ):
            self._set_reference(ref.at_frame_rate(frame_rate, self.config))

    def backfill(self, value: float, frames: int) -> None:
        """Count ``frames`` earlier frames that carried ``value`` into the warm-up."""
        if self.warming_up and self._pool is not None:
            self._pool.learn(value, frames)

    @property
    def warming_up(self) -> bool:
        """Whether the statistic is not watched yet (fewer than ``warmup_frames`` values)."""
        return self.reference is None

    @property
    def growing(self) -> bool:
        """Whether the reference is still growing (its thresholds still tightening)."""
        return self._pool is not None

    @property
    def firing(self) -> bool:
        return self._phase == FIRING

    @property
    def history(self) -> tuple[Block, ...]:
        """The recent closed blocks, oldest first (at most ``config.history_blocks``)."""
        return tuple(self._history)

    @property
    def frames_seen(self) -> int:
        """Frames with a value, warm-up included."""
        return self._frames_seen

    @property
    def warmup_values(self) -> list[float]:
        """The values learnt so far while warming up (float32 precision)."""
        return list(self._pool.values) if self.warming_up and self._pool is not None else []

    @property
    def daily(self) -> DailyEpisodes:
        """The changes this statistic saw come and go (the day's rhythm)."""
        return self._daily

    # -- updates --------------------------------------------------------------------------
    def update(
        self, x: float, frame_id: str, at: float, frame_rate: float | None = None
    ) -> DriftEvent | None:
        """Add one frame's value; return an event when the metric fires or resolves.

        ``frame_rate`` is the camera's frames per second (None: ``config.frame_rate``, else
        :data:`FALLBACK_FRAME_RATE`); thresholds follow it when it moves by 20 %.
        """
        if x != x:  # NaN: nothing measured
            return None
        self._frames_seen += 1
        self._last_frame_id = frame_id
        standard = self._standard
        if standard is None:
            pool = self._pool
            assert pool is not None
            pool.learn(x)
            self._lags.append(x)
            if pool.due:
                self._estimate(frame_rate)
            return None
        if frame_rate is not None:
            self._follow_frame_rate(frame_rate)
            standard = self._standard
            assert standard is not None
        event = self._chart(x, frame_id, at, standard, frame_rate)
        pool = self._pool
        if pool is not None and self._phase != FIRING:
            pool.offer(x, standard.block_size)
            if pool.due:
                self._estimate(frame_rate)
        return event

    def _chart(
        self,
        x: float,
        frame_id: str,
        at: float,
        standard: Standardisation,
        frame_rate: float | None,
    ) -> DriftEvent | None:
        centre = standard.centre
        ar = standard.ar
        lags = self._lags
        r = x - centre
        if ar:
            if len(lags) < len(ar):  # the filter needs its lags before its first residual
                lags.append(x)
                return None
            for c, lag in zip(ar, reversed(lags)):  # noqa: B905 - lags may be longer
                r -= c * (lag - centre)
        lags.append(x)
        block = self._open
        if block.frames == 0:
            block.first_frame_id = frame_id
        block.frames += 1
        block.total += x
        block.total_sq += x * x
        block.residual_total += r
        if block.frames < standard.block_size:
            return None
        if standard.indicator:  # Anscombe's arcsine: near-Gaussian tails for counts
            rate = min(max(block.total + 0.375, 0.0) / (block.frames + 0.75), 1.0)
            z = (math.asin(math.sqrt(rate)) - centre) * standard.z_factor
        else:
            z = block.residual_total / block.frames * standard.z_factor
        self._history.append(block.close(z))
        self._undrained.total += z
        self._undrained.count += 1
        return self._on_block(z, frame_id, at, frame_rate)

    def drain_z(self) -> tuple[float, int]:
        """Sum and count of standardised block values since the last drain (fleet input)."""
        out = (self._undrained.total, self._undrained.count)
        self._undrained = ZTally()
        return out

    # -- state ----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """JSON-serialisable state; restore with :meth:`from_state`."""
        return {
            "reference": None if self.reference is None else self.reference.model_dump(mode="json"),
            "pool": None if self._pool is None else self._pool.state(),
            "lags": list(self._lags),
            "frames_seen": self._frames_seen,
            "last_frame_id": self._last_frame_id,
            "history": history_state(self._history),
            "open_block": asdict(self._open),
            "phase": self._phase,
            "episode": asdict(self._episode),
            "undrained_z": asdict(self._undrained),
            "charts": [c.state() for c in self._charts],
            "daily": self._daily.state(),
        }

    @classmethod
    def from_state(cls, name: str, state: dict[str, Any], config: DriftConfig) -> MetricMonitor:
        ref = state["reference"]
        self = cls(name, config, None if ref is None else MetricReference.model_validate(ref))
        pool = state["pool"]
        self._pool = None if pool is None else ReferencePool.from_state(pool, config)
        self._lags.extend(float(v) for v in state["lags"])
        self._frames_seen = int(state["frames_seen"])
        self._last_frame_id = str(state["last_frame_id"])
        self._history.extend(history_from_state(state["history"]))
        block = state["open_block"]
        self._open = OpenBlock(
            first_frame_id=str(block["first_frame_id"]),
            frames=int(block["frames"]),
            total=float(block["total"]),
            total_sq=float(block["total_sq"]),
            residual_total=float(block["residual_total"]),
        )
        if state["phase"] not in (WATCH, FIRING, COOLDOWN):
            raise ValueError(f"unknown drift phase {state['phase']!r}")
        self._phase = state["phase"]
        episode = state["episode"]
        end = episode["expected_end"]
        self._episode = Episode(
            direction=int(episode["direction"]),
            resolve_allowance=float(episode["resolve_allowance"]),
            resolve_threshold=float(episode["resolve_threshold"]),
            resolve_statistic=float(episode["resolve_statistic"]),
            hold_blocks=int(episode["hold_blocks"]),
            cooldown_until=int(episode["cooldown_until"]),
            fired_frame_id=str(episode["fired_frame_id"]),
            fired_at=float(episode["fired_at"]),
            expected_end=None if end is None else float(end),
        )
        undrained = state["undrained_z"]
        self._undrained = ZTally(float(undrained["total"]), int(undrained["count"]))
        if len(state["charts"]) != len(self._charts):
            raise ValueError("drift state does not match its reference's charts")
        for chart, cs in zip(self._charts, state["charts"], strict=True):
            chart.load_state(cs)
        self._daily.load_state(state["daily"])
        return self
