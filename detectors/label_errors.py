"""Likely label errors, from a frame's ground-truth ``annotations`` and the model's prediction.

Classification — :class:`ConfidentLearning` (``label_disagreement``)
    Confident learning (Northcutt et al., 2021) made online. Per class ``j`` the threshold
    ``t_j`` is the mean probability the model gives ``j`` on frames labelled ``j`` (a running
    mean, so it follows the model and the camera). A frame labelled ``y`` counts for class
    ``j`` when ``p_j >= t_j`` (the most probable such ``j``); the share of ``y`` frames that
    count for another class estimates ``y``'s noise rate ``rho_y``, and the frames whose
    self-confidence ``p_y`` is among the lowest ``rho_y`` of the class (and whose top class
    is not ``y``) are flagged — cleanlab's ``prune_by_class``, streamed. Scores:
    self-confidence ``p_y`` and normalised margin ``p_y - max_{j != y} p_j``; the issue's
    score is ``(1 - margin) / 2``.

Detection — :func:`detection_label_issues`
    Predicted boxes at or above ``min_score`` are matched to label boxes by IoU:

    * ``missed_object``: a confident prediction that overlaps no label box (IoU below
      ``overlap_iou``): an object nobody labelled;
    * ``class_swap``: a label box matched (IoU >= ``match_iou``) by a confident prediction of
      another class and by none of its own;
    * ``label_disagreement`` (badly located box): a label box whose best same-class confident
      prediction overlaps it only partly (``overlap_iou <= IoU < match_iou``).

References
----------
Northcutt, Jiang, Chuang. "Confident Learning: Estimating Uncertainty in Dataset Labels",
JAIR 70 (2021). https://arxiv.org/abs/1911.00068
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from framegate.detectors.annotations import box_iou
from framegate.detectors.issues import build_issue, halfway_to_certain
from framegate.schemas import Annotation, Check, Detection, Issue

__all__ = ["ConfidentLearning", "LabelScore", "detection_label_issues", "image_label"]


@dataclass(frozen=True, slots=True)
class LabelScore:
    """How one classification label fares against the model's probabilities."""

    label: str
    self_confidence: float  # p_y
    normalized_margin: float  # p_y - max_{j != y} p_j, in [-1, 1]
    suggested: str | None  # the confidently predicted class when it is not the label
    is_issue: bool

    @property
    def score(self) -> float:
        """``(1 - margin) / 2`` in [0, 1]: 0.5 when the label ties the best other class."""
        return (1.0 - self.normalized_margin) / 2.0


