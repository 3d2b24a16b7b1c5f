"""Checks on the fleet model's own output: ``low_confidence``, ``high_entropy``, class frequencies.

Measure, score, flag:

* :func:`confidence` and :func:`normalized_entropy` measure a
  :class:`~framegate.schemas.Prediction`;
* :func:`low_confidence` / :func:`high_entropy` map them to a score in [0, 1] (1 = bad) and
  return an :class:`~framegate.schemas.Issue` when the score reaches the threshold
  (:func:`~framegate.detectors.issues.build_issue`; ``critical`` half-way from the
  threshold to 1, as these thresholds have no policy entry);
* :class:`ClassFrequency` tracks, per camera, how often each class is predicted (a fast and a
  slow exponential average) and exposes one drift-ready number, :attr:`ClassFrequency.shift`.

Classification predictions are measured on their ``classes``. Detection predictions are
measured on their boxes' scores (each box a yes/no decision): confidence is the mean box
score, entropy the mean binary entropy; a frame with no boxes is not measured.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from framegate.detectors.issues import build_issue, halfway_to_certain
from framegate.schemas import Check, Issue, Prediction

__all__ = [
    "ClassFrequency",
    "PredictionThresholds",
    "check_prediction",
    "confidence",
    "high_entropy",
    "low_confidence",
    "normalized_entropy",
]


class PredictionThresholds(BaseModel):
    """Default thresholds of the prediction checks (the table a reviewer reads)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_confidence: float = Field(
        default=0.5, ge=0.0, le=1.0, description="low_confidence below this top probability"
    )
    max_entropy: float = Field(
        default=0.8, ge=0.0, le=1.0, description="high_entropy above this entropy / log(classes)"
    )


def _probabilities(prediction: Prediction) -> np.ndarray | None:
    if prediction.classes is not None:
        return np.fromiter(prediction.classes.values(), dtype=np.float64)
    return None


def confidence(prediction: Prediction) -> float | None:
    """Top class probability, or the mean box score; ``None`` for a detection with no boxes."""
    probs = _probabilities(prediction)
    if probs is not None:
        return float(probs.max())
    scores = [d.score for d in prediction.detections or []]
    return float(np.mean(scores)) if scores else None


def normalized_entropy(prediction: Prediction) -> float | None:
    """Shannon entropy divided by its maximum, in [0, 1].

    Classification: over the classes given (renormalised; the maximum is ``log(n)``, and a
    single class with probability ``p`` is read as ``{label: p, other: 1 - p}``).
    Detection: the mean binary entropy of the box scores (in bits).
    """
    probs = _probabilities(prediction)
    if probs is not None:
        if probs.size == 1:
            probs = np.array([probs[0], 1.0 - probs[0]])
        total = probs.sum()
        if total <= 0:
            return 1.0
        p = probs / total
        nz = p[p > 0]
        return float(min(1.0, -(nz * np.log(nz)).sum() / math.log(p.size)))
    scores = np.array([d.score for d in prediction.detections or []], dtype=np.float64)
    if scores.size == 0:
        return None
    s = np.clip(scores, 1e-12, 1 - 1e-12)
    return float(np.mean(-(s * np.log2(s) + (1 - s) * np.log2(1 - s))))


def low_confidence(prediction: Prediction, *, min_confidence: float = 0.5) -> Issue | None:
    """``low_confidence`` when the confidence is below ``min_confidence``.

    Score ``1 - confidence``, threshold ``1 - min_confidence``.

    Examples
    --------
    >>> p = Prediction(frame_id="f", camera_id="c", model="m", classes={"cat": 0.4, "dog": 0.35})
    >>> low_confidence(p).detail
    "top class 'cat' at 0.40, below 0.50"
    """
    conf = confidence(prediction)
    if conf is None or conf >= min_confidence:
        return None
    if prediction.classes is not None:
        top = max(prediction.classes, key=prediction.classes.__getitem__)
        detail = f"top class {top!r} at {conf:.2f}, below {min_confidence:.2f}"
    else:
        detail = (
            f"mean score of {len(prediction.detections or [])} detections {conf:.2f}, "
            f"below {min_confidence:.2f}"
        )
    threshold = 1.0 - min_confidence
    return build_issue(
        Check.LOW_CONFIDENCE,
        1.0 - conf,
        threshold,
        detail,
        critical_at=halfway_to_certain(threshold),
    )


def high_entropy(prediction: Prediction, *, max_entropy: float = 0.8) -> Issue | None:
    """``high_entropy`` when the normalised entropy exceeds ``max_entropy`` (score = entropy).

    Examples
    --------
    >>> p = Prediction(frame_id="f", camera_id="c", model="m",
    ...                classes={"a": 0.34, "b": 0.33, "c": 0.33})
    >>> high_entropy(p).score > 0.99
    True
    """
    ent = normalized_entropy(prediction)
    if ent is None or ent <= max_entropy:
        return None
    if prediction.classes is not None:
        n, what = len(prediction.classes), "classes"
    else:
        n, what = len(prediction.detections or []), "detections"
    return build_issue(
        Check.HIGH_ENTROPY,
        ent,
        max_entropy,
        f"normalised entropy {ent:.2f} over {n} {what}, above {max_entropy:.2f}",
        critical_at=halfway_to_certain(max_entropy),
    )


def check_prediction(
    prediction: Prediction, thresholds: PredictionThresholds | None = None
) -> list[Issue]:
    """Both checks with one set of thresholds; the issues that fired."""
    t = thresholds or PredictionThresholds()
    found = (
        low_confidence(prediction, min_confidence=t.min_confidence),
        high_entropy(prediction, max_entropy=t.max_entropy),
    )
    return [issue for issue in found if issue is not None]


