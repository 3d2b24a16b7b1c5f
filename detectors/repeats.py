"""Everything that repeats: the previous picture again (``frozen``), identical pixels
(``exact_duplicate``) and copies (``near_duplicate``), of this camera's frames or, through the
fleet index, of another camera's.

One function, :func:`check_repeats`, runs them in that order for the camera inspector and
says what the camera's baseline should learn from the frame (:meth:`Repeats.baseline_row`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from framegate.detectors import duplicates as dup
from framegate.detectors import sequence as seq
from framegate.detectors.hashing import FleetHashIndex, FrameKey, HashHistory
from framegate.detectors.image_checks_free import CAMERA_METRICS
from framegate.detectors.policy import CameraPolicy
from framegate.detectors.sequence_baseline import RobustBaseline
from framegate.schemas.checks import Check
from framegate.schemas.reports import Issue


@dataclass(frozen=True, slots=True)
class Repeats:
    """What the repeat checks measured and found."""

    issues: list[Issue] = field(default_factory=list)
    still: bool = False  # the previous picture again
    change: float = math.nan  # mean thumbnail change from the previous frame
    change_peak: float = math.nan  # largest thumbnail change
    match: dup.Match | None = None  # nearest remembered frames

    def baseline_row(
        self, metrics: Mapping[str, float], interval: float, *, cut: bool
    ) -> dict[str, float]:
        """The values a frame adds to the camera's baseline: its camera properties, and the
        sequence values of an ordinary frame (not still, not a copy, not a cut)."""
        row = {k: metrics[k] for k in CAMERA_METRICS}
        if interval == interval and interval > 0:
            row["interval"] = interval
        if self.change == self.change and not self.still:
            row["change"], row["change_peak"] = self.change, self.change_peak
        if self.match is not None and not self.issues and not cut:
            ratio = self.match.ratio
            if ratio == ratio:
                row["match_ratio"] = ratio
        return row


def check_repeats(
    history: HashHistory,
    key: FrameKey,
    thumb: np.ndarray,
    previous: np.ndarray | None,
    metrics: dict[str, float],
    *,
    kind: str | None,
    cut: bool,
    still_run: int,
    base: RobustBaseline,
    policy: CameraPolicy,
    captured_at: float,
    camera_id: str,
    fleet: FleetHashIndex | None,
    frame_id: str = "",
) -> Repeats:
    """Freeze, exact copies and near copies of one frame (see the module docstring).

    Adds ``change`` (when there is a previous frame) and ``match_distance`` (when there is
    an older frame) to ``metrics``. A snapshot camera is not judged ``frozen`` and compares a
    picture with every remembered one; other kinds skip the last ``skip_recent`` frames. A
    frame delivered again (at least once: after a rebalance or a restart) is not a copy of its
    own earlier delivery (``frame_id``).
    """
    p = policy
    since = captured_at - p.near_duplicate.history_s
    issues: list[Issue] = []
    exact = dup.check_exact(history, key, p, since=since, frame_id=frame_id)
    if exact is not None:
        issues.append(exact)
    delta = peak = math.nan
    still = False
    if previous is not None:
        delta, peak = seq.change(thumb, previous)
        metrics["change"] = delta
        if kind != "snapshot":
            still = seq.is_still(delta, peak, base, p)
            if still and (frozen := seq.check_repeat(delta, peak, still_run, base, p)):
                issues.append(frozen)
    snapshot = kind == "snapshot"
    match = dup.nearest(
        history,
        key,
        skip_recent=0 if snapshot else p.near_duplicate.skip_recent,
        since=since,
        frame_id=frame_id,
    )
    if match.back:
        metrics["match_distance"] = match.distance
    if exact is None and not still:
        near = dup.check_near(
            match,
            history.frame_id(match.back),
            kind="snapshot" if snapshot else (kind or "fixed"),
            base=base,
            policy=p,
            cut=cut,
        )
        if near is not None:
            issues.append(near)
    if fleet is not None and exact is None:
        issues += _fleet(fleet, key, p, camera_id, captured_at, issues)
    return Repeats(issues, still, delta, peak, match)


def _fleet(
    fleet: FleetHashIndex,
    key: FrameKey,
    policy: CameraPolicy,
    camera_id: str,
    at: float,
    found: list[Issue],
) -> list[Issue]:
    """A copy of another camera's recent frame (only one of each check per frame)."""
    match = fleet.query(key, camera_id=camera_id, at=at)
    if match is None:
        return []
    where = f"frame {match.frame_id} from camera {match.camera_id}"
    if match.exact:
        issue = policy.exact_duplicate.judge(
            Check.EXACT_DUPLICATE, 50.0, f"identical pixels to {where}"
        )
    elif any(i.check == Check.NEAR_DUPLICATE for i in found):
        return []
    else:
        ratio = fleet.max_distance / match.distance if match.distance > 0 else 50.0
        issue = policy.near_duplicate.judge(
            Check.NEAR_DUPLICATE,
            ratio,
            f"descriptor within {match.distance:.3f} of {where} (hash within {match.bits} "
            f"bits; limit {fleet.max_distance})",
        )
    return [issue] if issue is not None else []
