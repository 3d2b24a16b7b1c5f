"""Relabel routing: one request per flagged frame, a priority, and a per-camera budget.

* :func:`request_id` — a UUID-5 of ``camera_id`` and ``frame_id``: a redelivered frame gives
  the same id, so consumers de-duplicate.
* :func:`priority` — the reasons combined as a weighted noisy-OR,
  ``1 - prod(1 - w_check * score)``: one strong reason is enough, several weak ones add up,
  the result stays in [0, 1]. The weights (:data:`RELABEL_WEIGHTS`) say how much a check
  says about the *labels*: label checks 1, model-uncertainty checks less, image and
  sequence checks little (:data:`QUALITY_WEIGHT`: a dark frame needs a camera fix more than
  a label, but a person should still see it, at the lowest priority). Weight 0: never routed.
* :class:`RelabelBudget` — at most ``per_hour`` requests per camera per hour, spent on the
  highest-priority frames, deciding each frame when it arrives (no look-ahead):

  1. A decayed histogram of recent priorities (half-life ``window_s``) estimates how many
     flagged frames arrive per window and how their priorities are spread.
  2. The adaptive cut-off is the priority above which the expected arrivals fit the budget:
     the ``1 - budget / arrivals`` quantile of that histogram (0 when the budget exceeds the
     arrivals). A frame is admitted when its priority reaches the cut-off…
  3. …and a token bucket (``per_hour`` tokens an hour, at most ``burst`` saved) holds; it
     makes the budget a hard cap when the cut-off is still learning or the mix shifts.

  Frames above the cut-off are the top ``budget / arrivals`` share of the stream, so the
  budget goes to the highest-priority frames without holding any frame back.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from framegate.schemas import Check, Frame, Issue, Prediction, RelabelRequest

__all__ = ["RELABEL_WEIGHTS", "RelabelBudget", "build_request", "priority", "request_id"]

_NAMESPACE = uuid.UUID("6f1c1d0e-5a7b-4f0e-9d43-6672616d6567")  # framegate relabel requests

#: How much each check says about a frame's labels (0: never a reason to relabel).
RELABEL_WEIGHTS: Mapping[Check, float] = {
    Check.LABEL_DISAGREEMENT: 1.0,
    Check.CLASS_SWAP: 1.0,
    Check.MISSED_OBJECT: 0.9,
    Check.OUTLIER: 0.7,
    Check.LOW_CONFIDENCE: 0.6,
    Check.HIGH_ENTROPY: 0.5,
    Check.ANNOTATION_NEAR_BORDER: 0.3,
    Check.TINY_BOX: 0.3,
    Check.DUPLICATE_BOX: 0.5,
}
#: The weight of every image and sequence check (dark, blurry, frozen, ...).
QUALITY_WEIGHT = 0.2
RELABEL_WEIGHTS = {**{check: QUALITY_WEIGHT for check in Check}, **RELABEL_WEIGHTS}


def request_id(camera_id: str, frame_id: str) -> str:
    """Deterministic request id of a frame.

    >>> request_id("cam-1", "f-42") == request_id("cam-1", "f-42")
    True
    >>> request_id("cam-1", "f-42") != request_id("cam-2", "f-42")
    True
    """
    return str(uuid.uuid5(_NAMESPACE, f"{len(camera_id)}:{camera_id}/{frame_id}"))


def priority(reasons: Sequence[Issue], weights: Mapping[Check, float] | None = None) -> float:
    """Noisy-OR of the weighted scores; 0 when no reason is worth a relabel.

    >>> from framegate.detectors.issues import build_issue
    >>> a = build_issue(Check.LABEL_DISAGREEMENT, 0.8, 0.5, "", critical_at=0.75)
    >>> b = build_issue(Check.LOW_CONFIDENCE, 0.5, 0.5, "", critical_at=0.75)
    >>> round(priority([a]), 3), round(priority([a, b]), 3), priority([])
    (0.8, 0.86, 0.0)
    """
    w = RELABEL_WEIGHTS if weights is None else weights
    keep = 1.0
    for issue in reasons:
        keep *= 1.0 - min(1.0, max(0.0, w.get(issue.check, 0.0) * issue.score))
    return float(min(1.0, max(0.0, 1.0 - keep)))


def build_request(
    frame: Frame,
    reasons: Sequence[Issue],
    *,
    prediction: Prediction | None = None,
    weights: Mapping[Check, float] | None = None,
) -> RelabelRequest | None:
    """The request for a flagged frame, or ``None`` when no reason is worth a relabel.

    Only the reasons with a positive weight are carried; the image is referenced as the
    frame did (inline data or a URI).
    """
    w = RELABEL_WEIGHTS if weights is None else weights
    kept = sorted(
        (r for r in reasons if w.get(r.check, 0.0) > 0),
        key=lambda r: -w.get(r.check, 0.0) * r.score,
    )
    p = priority(kept, w)
    if not kept or p <= 0:
        return None
    return RelabelRequest(
        request_id=request_id(frame.camera_id, frame.frame_id),
        frame_id=frame.frame_id,
        camera_id=frame.camera_id,
        captured_at=frame.captured_at,
        image=frame.image,
        reasons=kept,
        priority=p,
        prediction=prediction,
        annotations=frame.annotations,
    )


class RelabelBudget:
    """One camera's relabel budget: admit the highest-priority frames, ``per_hour`` at most.

    Parameters
    ----------
    per_hour
        Requests per hour, on average and (with ``burst``) at most.
    burst
        Tokens that can be saved up; ``None``: a tenth of an hour's budget, at least 1.
    window_s
        Half-life (seconds) of the priority histogram: how fast the cut-off follows changes.
    bins
        Resolution of the priority histogram over [0, 1].

    State: ``bins + 4`` numbers, under 1 KB of JSON.

    Examples
    --------
    >>> budget = RelabelBudget(per_hour=60)  # one a minute
    >>> rng = np.random.default_rng(0)
    >>> admitted = [p for t in range(3600 * 3) if budget.offer(p := float(rng.random()), now=t)]
    >>> len(admitted) <= 3 * 60 + budget.burst
    True
    >>> float(np.mean(admitted)) > 0.95  # the budget went to the top priorities
    True
    """

    def __init__(
        self,
        *,
        per_hour: float = 60.0,
        burst: float | None = None,
        window_s: float = 3600.0,
        bins: int = 50,
    ) -> None:
        if per_hour <= 0:
            raise ValueError(f"per_hour must be positive, got {per_hour}")
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        if bins < 2:
            raise ValueError(f"bins must be at least 2, got {bins}")
        self.per_hour = float(per_hour)
        self.burst = float(max(1.0, per_hour / 10.0) if burst is None else burst)
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self.window_s = float(window_s)
        self.bins = int(bins)
        self._reset()

    def _reset(self) -> None:
        self._hist = np.zeros(self.bins)
        self._tokens = self.burst
        self._first: float | None = None
        self._last: float | None = None

    # -- internals ----------------------------------------------------------------------
    def _advance(self, now: float) -> None:
        if self._first is None:
            self._first = self._last = float(now)
            return
        dt = float(now) - self._last
        if dt <= 0:  # out of order or same instant: no time passes
            return
        self._hist *= 0.5 ** (dt / self.window_s)
        self._tokens = min(self.burst, self._tokens + dt * self.per_hour / 3600.0)
        self._last = float(now)

    def _bin(self, p: float) -> int:
        return min(int(min(max(p, 0.0), 1.0) * self.bins), self.bins - 1)

    # -- reading ------------------------------------------------------------------------
    @property
    def cutoff(self) -> float:
        """The priority a frame needs now (before the token bucket)."""
        total = float(self._hist.sum())
        if total <= 0 or self._first is None:
            return 0.0
        # the histogram's decayed mass is the arrivals of the last ~window_s/ln2 seconds
        # (of the time elapsed, early on); the budget over that same span. The span is at
        # least a tenth of the window: a handful of first frames says little about the rate,
        # and the token bucket caps the start anyway.
        tau = self.window_s / math.log(2.0)
        span = tau * (1.0 - math.exp(-(self._last - self._first) / tau))
        allowed = self.per_hour * max(span, self.window_s / 10.0) / 3600.0
        share = allowed / total
        if share >= 1.0:
            return 0.0
        # the (1 - share) quantile, interpolated inside its bin
        above = np.cumsum(self._hist[::-1])[::-1]  # mass at or above each bin
        need = share * total
        b = int(np.flatnonzero(above >= need)[-1])
        in_bin = self._hist[b]
        above_next = above[b] - in_bin
        frac = (need - above_next) / in_bin if in_bin > 0 else 1.0
        return float(min(1.0, (b + 1 - frac) / self.bins))

    # -- update -------------------------------------------------------------------------
    def offer(self, priority: float, *, now: float) -> bool:
        """Offer one flagged frame at time ``now`` (epoch seconds); ``True`` means send it.

        Re-offering the same frame (a redelivery) counts it twice in the statistics but
        the request id is the same, so at most one request is ever acted on downstream.
        """
        self._advance(now)
        self._hist[self._bin(priority)] += 1.0
        if priority <= 0 or priority < self.cutoff or self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    # -- persistence --------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "per_hour": self.per_hour,
            "burst": self.burst,
            "window_s": self.window_s,
            "bins": self.bins,
            "hist": self._hist.tolist(),
            "tokens": self._tokens,
            "first": self._first,
            "last": self._last,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RelabelBudget:
        b = cls(
            per_hour=state["per_hour"],
            burst=state["burst"],
            window_s=state["window_s"],
            bins=state["bins"],
        )
        b._hist = np.asarray(state["hist"], dtype=np.float64)
        b._tokens = float(state["tokens"])
        b._first, b._last = state["first"], state["last"]
        return b
