"""One statistic of one camera: standardise, block, chart, and manage the alert lifecycle."""

from __future__ import annotations

import math
from array import array
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from framegate.detectors.drift.blocks import (
    Block,
    OpenBlock,
    Standardisation,
    history_from_state,
    history_state,
)
from framegate.detectors.drift.config import DriftConfig
from framegate.detectors.drift.cusum import ReferencePageHinkley, cusum_threshold
from framegate.detectors.drift.events import DriftEvent, severity_for
from framegate.detectors.drift.reference import MetricReference, estimate_reference
from framegate.detectors.packing import pack, unpack
from framegate.schemas.checks import Severity

DETECTOR = "page_hinkley"
_WATCH, _FIRING, _COOLDOWN = "watch", "firing", "cooldown"


@dataclass(slots=True)
class Episode:
    """The alert lifecycle after a firing: its direction, the resolve chart, the cooldown.

    The resolve chart is a one-sided CUSUM of ``-direction * z`` (a return towards the
    reference) with allowance ``resolve_allowance`` and decision interval
    ``resolve_threshold``, in block z units.
    """

    direction: int = 1  # +1: the statistic went up, -1: down
    resolve_allowance: float = 0.0
    resolve_threshold: float = 0.0
    resolve_statistic: float = 0.0
    hold_blocks: int = 0  # blocks not yet charted after the firing
    cooldown_until: int = 0  # frames seen at which watching resumes after a resolve
    fired_frame_id: str = ""  # the frame at which the episode fired


@dataclass(slots=True)
class ZTally:
    """Standardised block values not yet handed to the fleet monitor."""

    total: float = 0.0
    count: int = 0


def _encode(values: array) -> str:
    return pack(np.frombuffer(values, dtype=np.float32), "<f4")


def _decode(text: str) -> array:
    return array("f", unpack(text, "<f4").astype(np.float32).tobytes())


