"""One statistic of one camera: standardise, block, chart, and manage the alert lifecycle."""

from __future__ import annotations

import math
from array import array
from collections import deque
from typing import Any, Literal

import numpy as np

from detectors.drift.config import DriftConfig
from detectors.drift.cusum import ReferencePageHinkley, cusum_threshold
from detectors.drift.events import DriftEvent, severity_for
from detectors.drift.reference import MetricReference, estimate_reference
from detectors.packing import pack, unpack
from schemas.checks import Severity

DETECTOR = "page_hinkley"
_WATCH, _FIRING, _COOLDOWN = "watch", "firing", "cooldown"


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
        self._warm = array("f")
        self._history: deque[list[Any]] = deque(maxlen=config.history_blocks)
        self._frames = 0
        self._bn = 0
        self._bsum = 0.0
        self._bsq = 0.0
        self._rsum = 0.0
        self._bfirst = ""
        self._lags: deque[float] = deque()
        self._phase = _WATCH
        self._dir = 1
        self._k_res = 0.0
        self._h_res = 0.0
        self._s_res = 0.0
        self._hold = 0
        self._cool_until = 0
        self._fired = ""
        self._zsum = 0.0
        self._zn = 0
        self._set_reference(reference)

    # -- reference ------------------------------------------------------------------------
    def _set_reference(self, reference: MetricReference | None) -> None:
        self.reference = reference
        self._charts: list[ReferencePageHinkley] = []
        if reference is None:
            return
        self._mean = reference.mean
        self._block = reference.block
        self._ar = reference.ar
        self._lags = deque(maxlen=len(reference.ar))
        # z units per reference std of a step in the statistic (the charts' design scale)
        self._scale = reference.std * math.sqrt(reference.block) / reference.lr_std
        self._zscale = math.sqrt(reference.block) / (reference.lr_std * (1.0 - sum(reference.ar)))
        self._indicator = reference.indicator
        if reference.indicator:
            self._zscale *= 2.0 * reference.std
            b = reference.block
            self._mean = math.asin(math.sqrt((reference.mean * b + 0.375) / (b + 0.75)))
        self._charts = [
            ReferencePageHinkley(delta=k, threshold=h)
            for k, h in zip(reference.allowances, reference.thresholds, strict=True)
        ]

    def backfill(self, value: float, frames: int) -> None:
        """Count ``frames`` earlier frames that carried ``value`` into the warm-up."""
        if self.reference is None:
            self._warm.extend(array("f", [value]) * frames)

    @property
    def warming_up(self) -> bool:
        return self.reference is None

    @property
    def firing(self) -> bool:
        return self._phase == _FIRING

    # -- updates --------------------------------------------------------------------------
    def update(self, x: float, frame_id: str, at: float) -> DriftEvent | None:
        """Add one frame's value; return an event when the metric fires or resolves."""
        if x != x:  # NaN: nothing measured
            return None
        self._frames += 1
        if self.reference is None:
            self._warm.append(x)
            if len(self._warm) >= self.config.warmup_frames:
                self._set_reference(estimate_reference(self._warm, self.config))
                if self._ar:  # the warm-up's last values are the filter's first lags
                    self._lags.extend(v - self._mean for v in self._warm[-len(self._ar) :])
                self._warm = array("f")
            return None
        r = x - self._mean
        if self._ar:
            lags = self._lags
            if len(lags) < len(self._ar):  # the filter needs its lags before its first residual
                lags.append(r)
                return None
            y = r
            for c, lag in zip(self._ar, reversed(lags), strict=True):
                r -= c * lag
            lags.append(y)
        if self._bn == 0:
            self._bfirst = frame_id
        self._bn += 1
        self._bsum += x
        self._bsq += x * x
        self._rsum += r
        if self._bn < self._block:
            return None
        if self._indicator:  # Anscombe's arcsine: near-Gaussian tails for counts
            m = math.asin(math.sqrt(min(max(self._bsum + 0.375, 0.0) / (self._bn + 0.75), 1.0)))
            z = (m - self._mean) * self._zscale
        else:
            z = self._rsum / self._bn * self._zscale
        self._history.append([self._bfirst, self._bn, self._bsum, self._bsq, z])
        self._bn = 0
        self._bsum = 0.0
        self._bsq = 0.0
        self._rsum = 0.0
        self._zsum += z
        self._zn += 1
        return self._on_block(z, frame_id, at)

    def _on_block(self, z: float, frame_id: str, at: float) -> DriftEvent | None:
        if self._phase == _WATCH:
            for chart in self._charts:
                chart.update(z)
                if chart.drift_detected:
                    return self._fire(chart, frame_id, at)
            return None
        if self._phase == _FIRING:
            if self._hold > 0:  # the residual filter still remembers frames before the change
                self._hold -= 1
                return None
            self._s_res = max(0.0, self._s_res + self._k_res - self._dir * z)
            if self._s_res > self._h_res:
                return self._resolve(frame_id, at)
            return None
        if self._frames >= self._cool_until:
            self._phase = _WATCH
        return None

    def _since(self, k: float, sign: int) -> int:
        """Index in history where the CUSUM of sign * (z - k) last left zero (at least the
        last block, so evidence is never empty)."""
        best, total, start = 0.0, 0.0, len(self._history) - 1
        for i in range(len(self._history) - 1, -1, -1):
            total += sign * self._history[i][4] - k
            if total > best:
                best, start = total, i
        return max(start, 0)

    def _evidence(self, start: int) -> tuple[str | None, dict[str, float], list[str]]:
        blocks = list(self._history)[start:]
        if not blocks:
            return None, {}, []
        n = sum(b[1] for b in blocks)
        s = sum(b[2] for b in blocks)
        sq = sum(b[3] for b in blocks)
        mean = s / n
        std = math.sqrt(max(sq / n - mean * mean, 0.0))
        m = self.config.max_examples
        step = max(1, len(blocks) // m)
        examples = [b[0] for b in blocks[::step]][:m]
        return blocks[0][0], {"mean": mean, "std": std, "n": float(n)}, examples

    def _fire(self, chart: ReferencePageHinkley, frame_id: str, at: float) -> DriftEvent:
        ref = self.reference
        assert ref is not None
        self._dir = chart.direction
        start = self._since(chart.delta, self._dir)
        cp, after, examples = self._evidence(start)
        shift = (after["mean"] - ref.mean) / ref.std
        # The resolve chart looks for a return of the size that fired, in z units. A
        # prewhitened z is an innovation (a step shows as one spike, then a small sustained
        # shift), so the size comes from the raw level; an indicator's z is a level already.
        if self._indicator:
            level = sum(b[4] for b in list(self._history)[start:]) * self._dir
            level /= max(1, len(self._history) - start)
        else:
            level = self._dir * shift * self._scale
        # capped like the charts, so that one block's noise cannot resolve a large change
        self._k_res = min(
            max(0.5 * level, self.config.min_resolve_shift * self._scale), self.config.max_allowance
        )
        self._h_res = cusum_threshold(self.config.detector_arl_frames / self._block, self._k_res)
        self._s_res = 0.0
        self._hold = -(-len(self._ar) // self._block)
        self._phase = _FIRING
        self._fired = frame_id
        severity = severity_for(
            shift, self.config.severity_warning_sigma, self.config.severity_critical_sigma
        )
        return self._event("firing", frame_id, at, cp, after, examples, severity)

    def _resolve(self, frame_id: str, at: float) -> DriftEvent:
        start = self._since(self._k_res, -self._dir)
        cp, after, examples = self._evidence(start)
        self._phase = _COOLDOWN
        self._cool_until = self._frames + self.config.cooldown_frames
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
            direction="up" if self._dir > 0 else "down",
            fired_frame_id=self._fired,
        )

    def drain_z(self) -> tuple[float, int]:
        """Sum and count of standardised block values since the last drain (fleet input)."""
        out = (self._zsum, self._zn)
        self._zsum, self._zn = 0.0, 0
        return out

    # -- state ----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "reference": None if self.reference is None else self.reference.model_dump(mode="json"),
            "warm": _encode(self._warm),
            "history": [list(b) for b in self._history],
            "frames": self._frames,
            "block": [self._bn, self._bsum, self._bsq, self._rsum, self._bfirst],
            "lags": list(self._lags),
            "phase": self._phase,
            "resolve": [
                self._dir,
                self._k_res,
                self._h_res,
                self._s_res,
                self._hold,
                self._cool_until,
                self._fired,
            ],
            "z": [self._zsum, self._zn],
            "charts": [c.state() for c in self._charts],
        }

    @classmethod
    def from_state(cls, name: str, state: dict[str, Any], config: DriftConfig) -> MetricMonitor:
        ref = state["reference"]
        self = cls(name, config, None if ref is None else MetricReference.model_validate(ref))
        self._warm = _decode(state["warm"])
        self._history.extend(
            [str(b[0]), int(b[1]), float(b[2]), float(b[3]), float(b[4])] for b in state["history"]
        )
        self._frames = int(state["frames"])
        bn, bsum, bsq, rsum, bfirst = state["block"]
        self._bn, self._bsum, self._bsq, self._rsum, self._bfirst = (
            int(bn),
            float(bsum),
            float(bsq),
            float(rsum),
            str(bfirst),
        )
        self._lags.extend(float(v) for v in state["lags"])
        if state["phase"] not in (_WATCH, _FIRING, _COOLDOWN):
            raise ValueError(f"unknown drift phase {state['phase']!r}")
        self._phase = state["phase"]
        d, k, h, s, hold, cool, fired = state["resolve"]
        self._dir, self._k_res, self._h_res, self._s_res = int(d), float(k), float(h), float(s)
        self._hold = int(hold)
        self._cool_until, self._fired = int(cool), str(fired)
        self._zsum, self._zn = float(state["z"][0]), int(state["z"][1])
        if len(state["charts"]) != len(self._charts):
            raise ValueError("drift state does not match its reference's charts")
        for chart, cs in zip(self._charts, state["charts"], strict=True):
            chart.load_state(cs)
        return self
