"""Duplicate checks: ``exact_duplicate`` and ``near_duplicate`` of a camera's recent frames.

A copy survives re-encoding, rescaling, small crops and colour jitter, so it is found by its
descriptor (:class:`~framegate.detectors.hashing.FrameKey`). What counts as "close" depends on
the kind of camera:

- **snapshot** (unrelated pictures): any earlier picture within ``snapshot_distance``, or
  within ``max_distance`` and far closer than the next-best picture (``second_ratio``):
  ordinary pictures are 0.15-1.4 apart, a copy with a 2-3 % crop within 0.1.
- **fixed, patrol, moving** (a continuous stream): the frames just before are as close as a
  5 % crop, so a copy is told by *where* its match is: an older frame (``skip_recent`` or
  more back) much closer than the recent frames (``ratio`` of the distance to them). An
  ordinary frame of such a camera is always closest to its predecessors. The limit adapts to
  the camera: at most ``fraction`` x the 5th percentile of that ratio over its ordinary
  frames (a camera that stops now and then has ordinary frames closer to older ones). On a
  still scene every frame is a copy of every other one: that is ``frozen``'s business, and
  the source of an injected copy is only ever a frame that looked different.

The history is bounded by count (``history``) and by age (``history_s``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from framegate.detectors.hashing import FrameKey, HashHistory
from framegate.detectors.policy import CameraPolicy
from framegate.detectors.sequence_baseline import RobustBaseline
from framegate.schemas.checks import Check
from framegate.schemas.reports import Issue

#: Camera-level baseline columns this module reads (the inspector records them).
DUPLICATE_METRICS = ("match_ratio",)


@dataclass(frozen=True, slots=True)
class Match:
    """A frame's nearest remembered frames."""

    distance: float  # to the best older match (inf when none)
    back: int  # frames back of that match; 0 when none
    second: float  # to the next-best match (inf when none)
    recent: float  # to the nearest of the last skip_recent frames (inf when none)

    @property
    def ratio(self) -> float:
        """Best older match over the recent frames' distance (nan when either is unknown)."""
        if not (math.isfinite(self.distance) and math.isfinite(self.recent)) or self.recent <= 0:
            return float("nan")
        return self.distance / self.recent


def nearest(
    history: HashHistory, key: FrameKey, *, skip_recent: int, since: float, frame_id: str = ""
) -> Match:
    """The best match older than the last ``skip_recent`` frames, and the recent distance;
    an earlier delivery of ``frame_id`` itself is not a match."""
    dist = history.distances(key.descriptor, since=since, skip_id=frame_id)
    if len(dist) == 0:
        return Match(math.inf, 0, math.inf, math.inf)
    recent = float(dist[:skip_recent].min()) if skip_recent and len(dist) else math.inf
    older = dist[skip_recent:]
    if len(older) == 0 or not np.isfinite(older).any():
        return Match(math.inf, 0, math.inf, recent)
    order = np.argsort(older, kind="stable")
    best = int(order[0])
    second = float(older[order[1]]) if len(order) > 1 else math.inf
    return Match(float(older[best]), best + 1 + skip_recent, second, recent)


def check_exact(
    history: HashHistory, key: FrameKey, policy: CameraPolicy, *, since: float, frame_id: str = ""
) -> Issue | None:
    """``exact_duplicate``: identical pixels to another frame of this camera still
    remembered (an earlier delivery of ``frame_id`` itself is not another frame)."""
    back = history.has_digest(key.digest, since=since, skip_id=frame_id)
    if back is None:
        return None
    earlier = history.frame_id(back) or "this camera's frame"
    frames = "frame" if back == 1 else "frames"
    return policy.exact_duplicate.judge(
        Check.EXACT_DUPLICATE, 50.0, f"identical pixels to {earlier}, {back} {frames} back"
    )


def ratio_limit(base: RobustBaseline, policy: CameraPolicy) -> float:
    """How much closer than the recent frames an older match must be on this camera."""
    p = policy.near_duplicate
    if not base.ready or base.count < p.min_frames:
        return 0.0
    usual = base.quantile("match_ratio", 0.05)
    if math.isnan(usual):
        return 0.0
    return min(p.ratio, p.fraction * usual)


def check_near(
    match: Match,
    earlier: str,
    *,
    kind: str,
    base: RobustBaseline,
    policy: CameraPolicy,
    cut: bool = False,
) -> Issue | None:
    """``near_duplicate`` of an older frame of this camera (see the module docstring).

    ``cut`` says the frame returned to a view the camera showed before (a patrol camera back
    at a preset, say): then only a copy within ``copy_distance`` counts, since the best match
    of a view seen again is its earlier visit.
    """
    p = policy.near_duplicate
    d = match.distance
    if not p.enabled or match.back == 0 or not math.isfinite(d):
        return None
    earlier = earlier or "this camera's frame"
    where = f"{earlier}, {match.back} frames back"
    if kind == "snapshot":
        limit = p.snapshot_distance
        if d <= p.max_distance and d < p.second_ratio * match.second:
            limit = max(limit, min(p.max_distance, p.second_ratio * match.second))
        detail = (
            f"descriptor within {d:.3f} of {where} (limit {limit:.3f}; next best "
            f"{match.second:.3f})"
        )
        return p.judge(Check.NEAR_DUPLICATE, limit / d if d > 0 else 50.0, detail)
    if match.recent - d < p.min_gap:  # a still spell: every frame is as close as any other
        return None
    if cut:
        limit = p.copy_distance
    else:
        limit = min(p.max_distance, ratio_limit(base, policy) * match.recent)
        limit = max(limit, min(p.copy_distance, p.copy_ratio * match.recent))
    if limit <= 0:
        return None
    detail = (
        f"descriptor within {d:.3f} of {where}, {match.recent:.3f} from the last "
        f"{p.skip_recent} frames (limit {limit:.3f})"
    )
    return p.judge(Check.NEAR_DUPLICATE, limit / d if d > 0 else 50.0, detail)