class ConfidentLearning:
    """Online confident learning for one camera; flags likely label errors.

    Per class ``y`` it keeps: the threshold ``t_y`` (running mean of ``p_y`` on frames
    labelled ``y``); how many of those frames had a confident class (some ``p_j >= t_j``)
    and how many of these were confidently another class — their ratio ``rho_y`` is the
    class's estimated label-noise rate (a row of cleanlab's confident joint); and a
    histogram of the self-confidence ``p_y``. A frame labelled ``y`` is a likely error when
    the model's top class is not ``y`` and its self-confidence is among the lowest
    ``rho_y`` of its class (``F_y(p_y) <= rho_y``): cleanlab's ``prune_by_class``, with the
    count of frames to prune per class turned into a streaming quantile.

    Parameters
    ----------
    memory
        Statistics are running averages over about this many frames per class.
    min_count
        Frames a class needs before it is judged (and before its threshold is used).
    max_classes
        Most classes tracked (bounds the state): beyond it new labels are not learned.
    bins
        Resolution of the self-confidence histogram.

    State: ``bins + 4`` numbers per class, about 400 bytes of JSON at 32 bins
    (4 KB for 10 classes, 400 KB for 1000).

    Examples
    --------
    >>> cl = ConfidentLearning(min_count=3)
    >>> for i in range(20):
    ...     cl.update("cat", {"cat": 0.9, "dog": 0.1})
    ...     cl.update("dog", {"cat": 0.2, "dog": 0.8})
    >>> cl.update("cat", {"cat": 0.1, "dog": 0.9})  # some cats look like dogs
    >>> issue = cl.check("cat", {"cat": 0.05, "dog": 0.95})
    >>> issue.check.value
    'label_disagreement'
    >>> print(issue.detail)  # doctest: +NORMALIZE_WHITESPACE
    labelled 'cat' (p=0.05, lowest 0% of its class; estimated noise 5%)
    but the model predicts 'dog' (p=0.95)
    >>> cl.check("cat", {"cat": 0.7, "dog": 0.3}) is None
    True
    """

    def __init__(
        self, *, memory: int = 10_000, min_count: int = 10, max_classes: int = 1000, bins: int = 32
    ) -> None:
        if memory < 1:
            raise ValueError(f"memory must be at least 1, got {memory}")
        if min_count < 1:
            raise ValueError(f"min_count must be at least 1, got {min_count}")
        if max_classes < 2:
            raise ValueError(f"max_classes must be at least 2, got {max_classes}")
        if bins < 2:
            raise ValueError(f"bins must be at least 2, got {bins}")
        self.memory = int(memory)
        self.min_count = int(min_count)
        self.max_classes = int(max_classes)
        self.bins = int(bins)
        self._reset()

    def _reset(self) -> None:
        # label -> [mean p_y, frames, frames with a confident class, of which another class]
        self._stats: dict[str, list[float]] = {}
        self._hist: dict[str, np.ndarray] = {}

    def threshold(self, label: str) -> float | None:
        """``t_label``, or ``None`` while the class has fewer than ``min_count`` frames."""
        st = self._stats.get(label)
        return None if st is None or st[1] < self.min_count else st[0]

    @property
    def thresholds(self) -> dict[str, float]:
        """Every usable per-class threshold."""
        return {k: st[0] for k, st in self._stats.items() if st[1] >= self.min_count}

    def noise_rate(self, label: str) -> float | None:
        """Estimated share of wrong labels among frames labelled ``label``."""
        st = self._stats.get(label)
        if st is None or st[1] < self.min_count or st[2] <= 0:
            return None
        return st[3] / st[2]

    def _rank(self, label: str, p_y: float) -> float:
        # F_y(p_y): share of the class's frames with a self-confidence at or below p_y
        hist = self._hist[label]
        pos = min(max(p_y, 0.0), 1.0) * self.bins
        b = min(int(pos), self.bins - 1)
        below = hist[:b].sum() + hist[b] * (pos - b)
        total = hist.sum()
        return float(below / total) if total > 0 else 1.0

    def _confident_class(self, probabilities: Mapping[str, float]) -> str | None:
        best, best_p = None, -1.0
        for k, p in probabilities.items():
            t = self.threshold(k)
            if t is not None and p >= t and p > best_p:
                best, best_p = k, float(p)
        return best

    # -- measure ------------------------------------------------------------------------
    def score(self, label: str, probabilities: Mapping[str, float]) -> LabelScore:
        """Measure one labelled frame against the current statistics; no update."""
        p_y = float(probabilities.get(label, 0.0))
        top = max(probabilities, key=probabilities.__getitem__)
        best_other = max((float(p) for k, p in probabilities.items() if k != label), default=0.0)
        suggested = None
        rho = self.noise_rate(label)
        if top != label and rho is not None and self._rank(label, p_y) <= rho:
            suggested = top
        return LabelScore(label, p_y, p_y - best_other, suggested, suggested is not None)

    def check(self, label: str, probabilities: Mapping[str, float]) -> Issue | None:
        """``label_disagreement`` when the label is a likely error; no update."""
        s = self.score(label, probabilities)
        if not s.is_issue:
            return None
        return build_issue(
            Check.LABEL_DISAGREEMENT,
            s.score,
            0.5,
            f"labelled {label!r} (p={s.self_confidence:.2f}, lowest "
            f"{self._rank(label, s.self_confidence):.0%} of its class; estimated noise "
            f"{self.noise_rate(label):.0%}) but the model predicts {s.suggested!r} "
            f"(p={float(probabilities[s.suggested]):.2f})",
            critical_at=halfway_to_certain(0.5),
        )

    # -- update -------------------------------------------------------------------------
    def update(self, label: str, probabilities: Mapping[str, float]) -> None:
        """Fold one labelled frame into its class's statistics."""
        st = self._stats.get(label)
        if st is None:
            if len(self._stats) >= self.max_classes:
                return
            st = self._stats[label] = [0.0, 0, 0.0, 0.0]
            self._hist[label] = np.zeros(self.bins)
        p_y = float(probabilities.get(label, 0.0))
        st[1] += 1
        st[0] += (p_y - st[0]) / min(st[1], self.memory)
        confident = self._confident_class(probabilities)
        if confident is not None:
            st[2] += 1.0
            st[3] += float(confident != label)
            if st[2] > self.memory:  # forget: a running ratio over about `memory` frames
                scale = self.memory / st[2]
                st[2] *= scale
                st[3] *= scale
        hist = self._hist[label]
        hist[min(int(min(max(p_y, 0.0), 1.0) * self.bins), self.bins - 1)] += 1.0
        total = hist.sum()
        if total > self.memory:
            hist *= self.memory / total

    def observe(self, label: str, probabilities: Mapping[str, float]) -> Issue | None:
        """Update with this frame, then check it (as cleanlab does, every frame counts
        towards the statistics it is judged by)."""
        self.update(label, probabilities)
        return self.check(label, probabilities)

    # -- persistence --------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "memory": self.memory,
            "min_count": self.min_count,
            "max_classes": self.max_classes,
            "bins": self.bins,
            "classes": {k: [*st, self._hist[k].tolist()] for k, st in self._stats.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ConfidentLearning:
        cl = cls(
            memory=state["memory"],
            min_count=state["min_count"],
            max_classes=state["max_classes"],
            bins=state["bins"],
        )
        for k, (mean, count, n_conf, n_off, hist) in state["classes"].items():
            cl._stats[str(k)] = [float(mean), int(count), float(n_conf), float(n_off)]
            cl._hist[str(k)] = np.asarray(hist, dtype=np.float64)
        return cl


# -- detection ---------------------------------------------------------------------------
def _fmt_box(box: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:.0f}" for v in box) + "]"