class ClassFrequency:
    """How often each class is predicted on one camera: a fast and a slow moving average.

    Each frame contributes its class distribution (classification: the probabilities; detection:
    the share of boxes per label at or above ``min_score``). The averages forget with the
    given half-lives, in frames. :attr:`shift` is the total-variation distance between the
    fast and the slow average: near 0 while the mix is stable, up to 1 after a change —
    a scalar the drift detectors can watch.

    At most ``max_classes`` labels are tracked; the rarest are folded into ``"__other__"``.
    State: about ``max_classes * 2`` numbers (~4 KB of JSON at the default 64 classes).

    Parameters
    ----------
    fast_half_life, slow_half_life
        Half-lives of the two averages, in frames (fast < slow).
    max_classes
        Most labels tracked.
    min_score
        Detection boxes below this score are not counted.

    Examples
    --------
    >>> freq = ClassFrequency(fast_half_life=5, slow_half_life=50)
    >>> def pred(label): return Prediction(frame_id="f", camera_id="c", model="m",
    ...                                    classes={label: 0.9})
    >>> for _ in range(100): freq.update(pred("car"))
    >>> round(freq.shift, 3)
    0.0
    >>> for _ in range(10): freq.update(pred("person"))
    >>> freq.shift > 0.5
    True
    """

    OTHER = "__other__"

    def __init__(
        self,
        *,
        fast_half_life: float = 50.0,
        slow_half_life: float = 2000.0,
        max_classes: int = 64,
        min_score: float = 0.5,
    ) -> None:
        if not 0 < fast_half_life < slow_half_life:
            raise ValueError("need 0 < fast_half_life < slow_half_life")
        if max_classes < 2:
            raise ValueError(f"max_classes must be at least 2, got {max_classes}")
        self.fast_half_life = float(fast_half_life)
        self.slow_half_life = float(slow_half_life)
        self.max_classes = int(max_classes)
        self.min_score = float(min_score)
        self._reset()

    def _reset(self) -> None:
        self._fast: dict[str, float] = {}
        self._slow: dict[str, float] = {}
        self._n = 0

    def observation(self, prediction: Prediction) -> dict[str, float]:
        """This frame's class distribution (sums to 1, or empty when nothing was predicted)."""
        if prediction.classes is not None:
            total = sum(prediction.classes.values())
            return {k: v / total for k, v in prediction.classes.items()} if total > 0 else {}
        labels = [d.label for d in prediction.detections or [] if d.score >= self.min_score]
        if not labels:
            return {}
        share = 1.0 / len(labels)
        out: dict[str, float] = {}
        for label in labels:
            out[label] = out.get(label, 0.0) + share
        return out

    def update(self, prediction: Prediction) -> None:
        """Fold one frame in; a frame with nothing predicted is skipped."""
        obs = self.observation(prediction)
        if not obs:
            return
        self._n += 1
        mapped: dict[str, float] = {}
        for key, value in obs.items():
            if key not in self._slow and key not in mapped and not self._room_for_new():
                key = self.OTHER
            mapped[key] = mapped.get(key, 0.0) + value
            self._slow.setdefault(key, 0.0)
            self._fast.setdefault(key, 0.0)
        pairs = ((self._fast, self.fast_half_life), (self._slow, self.slow_half_life))
        for avg, half_life in pairs:
            # bias-corrected average: weight 1/n at first, then the half-life's rate
            rate = max(1.0 - 0.5 ** (1.0 / half_life), 1.0 / self._n)
            for key in avg:
                avg[key] = (1.0 - rate) * avg[key] + rate * mapped.get(key, 0.0)

    def _room_for_new(self) -> bool:
        # Room for one more label (one slot is kept for "__other__"); when full, the rarest
        # label is folded into "__other__" if it has become negligible (< 0.1 %).
        if len(self._slow) - (self.OTHER in self._slow) < self.max_classes - 1:
            return True
        rarest = min((k for k in self._slow if k != self.OTHER), key=self._slow.__getitem__)
        if self._slow[rarest] >= 1e-3:
            return False
        for avg in (self._fast, self._slow):
            avg[self.OTHER] = avg.get(self.OTHER, 0.0) + avg.pop(rarest, 0.0)
        return True

    @property
    def frequencies(self) -> dict[str, float]:
        """The slow average: the camera's usual class mix."""
        return dict(self._slow)

    @property
    def shift(self) -> float:
        """Total-variation distance between the recent and the usual class mix, in [0, 1]."""
        keys = self._fast.keys() | self._slow.keys()
        tv = 0.5 * sum(abs(self._fast.get(k, 0.0) - self._slow.get(k, 0.0)) for k in keys)
        return float(min(1.0, tv))

    def state(self) -> dict[str, Any]:
        return {
            "fast_half_life": self.fast_half_life,
            "slow_half_life": self.slow_half_life,
            "max_classes": self.max_classes,
            "min_score": self.min_score,
            "n": self._n,
            "fast": dict(self._fast),
            "slow": dict(self._slow),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ClassFrequency:
        freq = cls(
            fast_half_life=state["fast_half_life"],
            slow_half_life=state["slow_half_life"],
            max_classes=state["max_classes"],
            min_score=state["min_score"],
        )
        freq._n = int(state["n"])
        freq._fast = {str(k): float(v) for k, v in state["fast"].items()}
        freq._slow = {str(k): float(v) for k, v in state["slow"].items()}
        return freq
