"""Sequence checks: one camera's frame compared with its previous frames and its usual view.

Pure functions on small arrays (thumbnails, cell textures, hashes) and the camera's
:class:`~framegate.detectors.sequence_baseline.RobustBaseline`; the state itself is held by
:class:`framegate.detectors.inspector.CameraInspector`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from framegate.detectors.hashing import HashHistory
from framegate.detectors.policy import CameraPolicy
from framegate.detectors.sequence_baseline import RobustBaseline
from framegate.schemas.checks import Check
from framegate.schemas.reports import Issue

SEQUENCE_METRICS = (
    "change",
    "change_peak",
    "interval",
    "match_distance",
    "step_distance",
    "view_match",
    "view_shift",
)
_MIN_CELL_TEXTURE = 2.0  # mean |Laplacian| of a cell worth watching for obstruction
_window_cache: dict[tuple[int, int], np.ndarray] = {}


def change(thumb: np.ndarray, previous: np.ndarray) -> tuple[float, float]:
    """(mean, largest) absolute grey-level difference between two thumbnails."""
    diff = cv2.absdiff(thumb, previous)
    return float(cv2.norm(diff, cv2.NORM_L1)) / thumb.size, float(cv2.minMaxLoc(diff)[1])


def still_limit(base: RobustBaseline, policy: CameraPolicy) -> float:
    """Mean change below which a frame shows the same picture as the previous one.

    A fraction of the camera's usual change (so a quiet scene is not "still"), capped by an
    absolute limit, and never below compression noise's own floor.
    """
    p = policy.frozen
    if not base.ready:
        return 0.05
    usual = base.median("change")
    return max(0.02, min(p.change, p.change_fraction * usual))


def is_still(delta: float, peak: float, base: RobustBaseline, policy: CameraPolicy) -> bool:
    """Whether a frame shows the previous picture again, re-encoded or not.

    Either its mean change is below :func:`still_limit`, or no thumbnail pixel changed by
    more than ``frozen.peak`` grey levels (re-encoding moves a 48x36 thumbnail by 1 level at
    most) on a camera whose frames usually change somewhere by ``frozen.usual_peak`` or more
    (sensor noise, moving things, exposure). On a camera whose picture never changes
    visibly, only the mean-change rule applies: a freeze cannot be told apart there.
    """
    if delta < still_limit(base, policy):
        return True
    p = policy.frozen
    return base.ready and peak <= p.peak and base.median("change_peak") >= p.usual_peak


def check_repeat(
    delta: float, peak: float, still_run: int, base: RobustBaseline, policy: CameraPolicy
) -> Issue | None:
    """``frozen`` once ``run`` frames in a row show the same picture.

    A single unchanged frame is not reported: a fixed camera watching a quiet scene sends
    those too (its change is then at the level of compression noise).
    """
    limit = still_limit(base, policy)
    ratio = max(limit / delta if delta > 0 else 50.0, 2.0 if peak <= policy.frozen.peak else 0)
    if still_run + 2 < policy.frozen.run:
        return None
    usual = base.median("change") if base.ready else float("nan")
    usual_peak = base.median("change_peak") if base.ready else float("nan")
    return policy.frozen.judge(
        Check.FROZEN,
        ratio,
        f"{still_run + 2} consecutive frames show the same picture "
        f"(change {delta:.3f} grey levels, largest {peak:.0f}; usual {usual:.3f}, largest "
        f"{usual_peak:.0f})",
    )


def check_exact(history: HashHistory, digest: bytes, policy: CameraPolicy) -> Issue | None:
    back = history.has_digest(digest)
    if back is None:
        return None
    earlier = history.frame_id(back) or "this camera's frame"
    frames = "frame" if back == 1 else "frames"
    return policy.exact_duplicate.judge(
        Check.EXACT_DUPLICATE, 50.0, f"identical pixels to {earlier}, {back} {frames} back"
    )


def repeat_tolerance(base: RobustBaseline, policy: CameraPolicy) -> float:
    """Fingerprint distance within which an older frame is a copy; nan when it cannot tell.

    A fraction of the camera's near-closest ordinary match (5th percentile of the distance
    from each frame to its best older match). Only on a camera with continuity (its previous
    frame is usually about as close as the best older one, or closer): where every frame
    looks like every other (a static scene), a copy of an older frame is as close to it as
    the camera's ordinary frames are, and cannot be told apart. Not before
    ``near_duplicate.min_frames`` baseline frames: a 5th percentile and a continuity test on
    a handful of matches are noise (a still scene can look continuous for its first dozen
    frames).
    """
    p = policy.near_duplicate
    if not base.ready or base.count < p.min_frames:
        return float("nan")
    match = base.median("match_distance")
    step = base.median("step_distance")
    if not (step <= p.continuity * match):
        return float("nan")
    return p.fraction * base.quantile("match_distance", 0.05)


def check_near_history(
    distance: float, step: float, back: int, tol: float, earlier: str, policy: CameraPolicy
) -> Issue | None:
    """``near_duplicate`` of an older frame of this camera.

    ``distance`` is the fingerprint distance to the best older match (``back`` frames ago),
    ``step`` the distance to the previous frame. A copy of an older frame is far closer to
    that frame than to the one just before it; an ordinary frame of a fixed camera (a quiet
    scene included) is about as close to its predecessor as to anything older.

    The step limit is ``step_fraction`` x ``step``, or up to ``copy_step_fraction`` x
    ``step`` for a frame within ``copy_distance`` of the older one (what re-encoding or
    resizing leaves of a copy): when the scene was quiet just before the copied frame, the
    copy is also close to the frames after it, so its predecessor is only a few times
    further away than its source. A moving scene that merely returns to an earlier state
    (a passer-by back at the same place) is not that close.
    """
    if not tol > 0 or back == 0:
        return None
    earlier = earlier or "this camera's frame"
    if step == step:
        p = policy.near_duplicate
        limit = max(p.step_fraction * step, min(p.copy_distance, p.copy_step_fraction * step))
        tol = min(tol, limit)
    ratio = tol / distance if distance > 0 else 50.0
    return policy.near_duplicate.judge(
        Check.NEAR_DUPLICATE,
        ratio,
        f"fingerprint within {100 * distance:.2f}% of "
        f"{earlier}, {back} frames back, {100 * step:.2f}% from the previous frame (tolerance "
        f"{100 * tol:.2f}%)",
    )


def check_dropped(interval: float, base: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    p = policy.dropped_frames
    if interval <= 0 or not base.ready:
        return None
    med = base.median("interval")
    limit = max(p.min_gap, p.factor * med, med + policy.baseline.mad_k * base.sigma("interval"))
    missing = interval / med - 1 if med > 0 else float("nan")
    return p.judge(
        Check.DROPPED_FRAMES,
        interval / limit,
        f"{interval:.3f} s since the "
        f"previous frame, over {limit:.3f} s (about {missing:.0f} frames missing "
        f"at the usual {med:.3f} s)",
    )


def _hanning(shape: tuple[int, int]) -> np.ndarray:
    win = _window_cache.get(shape)
    if win is None:
        win = cv2.createHanningWindow((shape[1], shape[0]), cv2.CV_32F)
        _window_cache[shape] = win
    return win


def view_match(thumb: np.ndarray, reference: np.ndarray) -> tuple[float, float, float]:
    """(shift, match, peak) of a thumbnail against the reference view.

    ``shift`` is the global translation found by phase correlation, as a fraction of the
    width, and ``peak`` that correlation's response (how much of the picture moved as one);
    ``match`` is the zero-mean normalised correlation of their edges (1 = same view).
    """
    a = thumb.astype(np.float32)
    b = reference.astype(np.float32)
    (dx, dy), peak = cv2.phaseCorrelate(b, a, _hanning(a.shape))
    shift = math.hypot(dx, dy) / a.shape[1]
    ea = cv2.Laplacian(cv2.GaussianBlur(a, (3, 3), 0), cv2.CV_32F)
    eb = cv2.Laplacian(cv2.GaussianBlur(b, (3, 3), 0), cv2.CV_32F)
    ea -= ea.mean()
    eb -= eb.mean()
    denom = math.sqrt(float((ea * ea).sum()) * float((eb * eb).sum()))
    match = float((ea * eb).sum()) / denom if denom > 0 else 0.0
    return shift, match, float(peak)


def check_moved(
    shift: float,
    match: float,
    response: float,
    scene_bad: bool,
    content_lost: bool,
    base: RobustBaseline,
    policy: CameraPolicy,
) -> Issue | None:
    """``camera_moved``: the whole view shifted, or it no longer matches the reference.

    The shift (phase correlation against the reference) is judged even on a frame that is
    blurred or clipped, as long as there is content to correlate; the edge match only on a
    frame whose scene checks all passed (a dark or blurred frame matches nothing).
    """
    p = policy.camera_moved
    k = policy.baseline.mad_k
    shift_limit = p.shift
    if base.ready:
        shift_limit = max(shift_limit, base.median("view_shift") + k * base.sigma("view_shift"))
    shift_ratio = 0.0
    if not content_lost and response >= p.min_response:
        shift_ratio = shift / shift_limit
    limit = p.min_match
    if base.ready:
        limit = min(limit, base.median("view_match") - k * base.sigma("view_match"))
    limit = max(limit, 0.05)
    match_ratio = 0.0 if scene_bad else (limit / match if match > 0 else 50.0)
    return p.judge(
        Check.CAMERA_MOVED,
        max(shift_ratio, match_ratio),
        f"the view shifted "
        f"{100 * shift:.1f}% and matches the reference at {match:.2f} (limits "
        f"{100 * shift_limit:.1f}% and {limit:.2f}); this view is the new reference",
    )


def obstructed_fraction(cells: np.ndarray, reference: np.ndarray, policy: CameraPolicy) -> float:
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
    return p.judge(
        Check.OBSTRUCTED,
        fraction / p.fraction,
        f"{100 * fraction:.0f}% of the "
        f"view lost its texture compared with the reference (limit "
        f"{100 * p.fraction:.0f}%)",
    )
