"""Per-camera embedding reference: ``outlier`` (far from the usual scene) and embedding
``near_duplicate`` (a complement to the perceptual-hash one: robust to re-encoding, small
shifts and brightness changes).

The reference is a centroid (exponential moving average of the L2-normalised embeddings)
and a spread: the moving mean and variance of the cosine distance ``d = 1 - cos(e, c)`` of
each frame to the centroid. A frame is an outlier when its distance is ``outlier_z``
standard deviations above the camera's mean. Outliers are folded in with a small weight
(``outlier_weight``), so a few odd frames do not move the reference but a lasting change of
scene is learned eventually (the drift detectors report it meanwhile).

Near-duplicates are looked up among the last ``history`` embeddings, kept as float16
(cosine similarities exact to about 1e-4). A fixed camera's consecutive frames are all
similar (cosine 0.997-0.999 on real footage with sensor noise), so similarity alone would
flag every frame: a frame is a near-duplicate when it is above ``near_duplicate_similarity``
*and* its gap ``1 - similarity`` is under ``duplicate_ratio`` times the camera's typical gap
(a moving geometric mean, learned over ``warmup`` frames, before which nothing is flagged).

State per camera, as JSON (arrays base64-encoded): ``4 * D`` bytes of centroid plus
``history * 2 * D`` bytes of history, times 4/3 for base64, plus frame ids. With
EfficientNet-Lite0 (``D = 1280``) and ``history = 8``: about 35 KB.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from framegate.detectors.issues import build_issue, halfway_to_certain
from framegate.detectors.packing import pack, unpack
from framegate.schemas import Check, Issue

__all__ = ["EmbeddingReference", "EmbeddingScore"]


@dataclass(frozen=True, slots=True)
class EmbeddingScore:
    """What one embedding measures against the reference (before any update)."""

    distance: float  # cosine distance to the centroid, in [0, 2]; nan before the first frame
    z: float  # standard deviations above the camera's mean distance; nan during warm-up
    outlier_score: float  # z+ / (z+ + outlier_z): 0.5 at the threshold; 0 during warm-up
    max_similarity: float  # best cosine similarity among the recent frames; -1 when none
    duplicate_of: str | None  # frame id of that most similar recent frame


class EmbeddingReference:
    """One camera's embedding reference.

    Parameters
    ----------
    half_life
        Half-life of the centroid and spread averages, in frames.
    warmup
        Frames seen before ``outlier`` can fire.
    outlier_z
        Standard deviations of distance above the mean that make an outlier.
    outlier_weight
        Weight (relative to a normal frame) with which an outlier updates the reference.
    min_spread
        Floor of the distance's standard deviation (a static scene has almost none).
    near_duplicate_similarity
        Cosine similarity at or above which a frame repeats a recent one.
    history
        How many recent embeddings are kept for the near-duplicate look-up.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> base = rng.normal(size=64)
    >>> ref = EmbeddingReference(warmup=20)
    >>> for i in range(100):
    ...     e = base + rng.normal(scale=0.5, size=64)
    ...     ref.update(e / np.linalg.norm(e), frame_id=f"f{i}")
    >>> odd = rng.normal(size=64)
    >>> [issue.check.value for issue in ref.check(odd / np.linalg.norm(odd))]
    ['outlier']
    >>> ref.check(e / np.linalg.norm(e))[0].check.value  # the last frame again
    'near_duplicate'
    """

    def __init__(
        self,
        *,
        half_life: float = 500.0,
        warmup: int = 50,
        outlier_z: float = 4.0,
        outlier_weight: float = 0.1,
        min_spread: float = 0.01,
        near_duplicate_similarity: float = 0.95,
        duplicate_ratio: float = 0.2,
        history: int = 8,
    ) -> None:
        if half_life <= 0:
            raise ValueError(f"half_life must be positive, got {half_life}")
        if warmup < 2:
            raise ValueError(f"warmup must be at least 2, got {warmup}")
        if outlier_z <= 0:
            raise ValueError(f"outlier_z must be positive, got {outlier_z}")
        if not 0.0 <= outlier_weight <= 1.0:
            raise ValueError(f"outlier_weight must be in [0, 1], got {outlier_weight}")
        if min_spread <= 0:
            raise ValueError(f"min_spread must be positive, got {min_spread}")
        if not -1.0 <= near_duplicate_similarity <= 1.0:
            raise ValueError("near_duplicate_similarity must be in [-1, 1]")
        if history < 0:
            raise ValueError(f"history must be >= 0, got {history}")
        self.half_life = float(half_life)
        self.warmup = int(warmup)
        self.outlier_z = float(outlier_z)
        self.outlier_weight = float(outlier_weight)
        self.min_spread = float(min_spread)
        self.near_duplicate_similarity = float(near_duplicate_similarity)
        if not 0.0 < duplicate_ratio < 1.0:
            raise ValueError(f"duplicate_ratio must be in (0, 1), got {duplicate_ratio}")
        self.duplicate_ratio = float(duplicate_ratio)
        self.history = int(history)
        self._reset()

    def _reset(self) -> None:
        self._centroid: np.ndarray | None = None  # float32 (D,), not normalised
        self._n = 0
        self._weight = 0.0  # total weight folded in, for the bias-corrected start
        self._weight_d = 0.0  # the same for the distance statistics (one frame fewer)
        self._mean_d = 0.0
        self._var_d = 0.0
        self._recent: deque[tuple[np.ndarray, float, str]] = deque(maxlen=max(1, self.history))
        self._log_gap = 0.0  # moving mean of log(1 - best similarity) of ordinary frames
        self._gap_n = 0

    # -- measure ------------------------------------------------------------------------
    def score(self, embedding: np.ndarray) -> EmbeddingScore:
        """Measure one L2-normalised embedding ``(D,)`` against the reference; no update."""
        e = np.asarray(embedding, dtype=np.float32).reshape(-1)
        distance = z = math.nan
        outlier = 0.0
        if self._centroid is not None:
            if e.shape != self._centroid.shape:
                raise ValueError(
                    f"embedding has {e.size} values, the reference {self._centroid.size}"
                )
            norm = float(np.linalg.norm(self._centroid))
            distance = 1.0 - float(e @ self._centroid) / norm if norm > 0 else 1.0
            if self._n >= self.warmup:
                z = (distance - self._mean_d) / max(math.sqrt(self._var_d), self.min_spread)
                zp = max(0.0, z)
                outlier = zp / (zp + self.outlier_z)
        best, dup = -1.0, None
        if self.history and self._recent:
            q = np.stack([v for v, _, _ in self._recent]).astype(np.float32)
            scales = np.array([s for _, s, _ in self._recent], dtype=np.float32)
            sims = (q @ e) * scales
            i = int(np.argmax(sims))
            best, dup = float(sims[i]), self._recent[i][2]
        return EmbeddingScore(distance, z, outlier, best, dup)

    def check(self, embedding: np.ndarray) -> list[Issue]:
        """``outlier`` and ``near_duplicate`` issues of one embedding; no update."""
        return self.issues(self.score(embedding))

    def issues(self, s: EmbeddingScore) -> list[Issue]:
        """The issues a measured :class:`EmbeddingScore` raises."""
        out = []
        if s.outlier_score >= 0.5:
            out.append(
                build_issue(
                    Check.OUTLIER,
                    s.outlier_score,
                    0.5,
                    f"embedding distance {s.distance:.3f} to the camera's reference is {s.z:.1f} "
                    f"sd above its mean {self._mean_d:.3f} (threshold {self.outlier_z:g} sd)",
                    critical_at=halfway_to_certain(0.5),
                )
            )
        if s.max_similarity >= self.near_duplicate_similarity and self._is_duplicate_gap(s):
            out.append(
                build_issue(
                    Check.NEAR_DUPLICATE,
                    s.max_similarity,
                    self.near_duplicate_similarity,
                    f"embedding similarity {s.max_similarity:.3f} to recent frame "
                    f"{s.duplicate_of!r}",
                    critical_at=halfway_to_certain(self.near_duplicate_similarity),
                )
            )
        return out

    def _is_duplicate_gap(self, s: EmbeddingScore) -> bool:
        if self._gap_n < self.warmup:
            return False
        return 1.0 - s.max_similarity < self.duplicate_ratio * math.exp(self._log_gap)

    def _learn_gap(self, s: EmbeddingScore) -> None:
        if s.max_similarity < -0.5 or (
            s.max_similarity >= self.near_duplicate_similarity and self._is_duplicate_gap(s)
        ):
            return  # no neighbour yet, or a duplicate: not an ordinary gap
        log_gap = math.log(max(1e-6, 1.0 - s.max_similarity))
        self._gap_n += 1
        rate = max(1.0 / self._gap_n, 1.0 / self.half_life)
        self._log_gap += rate * (log_gap - self._log_gap)

    # -- update -------------------------------------------------------------------------
    def update(self, embedding: np.ndarray, *, frame_id: str = "") -> None:
        """Fold one L2-normalised embedding into the reference and the recent history."""
        e = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if np.all(np.isfinite(e)):
            self._fold(e, self.score(e), frame_id)

    def _fold(self, e: np.ndarray, s: EmbeddingScore, frame_id: str) -> None:
        """Fold a finite embedding whose score before the update is ``s``."""
        self._learn_gap(s)
        weight = self.outlier_weight if s.outlier_score >= 0.5 else 1.0
        self._n += 1
        if self._centroid is None:
            self._centroid = e.copy()
            self._weight = 1.0
        else:
            decay = 0.5 ** (1.0 / self.half_life)
            self._weight = self._weight * decay + weight
            rate = weight / self._weight  # 1/n at first, the half-life's rate later
            self._centroid += rate * (e - self._centroid)
            # the distance measured before this update feeds the spread, Welford-style
            self._weight_d = self._weight_d * decay + weight
            rate_d = weight / self._weight_d
            delta = s.distance - self._mean_d
            self._mean_d += rate_d * delta
            self._var_d = (1.0 - rate_d) * (self._var_d + rate_d * delta * delta)
        if self.history:
            self._recent.append((e.astype(np.float16), 1.0, frame_id))

    def observe(
        self, embedding: np.ndarray, *, frame_id: str = ""
    ) -> tuple[EmbeddingScore, list[Issue]]:
        """Measure, flag, then update: what a worker calls once per frame, in order."""
        e = np.asarray(embedding, dtype=np.float32).reshape(-1)
        s = self.score(e)
        issues = self.issues(s)
        if np.all(np.isfinite(e)):  # scored once: the update reuses it
            self._fold(e, s, frame_id)
        return s, issues

    # -- reading ------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """Whether the warm-up is over (``outlier`` can fire)."""
        return self._n >= self.warmup

    @property
    def spread(self) -> tuple[float, float]:
        """Mean and standard deviation of the distance to the centroid."""
        return self._mean_d, math.sqrt(self._var_d)

    # -- persistence --------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """JSON-serialisable; about 35 KB at ``D = 1280``, ``history = 8``."""
        dim = 0 if self._centroid is None else int(self._centroid.size)
        recent = list(self._recent)
        return {
            "params": {
                "half_life": self.half_life,
                "warmup": self.warmup,
                "outlier_z": self.outlier_z,
                "outlier_weight": self.outlier_weight,
                "min_spread": self.min_spread,
                "near_duplicate_similarity": self.near_duplicate_similarity,
                "duplicate_ratio": self.duplicate_ratio,
                "history": self.history,
            },
            "log_gap": self._log_gap,
            "gap_n": self._gap_n,
            "dim": dim,
            "n": self._n,
            "weight": self._weight,
            "weight_d": self._weight_d,
            "mean_d": self._mean_d,
            "var_d": self._var_d,
            "centroid": None if self._centroid is None else pack(self._centroid, "<f4"),
            "recent": pack(np.stack([q for q, _, _ in recent]), "<f2") if recent else "",
            "recent_scales": [s for _, s, _ in recent],
            "recent_ids": [f for _, _, f in recent],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> EmbeddingReference:
        ref = cls(**state["params"])
        dim = int(state["dim"])
        ref._n = int(state["n"])
        ref._weight = float(state["weight"])
        ref._weight_d = float(state["weight_d"])
        ref._mean_d = float(state["mean_d"])
        ref._var_d = float(state["var_d"])
        ref._log_gap = float(state["log_gap"])
        ref._gap_n = int(state["gap_n"])
        if state["centroid"] is not None:
            ref._centroid = unpack(state["centroid"], "<f4", (dim,))
        ids = state["recent_ids"]
        if ids:
            q = unpack(state["recent"], "<f2", (len(ids), dim))
            for row, scale, fid in zip(q, state["recent_scales"], ids, strict=True):
                ref._recent.append((row, float(scale), str(fid)))
        return ref
