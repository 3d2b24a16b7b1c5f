"""The alert lifecycle of one statistic: fire once, wait for the return, cool down.

A chart crossing its threshold fires: the statistic is ``firing`` until a resolve chart (a
CUSUM towards the reference) sees it back, then ``cooldown`` for ``config.cooldown_frames``
before it is watched again. A change that repeats the day's rhythm
(:class:`~framegate.detectors.drift.daily.DailyEpisodes`) fires silently and is expected to
end as it did before; it is alerted only if it does not.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

from framegate.detectors.drift.blocks import (
    Block,
    Evidence,
    Standardisation,
    change_start,
    evidence,
)
from framegate.detectors.drift.config import FALLBACK_FRAME_RATE, DriftConfig
from framegate.detectors.drift.cusum import ReferencePageHinkley, cusum_threshold
from framegate.detectors.drift.daily import DailyEpisodes
from framegate.detectors.drift.events import DriftEvent, severity_for
from framegate.detectors.drift.pool import ReferencePool
from framegate.detectors.drift.reference import MetricReference
from framegate.schemas.checks import Severity

DETECTOR = "page_hinkley"
WATCH, FIRING, COOLDOWN = "watch", "firing", "cooldown"


@dataclass(slots=True)
class Episode:
    """The alert lifecycle after a firing: its direction, the resolve chart, the cooldown.

    The resolve chart is a one-sided CUSUM of ``-direction * z`` (a return towards the
    reference) with allowance ``resolve_allowance`` and decision interval
    ``resolve_threshold``, in block z units. ``expected_end`` is set when the change
    repeats the day's rhythm (:class:`~framegate.detectors.drift.daily.DailyEpisodes`): it
    raised no alert, and raises one if it is not over by then.
    """

    direction: int = 1  # +1: the statistic went up, -1: down
    resolve_allowance: float = 0.0
    resolve_threshold: float = 0.0
    resolve_statistic: float = 0.0
    hold_blocks: int = 0  # blocks not yet charted after the firing
    cooldown_until: int = 0  # frames seen at which watching resumes after a resolve
    fired_frame_id: str = ""  # the frame at which the episode fired
    fired_at: float = 0.0
    expected_end: float | None = None  # a known daily change: silent until then


class AlertLifecycle:
    """What a :class:`~framegate.detectors.drift.metric.MetricMonitor` does with a block's
    standardised value ``z`` once its charts have one (a mixin: the state is the monitor's)."""

    name: str
    config: DriftConfig
    reference: MetricReference | None
    _standard: Standardisation | None
    _charts: list[ReferencePageHinkley]
    _history: deque[Block]
    _pool: ReferencePool | None
    _daily: DailyEpisodes
    _episode: Episode
    _phase: str
    _frames_seen: int
    _last_frame_id: str

    def _on_block(
        self, z: float, frame_id: str, at: float, frame_rate: float | None
    ) -> DriftEvent | None:
        if self._phase == WATCH:
            for chart in self._charts:
                chart.update(z)
                if chart.drift_detected:
                    return self._fire(chart, frame_id, at, frame_rate)
            return None
        episode = self._episode
        if self._phase == FIRING:
            if episode.expected_end is not None and at > episode.expected_end:
                return self._overdue(frame_id, at)
            if episode.hold_blocks > 0:  # the residual filter still remembers the past
                episode.hold_blocks -= 1
                return None
            episode.resolve_statistic = max(
                0.0,
                episode.resolve_statistic + episode.resolve_allowance - episode.direction * z,
            )
            if episode.resolve_statistic > episode.resolve_threshold:
                return self._resolve(frame_id, at)
            return None
        if self._frames_seen >= episode.cooldown_until:
            self._phase = WATCH
        return None

    def _fire(
        self, chart: ReferencePageHinkley, frame_id: str, at: float, frame_rate: float | None
    ) -> DriftEvent | None:
        ref, standard, episode = self.reference, self._standard, self._episode
        assert ref is not None and standard is not None
        episode.direction = direction = chart.direction
        history = list(self._history)
        start = change_start(history, chart.delta, direction)
        found = evidence(history[start:], self.config.max_examples)
        shift = (found.after["mean"] - ref.mean) / ref.std
        # The resolve chart looks for a return of the size that fired, in z units. A
        # prewhitened z is an innovation (a step shows as one spike, then a small sustained
        # shift), so the size comes from the raw level; an indicator's z is a level already.
        if standard.indicator:
            level = sum(b.z for b in history[start:]) * direction / max(1, len(history) - start)
        else:
            level = direction * shift * standard.z_per_sd
        # capped like the charts, so that one block's noise cannot resolve a large change
        episode.resolve_allowance = min(
            max(0.5 * level, self.config.min_resolve_shift * standard.z_per_sd),
            self.config.max_allowance,
        )
        rate = frame_rate or ref.frame_rate or self.config.frame_rate or FALLBACK_FRAME_RATE
        episode.resolve_threshold = cusum_threshold(
            self.config.detector_arl_frames(rate) / standard.block_size,
            episode.resolve_allowance,
        )
        episode.resolve_statistic = 0.0
        episode.hold_blocks = -(-len(standard.ar) // standard.block_size)
        episode.fired_frame_id = frame_id
        episode.fired_at = at
        episode.expected_end = self._daily.expected_end(at, direction)
        self._phase = FIRING
        if self._pool is not None:
            self._pool.discard_pending()
        if episode.expected_end is not None:  # the day's rhythm: no alert
            return None
        return self._event("firing", frame_id, at, found, self._severity(shift))

    def _severity(self, shift: float) -> Severity:
        c = self.config
        return severity_for(shift, c.severity_warning_sigma, c.severity_critical_sigma)

    def _overdue(self, frame_id: str, at: float) -> DriftEvent:
        """A change that repeated the day's rhythm but did not end with it: alert now."""
        ref, episode = self.reference, self._episode
        assert ref is not None
        history = list(self._history)
        found = evidence(
            history[change_start(history, 0.0, episode.direction) :], self.config.max_examples
        )
        episode.expected_end = None
        episode.fired_frame_id = frame_id
        shift = (found.after["mean"] - ref.mean) / ref.std
        return self._event("firing", frame_id, at, found, self._severity(shift))

    def _resolve(self, frame_id: str, at: float) -> DriftEvent | None:
        episode = self._episode
        self._daily.record(episode.fired_at, at, episode.direction)
        for chart in self._charts:
            chart._reset()
        if episode.expected_end is not None:  # a silent daily change is over: watch again
            episode.expected_end = None
            self._phase = WATCH
            return None
        history = list(self._history)
        start = change_start(history, episode.resolve_allowance, -episode.direction)
        found = evidence(history[start:], self.config.max_examples)
        self._phase = COOLDOWN
        episode.cooldown_until = self._frames_seen + self.config.cooldown_frames
        return self._event("resolved", frame_id, at, found, "info")

    def close(self, at: float) -> DriftEvent | None:
        """The ``resolved`` event of an alert still open, when the statistic is given up (a
        re-baseline); None when there is none."""
        if self._phase != FIRING or self._episode.expected_end is not None:
            return None
        found = evidence(list(self._history)[-1:], self.config.max_examples)
        return self._event("resolved", self._last_frame_id, at, found, "info")

    def _event(
        self,
        status: Literal["firing", "resolved"],
        frame_id: str,
        at: float,
        found: Evidence,
        severity: Severity,
    ) -> DriftEvent:
        ref = self.reference
        assert ref is not None
        return DriftEvent(
            metric=self.name,
            detector=DETECTOR,
            status=status,
            frame_id=frame_id,
            at=at,
            change_point=found.change_point,
            before={"mean": ref.mean, "std": ref.std, "n": float(ref.n)},
            after=found.after,
            example_frame_ids=found.examples,
            severity=severity,
            direction="up" if self._episode.direction > 0 else "down",
            fired_frame_id=self._episode.fired_frame_id,
        )