class MetricMonitor:
    """Drift of one statistic against its reference.

    Each frame is prewhitened by the reference's autoregression, residuals are averaged in
    blocks of ``reference.block``, and each block mean is standardised against the
    reference (see :class:`MetricReference`) and fed to one
    :class:`ReferencePageHinkley` chart per design shift. The first chart to cross fires
    once; the metric then waits for a resolve chart (a CUSUM towards the reference) and a
    cooldown before it can fire again. Without a reference the first
    ``config.warmup_frames`` values are learnt as one.
    """

    def __init__(
        self, name: str, config: DriftConfig, reference: MetricReference | None = None
    ) -> None:
        self.name = name
        self.config = config
        # warm-up values are kept (and saved) as float32: the statistics carry far less
        # precision, and a camera's changelog carries 4 bytes a value instead of ~20
        self._warmup_values = array("f")
        self._history: deque[Block] = deque(maxlen=config.history_blocks)
        self._frames_seen = 0
        self._open = OpenBlock()
        self._centred_lags: deque[float] = deque()  # last (x - centre), newest last
        self._phase = _WATCH
        self._episode = Episode()
        self._undrained = ZTally()
        self._set_reference(reference)

    # -- reference ------------------------------------------------------------------------
    def _set_reference(self, reference: MetricReference | None) -> None:
        self.reference = reference
        self._charts: list[ReferencePageHinkley] = []
        self._standard: Standardisation | None = None
        if reference is None:
            return
        self._standard = Standardisation.of(reference)
        self._centred_lags = deque(maxlen=len(reference.ar))
        self._charts = [
            ReferencePageHinkley(delta=k, threshold=h)
            for k, h in zip(reference.allowances, reference.thresholds, strict=True)
        ]

    def backfill(self, value: float, frames: int) -> None:
        """Count ``frames`` earlier frames that carried ``value`` into the warm-up."""
        if self.reference is None:
            self._warmup_values.extend(array("f", [value]) * frames)

    @property
    def warming_up(self) -> bool:
        return self.reference is None

    @property
    def firing(self) -> bool:
        return self._phase == _FIRING

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
        return list(self._warmup_values)

    # -- updates --------------------------------------------------------------------------
    def update(self, x: float, frame_id: str, at: float) -> DriftEvent | None:
        """Add one frame's value; return an event when the metric fires or resolves."""
        if x != x:  # NaN: nothing measured
            return None
        self._frames_seen += 1
        standard = self._standard
        if standard is None:
            self._warmup_values.append(x)
            if len(self._warmup_values) >= self.config.warmup_frames:
                self._end_warmup()
            return None
        r = x - standard.centre
        ar = standard.ar
        if ar:
            lags = self._centred_lags
            if len(lags) < len(ar):  # the filter needs its lags before its first residual
                lags.append(r)
                return None
            centred = r
            for c, lag in zip(ar, reversed(lags), strict=True):
                r -= c * lag
            lags.append(centred)
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
            z = (math.asin(math.sqrt(rate)) - standard.centre) * standard.z_factor
        else:
            z = block.residual_total / block.frames * standard.z_factor
        self._history.append(block.close(z))
        self._undrained.total += z
        self._undrained.count += 1
        return self._on_block(z, frame_id, at)

    def _end_warmup(self) -> None:
        warm = self._warmup_values
        self._set_reference(estimate_reference(warm, self.config))
        assert self._standard is not None
        ar, centre = self._standard.ar, self._standard.centre
        if ar:  # the warm-up's last values are the filter's first lags
            self._centred_lags.extend(v - centre for v in warm[-len(ar) :])
        self._warmup_values = array("f")

    def _on_block(self, z: float, frame_id: str, at: float) -> DriftEvent | None:
        if self._phase == _WATCH:
            for chart in self._charts:
                chart.update(z)
                if chart.drift_detected:
                    return self._fire(chart, frame_id, at)
            return None
        episode = self._episode
        if self._phase == _FIRING:
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
            self._phase = _WATCH
        return None

    def _change_start(self, allowance: float, sign: int) -> int:
        """Index in history where the CUSUM of sign * (z - allowance) last left zero (at
        least the last block, so evidence is never empty)."""
        best, total, start = 0.0, 0.0, len(self._history) - 1
        for i in range(len(self._history) - 1, -1, -1):
            total += sign * self._history[i].z - allowance
            if total > best:
                best, start = total, i
        return max(start, 0)

    def _evidence(self, start: int) -> tuple[str | None, dict[str, float], list[str]]:
        blocks = list(self._history)[start:]
        if not blocks:
            return None, {}, []
        n = sum(b.frames for b in blocks)
        s = sum(b.total for b in blocks)
        sq = sum(b.total_sq for b in blocks)
        mean = s / n
        std = math.sqrt(max(sq / n - mean * mean, 0.0))
        m = self.config.max_examples
        step = max(1, len(blocks) // m)
        examples = [b.first_frame_id for b in blocks[::step]][:m]
        return blocks[0].first_frame_id, {"mean": mean, "std": std, "n": float(n)}, examples

    def _fire(self, chart: ReferencePageHinkley, frame_id: str, at: float) -> DriftEvent:
        ref, standard, episode = self.reference, self._standard, self._episode
        assert ref is not None and standard is not None
        episode.direction = direction = chart.direction
        start = self._change_start(chart.delta, direction)
        cp, after, examples = self._evidence(start)
        shift = (after["mean"] - ref.mean) / ref.std
        # The resolve chart looks for a return of the size that fired, in z units. A
        # prewhitened z is an innovation (a step shows as one spike, then a small sustained
        # shift), so the size comes from the raw level; an indicator's z is a level already.
        if standard.indicator:
            level = sum(b.z for b in list(self._history)[start:]) * direction
            level /= max(1, len(self._history) - start)
        else:
            level = direction * shift * standard.z_per_sd
        # capped like the charts, so that one block's noise cannot resolve a large change
        episode.resolve_allowance = min(
            max(0.5 * level, self.config.min_resolve_shift * standard.z_per_sd),
            self.config.max_allowance,
        )
        episode.resolve_threshold = cusum_threshold(
            self.config.detector_arl_frames / standard.block_size, episode.resolve_allowance
        )
        episode.resolve_statistic = 0.0
        episode.hold_blocks = -(-len(standard.ar) // standard.block_size)
        episode.fired_frame_id = frame_id
        self._phase = _FIRING
        severity = severity_for(
            shift, self.config.severity_warning_sigma, self.config.severity_critical_sigma
        )
        return self._event("firing", frame_id, at, cp, after, examples, severity)

    def _resolve(self, frame_id: str, at: float) -> DriftEvent:
        episode = self._episode
        start = self._change_start(episode.resolve_allowance, -episode.direction)
        cp, after, examples = self._evidence(start)
        self._phase = _COOLDOWN
        episode.cooldown_until = self._frames_seen + self.config.cooldown_frames
        for chart in self._charts:
            chart._reset()
        return self._event("resolved", frame_id, at, cp, after, examples, "info")

    def _event(
        self,
        status: Literal["firing", "resolved"],
        frame_id: str,
        at: float,
        change_point: str | None,
        after: dict[str, float],
        examples: list[str],
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
            change_point=change_point,
            before={"mean": ref.mean, "std": ref.std, "n": float(ref.n)},
            after=after,
            example_frame_ids=examples,
            severity=severity,
            direction="up" if self._episode.direction > 0 else "down",
            fired_frame_id=self._episode.fired_frame_id,
        )

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
            "warmup_values": _encode(self._warmup_values),
            "frames_seen": self._frames_seen,
            "history": history_state(self._history),
            "open_block": asdict(self._open),
            "centred_lags": list(self._centred_lags),
            "phase": self._phase,
            "episode": asdict(self._episode),
            "undrained_z": asdict(self._undrained),
            "charts": [c.state() for c in self._charts],
        }

    @classmethod
    def from_state(cls, name: str, state: dict[str, Any], config: DriftConfig) -> MetricMonitor:
        ref = state["reference"]
        self = cls(name, config, None if ref is None else MetricReference.model_validate(ref))
        self._warmup_values = _decode(state["warmup_values"])
        self._frames_seen = int(state["frames_seen"])
        self._history.extend(history_from_state(state["history"]))
        block = state["open_block"]
        self._open = OpenBlock(
            first_frame_id=str(block["first_frame_id"]),
            frames=int(block["frames"]),
            total=float(block["total"]),
            total_sq=float(block["total_sq"]),
            residual_total=float(block["residual_total"]),
        )
        self._centred_lags.extend(float(v) for v in state["centred_lags"])
        if state["phase"] not in (_WATCH, _FIRING, _COOLDOWN):
            raise ValueError(f"unknown drift phase {state['phase']!r}")
        self._phase = state["phase"]
        episode = state["episode"]
        self._episode = Episode(
            direction=int(episode["direction"]),
            resolve_allowance=float(episode["resolve_allowance"]),
            resolve_threshold=float(episode["resolve_threshold"]),
            resolve_statistic=float(episode["resolve_statistic"]),
            hold_blocks=int(episode["hold_blocks"]),
            cooldown_until=int(episode["cooldown_until"]),
            fired_frame_id=str(episode["fired_frame_id"]),
        )
        undrained = state["undrained_z"]
        self._undrained = ZTally(float(undrained["total"]), int(undrained["count"]))
        if len(state["charts"]) != len(self._charts):
            raise ValueError("drift state does not match its reference's charts")
        for chart, cs in zip(self._charts, state["charts"], strict=True):
            chart.load_state(cs)
        return self
