"""Sequence checks: one camera's frame compared with its previous frame and its usual view.

Pure functions on small arrays (thumbnails, cell textures) and the camera's
:class:`~framegate.detectors.sequence_baseline.RobustBaseline`; the state itself is held by
:class:`framegate.detectors.inspector.CameraInspector`. Duplicates are in
:mod:`framegate.detectors.duplicates`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from framegate.detectors.policy import CameraPolicy
from framegate.detectors.sequence_baseline import RobustBaseline
from framegate.schemas.checks import Check
from framegate.schemas.reports import Issue

SEQUENCE_METRICS = ("change", "change_peak", "interval")
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


def _edges(img: np.ndarray) -> np.ndarray:
    e = cv2.Laplacian(cv2.GaussianBlur(img, (3, 3), 0), cv2.CV_32F)
    return e - e.mean()


def _correlation(ea: np.ndarray, eb: np.ndarray) -> float:
    denom = math.sqrt(float((ea * ea).sum()) * float((eb * eb).sum()))
    return float((ea * eb).sum()) / denom if denom > 0 else 0.0


def place(thumb: np.ndarray, reference: np.ndarray) -> tuple[float, float, float, float]:
    """(dx, dy, match, peak) of a thumbnail against a reference thumbnail.

    ``(dx, dy)`` is the global translation (pixels) found by phase correlation and ``peak``
    its response (how much of the picture moved as one); ``match`` is the zero-mean
    normalised correlation of their edges, unaligned (1 = same view).
    """
    a = thumb.astype(np.float32)
    b = reference.astype(np.float32)
    (dx, dy), peak = cv2.phaseCorrelate(b, a, _hanning(a.shape))
    return dx, dy, _correlation(_edges(a), _edges(b)), float(peak)


def view_match(thumb: np.ndarray, reference: np.ndarray) -> tuple[float, float, float]:
    """(shift, match, peak) of a thumbnail against the reference view: :func:`place`, with
    the translation as a fraction of the width."""
    dx, dy, match, peak = place(thumb, reference)
    return math.hypot(dx, dy) / thumb.shape[1], match, peak


def aligned_match(thumb: np.ndarray, reference: np.ndarray, dx: float, dy: float) -> float:
    """Edge correlation of ``thumb`` with ``reference`` moved by ``(dx, dy)`` pixels.

    When the whole view slid, aligning it brings the match back up; when only something in
    it moved (a passer-by close to the camera), aligning the view on it makes the match worse.
    """
    h, w = thumb.shape
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    moved = cv2.warpAffine(reference.astype(np.float32), m, (w, h), borderMode=cv2.BORDER_REFLECT)
    return _correlation(_edges(thumb.astype(np.float32)), _edges(moved))


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


def _textured_share(selected: np.ndarray, reference: np.ndarray) -> float:
    """Share of the reference's textured cells that are ``selected`` (nan if too few)."""
    textured = reference > _MIN_CELL_TEXTURE
    n = int(textured.sum())
    if n < 6:
        return float("nan")
    return float((selected & textured).sum()) / n


def obstructed_fraction(cells: np.ndarray, reference: np.ndarray, policy: CameraPolicy) -> float:
    """Fraction of the reference's textured cells whose texture dropped (nan if too few)."""
    return _textured_share(cells < policy.obstructed.texture_drop * reference, reference)


def texture_kept(cells: np.ndarray, reference: np.ndarray, policy: CameraPolicy) -> float:
    """Fraction of the reference's textured cells that kept their texture (nan if too few):
    a cover leaves the rest of the view as it was; darkness, blur and fog take a share of
    every cell's texture."""
    return _textured_share(cells >= policy.obstructed.texture_kept * reference, reference)


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
