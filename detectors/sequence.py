"""Sequence checks: one camera's frame compared with its previous frames and its usual view.

Pure functions on small arrays (thumbnails, cell textures, hashes) and the camera's
:class:`~detectors.sequence_baseline.RobustBaseline`; the state itself is held by
:class:`detectors.camera.CameraInspector`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from detectors.hashing import HashHistory
from detectors.policy import CameraPolicy
from detectors.sequence_baseline import RobustBaseline
from schemas.checks import Check
from schemas.reports import Issue

SEQUENCE_METRICS = ("change", "interval", "hash_distance", "view_match")
_MIN_CELL_TEXTURE = 2.0  # mean |Laplacian| of a cell worth watching for obstruction
_window_cache: dict[tuple[int, int], np.ndarray] = {}


def change(thumb: np.ndarray, previous: np.ndarray) -> float:
    """Mean absolute grey-level difference between two thumbnails."""
    return float(cv2.norm(thumb, previous, cv2.NORM_L1)) / thumb.size


def still_limit(base: RobustBaseline, policy: CameraPolicy) -> float:
    """Change below which a frame shows the same picture as the previous one.

    A fraction of the camera's usual change (so a quiet scene is not "still"), capped by an
    absolute limit, and never below compression noise's own floor.
    """
    p = policy.frozen
    if not base.ready:
        return 0.05
    usual = base.median("change")
    return max(0.02, min(p.change, p.change_fraction * usual))


def check_repeat(delta: float, still_run: int, base: RobustBaseline,
                 policy: CameraPolicy) -> Issue | None:
    """``frozen`` once ``run`` frames in a row show the same picture.

    A single unchanged frame is not reported: a fixed camera watching a quiet scene sends
    those too (its change is then at the level of compression noise).
    """
    limit = still_limit(base, policy)
    ratio = limit / delta if delta > 0 else 50.0
    if still_run + 2 < policy.frozen.run:
        return None
    usual = base.median("change") if base.ready else float("nan")
    return policy.frozen.judge(
        Check.FROZEN, ratio, f"{still_run + 2} consecutive frames show the same picture "
        f"(change {delta:.3f} grey levels, under {limit:.3f}; usual {usual:.3f})")


def check_exact(history: HashHistory, digest: bytes, policy: CameraPolicy) -> Issue | None:
    back = history.has_digest(digest)
    if back is None:
        return None
    return policy.exact_duplicate.judge(
        Check.EXACT_DUPLICATE, 50.0, f"identical pixels to this camera's frame {back} back")


def hash_tolerance(base: RobustBaseline, policy: CameraPolicy) -> int:
    """Bits within which an earlier frame is a copy: half the camera's near-closest distance."""
    p = policy.near_duplicate
    if not base.ready:
        return -1
    low = base.quantile("hash_distance", 0.05)
    return int(min(p.max_bits, math.floor(0.5 * low - 0.5))) if low == low else -1


def check_near_history(bits: int, back: int, tol: int, policy: CameraPolicy) -> Issue | None:
    if tol < 1 or back == 0:  # a camera whose frames all hash alike: hashes cannot tell
        return None
    ratio = (tol + 1.0) / (bits + 0.5)
    return policy.near_duplicate.judge(
        Check.NEAR_DUPLICATE, ratio, f"perceptual hash within {bits} bits of this camera's "
        f"frame {back} back (tolerance {tol} bits)")


def check_dropped(interval: float, base: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    p = policy.dropped_frames
    if interval <= 0 or not base.ready:
        return None
    med = base.median("interval")
    limit = max(p.min_gap, p.factor * med, med + policy.baseline.mad_k * base.sigma("interval"))
    missing = interval / med - 1 if med > 0 else float("nan")
    return p.judge(Check.DROPPED_FRAMES, interval / limit, f"{interval:.3f} s since the "
                   f"previous frame, over {limit:.3f} s (about {missing:.0f} frames missing "
                   f"at the usual {med:.3f} s)")


def _hanning(shape: tuple[int, int]) -> np.ndarray:
    win = _window_cache.get(shape)
    if win is None:
        win = cv2.createHanningWindow((shape[1], shape[0]), cv2.CV_32F)
        _window_cache[shape] = win
    return win


def view_match(thumb: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """(shift, match) of a thumbnail against the reference view.

    ``shift`` is the global translation found by phase correlation, as a fraction of the
    width; ``match`` is the zero-mean normalised correlation of their edges (1 = same view).
    """
    a = thumb.astype(np.float32)
    b = reference.astype(np.float32)
    (dx, dy), _ = cv2.phaseCorrelate(b, a, _hanning(a.shape))
    shift = math.hypot(dx, dy) / a.shape[1]
    ea = cv2.Laplacian(cv2.GaussianBlur(a, (3, 3), 0), cv2.CV_32F)
    eb = cv2.Laplacian(cv2.GaussianBlur(b, (3, 3), 0), cv2.CV_32F)
    ea -= ea.mean()
    eb -= eb.mean()
    denom = math.sqrt(float((ea * ea).sum()) * float((eb * eb).sum()))
    match = float((ea * eb).sum()) / denom if denom > 0 else 0.0
    return shift, match


def check_moved(shift: float, match: float, base: RobustBaseline,
                policy: CameraPolicy) -> Issue | None:
    p = policy.camera_moved
    limit = p.min_match
    if base.ready:
        limit = min(limit, base.median("view_match") - policy.baseline.mad_k
                    * base.sigma("view_match"))
    limit = max(limit, 0.05)
    ratio = limit / match if match > 0 else 50.0
    return p.judge(Check.CAMERA_MOVED, ratio, f"the view shifted {100 * shift:.1f}% and "
                   f"matches the reference at {match:.2f} (limits {100 * p.shift:.0f}% and "
                   f"{limit:.2f}); this view is the new reference")


def obstructed_fraction(cells: np.ndarray, reference: np.ndarray,
                        policy: CameraPolicy) -> float:
    """Fraction of the reference's textured cells whose texture dropped (nan if too few)."""
    textured = reference > _MIN_CELL_TEXTURE
    n = int(textured.sum())
    if n < 6:
        return float("nan")
    lost = cells < policy.obstructed.texture_drop * reference
    return float((lost & textured).sum()) / n


def check_obstructed(fraction: float, policy: CameraPolicy) -> Issue | None:
    p = policy.obstructed
    if fraction != fraction:
        return None
    return p.judge(Check.OBSTRUCTED, fraction / p.fraction, f"{100 * fraction:.0f}% of the "
                   f"view lost its texture compared with the reference (limit "
                   f"{100 * p.fraction:.0f}%)")