def _summarise(check: Check, found: list[tuple[float, str]], threshold: float) -> Issue:
    found.sort(key=lambda t: -t[0])
    shown = "; ".join(text for _, text in found[:3])
    more = f"; and {len(found) - 3} more" if len(found) > 3 else ""
    return build_issue(
        check, found[0][0], threshold, shown + more, critical_at=halfway_to_certain(threshold)
    )


def detection_label_issues(
    annotations: Sequence[Annotation],
    detections: Sequence[Detection],
    *,
    min_score: float = 0.5,
    match_iou: float = 0.5,
    overlap_iou: float = 0.1,
) -> list[Issue]:
    """``missed_object``, ``class_swap`` and badly located boxes (``label_disagreement``).

    At most one issue per check; its score is the worst case and its detail names up to
    three boxes. Annotations without a box (whole-image labels) are ignored here.

    Parameters
    ----------
    min_score
        Predictions below this score are not trusted to contradict a label.
    match_iou
        IoU at which a prediction and a label box are the same object.
    overlap_iou
        Below this IoU a prediction and a label box do not touch at all.

    Examples
    --------
    >>> ann = [Annotation(label="car", box=(0, 0, 100, 100))]
    >>> det = [Detection(label="truck", score=0.9, box=(2, 2, 100, 98)),
    ...        Detection(label="person", score=0.8, box=(300, 300, 340, 400))]
    >>> [(i.check.value, round(i.score, 2)) for i in detection_label_issues(ann, det)]
    [('missed_object', 0.8), ('class_swap', 0.9)]
    """
    if not 0 < overlap_iou < match_iou <= 1:
        raise ValueError("need 0 < overlap_iou < match_iou <= 1")
    boxed = [a for a in annotations if a.box is not None]
    confident = [d for d in detections if d.score >= min_score]
    if not confident:
        return []
    det_boxes = np.array([d.box for d in confident], dtype=np.float64)
    det_labels = np.array([d.label for d in confident], dtype=object)
    det_scores = np.array([d.score for d in confident], dtype=np.float64)
    if boxed:
        iou = box_iou(np.array([a.box for a in boxed], dtype=np.float64), det_boxes)  # (A, D)
    else:
        iou = np.zeros((0, len(confident)))

    missed: list[tuple[float, str]] = []
    best_any = iou.max(axis=0) if boxed else np.zeros(len(confident))
    for k in np.flatnonzero(best_any < overlap_iou):
        missed.append(
            (
                det_scores[k],
                f"{det_labels[k]!r} at {det_scores[k]:.2f} in "
                f"{_fmt_box(det_boxes[k])} overlaps no label box",
            )
        )

    swaps: list[tuple[float, str]] = []
    located: list[tuple[float, str]] = []
    for i, ann in enumerate(boxed):
        same = det_labels == ann.label
        best_same = float(iou[i][same].max()) if same.any() else 0.0
        if best_same >= match_iou:
            continue
        other = ~same & (iou[i] >= match_iou)
        if other.any():
            k = int(np.flatnonzero(other)[np.argmax(det_scores[other])])
            swaps.append(
                (
                    det_scores[k],
                    f"label {ann.label!r} {_fmt_box(ann.box)} is predicted "
                    f"{det_labels[k]!r} at {det_scores[k]:.2f} (IoU {iou[i, k]:.2f})",
                )
            )
        elif best_same >= overlap_iou:
            located.append(
                (
                    1.0 - best_same,
                    f"badly located box: label {ann.label!r} "
                    f"{_fmt_box(ann.box)} overlaps its best {ann.label!r} prediction "
                    f"only at IoU {best_same:.2f} (< {match_iou:.2f})",
                )
            )

    out = []
    if missed:
        out.append(_summarise(Check.MISSED_OBJECT, missed, min_score))
    if swaps:
        out.append(_summarise(Check.CLASS_SWAP, swaps, min_score))
    if located:
        out.append(_summarise(Check.LABEL_DISAGREEMENT, located, 1.0 - match_iou))
    return out


def image_label(annotations: Sequence[Annotation]) -> str | None:
    """The whole-image label of a classification frame: the one annotation without a box.

    ``None`` when there is none, or when several disagree (nothing to judge).

    >>> image_label([Annotation(label="cat")])
    'cat'
    >>> image_label([Annotation(label="cat", box=(0, 0, 1, 1))]) is None
    True
    """
    labels = {a.label for a in annotations if a.box is None}
    return labels.pop() if len(labels) == 1 else None
