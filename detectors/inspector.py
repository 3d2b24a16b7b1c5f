"""One camera's inspector: every image, sequence and annotation check for one frame.

The worker keeps one :class:`CameraInspector` per camera (its ``state()`` in a table keyed
by ``camera_id``) and calls :meth:`CameraInspector.inspect` for each frame in order::

    image = decode_for_checks(data, max_pixels=settings.max_pixels)
    inspection = inspector.inspect(image, frame_id=f.frame_id, captured_at=ts,
                                   annotations=f.annotations, fleet=fleet_index)
    table[camera_id] = inspector.state()

Memory per camera (default policy): the baseline ring (64 x 15 float32 = 3.8 KB), the
frame history (64 x (8 B digest + 72 B fingerprint) = 5.1 KB, plus the frame ids), two
48x36 thumbnails (3.5 KB) and 48 cell textures; about 13 KB of numpy arrays, and
``state()`` is about 18 KB of JSON (base64) with short frame ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np

from framegate.detectors import sequence as seq
from framegate.detectors.annotations import check_annotations
from framegate.detectors.decode import DecodedImage, decode_image, reduction_for
from framegate.detectors.hashing import FleetHashIndex, HashHistory
from framegate.detectors.image_checks import (
    BASELINE_METRICS,
    check_odd_aspect_ratio,
    check_odd_size,
    run_image_checks,
)
from framegate.detectors.image_metrics import (
    ANALYSIS_MAX_SIDE,
    GRID,
    THUMB_SIZE,
    FrameMeasures,
    measure,
)
from framegate.detectors.packing import pack, unpack
from framegate.detectors.policy import CameraPolicy
from framegate.detectors.reference_view import ReferenceView
from framegate.detectors.sequence_baseline import RobustBaseline
from framegate.schemas.checks import Check
from framegate.schemas.frames import Annotation
from framegate.schemas.reports import Issue

STATE_VERSION = 2

_SCENE_ISSUES = {
    Check.DARK,
    Check.BRIGHT,
    Check.LOW_CONTRAST,
    Check.BLURRY,
    Check.LOW_INFORMATION,
    Check.EXPOSURE_CLIPPED,
}
_CONTENT_LOST = {Check.DARK, Check.BRIGHT, Check.LOW_CONTRAST, Check.LOW_INFORMATION}


ANALYSIS_LONG_SIDE = ANALYSIS_MAX_SIDE
"""The checks need a long side of at least this many pixels; JPEGs are decoded reduced."""


def decode_reduce_for(width: int, height: int) -> int:
    """The largest JPEG reduction (1, 2, 4, 8) that keeps the long side >= 320 pixels."""
    return reduction_for(width, height, ANALYSIS_LONG_SIDE)


def decode_for_checks(data: bytes, *, max_pixels: int) -> DecodedImage:
    """Decode untrusted bytes at the resolution the checks need (reduced JPEG decoding).

    Raises :class:`~framegate.schemas.errors.InvalidMessage` exactly as :func:`decode_image`.
    """
    return decode_image(data, max_pixels=max_pixels, long_side=ANALYSIS_LONG_SIDE)


@dataclass(frozen=True)
class Inspection:
    """What one frame showed: every metric measured and the issues found."""

    metrics: dict[str, float]
    issues: list[Issue]


@dataclass(frozen=True, slots=True)
class _Scene:
    """What the image checks say about the scene, for the view checks."""

    bad: bool  # a scene issue: dark, bright, low contrast, blurry, low information, clipped
    content_lost: bool  # the picture's content is gone: dark, bright, low contrast, low info


@dataclass(frozen=True, slots=True)
class _Repeats:
    """What the repeat checks measured and found, for the state update."""

    issues: list[Issue]
    exact: bool  # an exact copy of a recent frame of this camera
    change: float  # mean thumbnail change from the previous frame; nan on the first
    change_peak: float  # largest thumbnail change; nan on the first
    still: bool  # the previous picture again
    match_distance: float  # fingerprint distance to the nearest older frame
    match_back: int  # how many frames back that frame is; 0 when none
    step_distance: float  # fingerprint distance to the previous frame; nan on the first


def _baseline_row(
    metrics: Mapping[str, float], repeats: _Repeats, interval: float, *, moved: bool
) -> dict[str, float]:
    """The values a frame adds to the camera's baseline: its image metrics, and the
    sequence values of an ordinary frame (not still, not a copy, not a move)."""
    row = {k: metrics[k] for k in BASELINE_METRICS}
    delta = repeats.change
    if delta == delta and not repeats.still:
        row["change"] = delta
        row["change_peak"] = repeats.change_peak
        if repeats.step_distance == repeats.step_distance:
            row["step_distance"] = repeats.step_distance
    if interval == interval and interval > 0:
        row["interval"] = interval
    if repeats.match_back and not repeats.exact and not repeats.still:
        row["match_distance"] = repeats.match_distance
    if "view_match" in metrics and not moved:
        row["view_match"] = metrics["view_match"]
        row["view_shift"] = metrics["view_shift"]
    return row


def _arr(a: np.ndarray | None) -> str | None:
    return None if a is None else pack(a, a.dtype.newbyteorder("<").str)


def _unarr(s: str | None, dtype: str, shape: tuple[int, ...]) -> np.ndarray | None:
    if s is None:
        return None
    return unpack(s, dtype, shape)


class CameraInspector:
    """All per-camera state (baselines, hash history, reference view) and all checks.

    Parameters
    ----------
    policy
        The camera's thresholds (``Policy.for_camera(camera_id)``).
    camera_id
        Used only to tell the fleet index which frames are this camera's own.
    """

    def __init__(self, policy: CameraPolicy, *, camera_id: str = "") -> None:
        self.policy = policy
        self.camera_id = camera_id
        self._reset()

    def _reset(self) -> None:
        b = self.policy.baseline
        self._base = RobustBaseline(
            BASELINE_METRICS + seq.SEQUENCE_METRICS, window=b.window, warmup=b.warmup
        )
        self._history = HashHistory(
            max(self.policy.exact_duplicate.history, self.policy.near_duplicate.history)
        )
        self._prev_thumb: np.ndarray | None = None
        self._prev_t: float | None = None
        self._still_run = 0
        self._view = ReferenceView()
        self._usual_size: tuple[int, int] | None = None
        self._flagged = 0

    def inspect(
        self,
        image: DecodedImage,
        *,
        frame_id: str,
        captured_at: float,
        annotations: Sequence[Annotation] = (),
        fleet: FleetHashIndex | None = None,
    ) -> Inspection:
        """Run every check on one frame (in capture order) and update the camera's state.

        Parameters
        ----------
        image
            Decoded pixels, ideally from :func:`decode_for_checks`.
        frame_id
            Used in details and in the fleet index.
        captured_at
            Epoch seconds, for ``dropped_frames``.
        annotations
            Ground-truth boxes, in the camera's pixel coordinates.
        fleet
            Optional :class:`~framegate.detectors.hashing.FleetHashIndex`: queried for copies from
            other cameras, then given this frame.
        """
        measures = measure(image.bgr)
        metrics = dict(measures.metrics)
        issues, scene = self._check_image(image, metrics)
        repeats = self._check_repeats(measures, metrics, fleet)
        issues += repeats.issues
        interval, late = self._check_timing(captured_at, metrics)
        issues += late
        view = self._view.check(
            measures,
            metrics,
            scene_bad=scene.bad,
            content_lost=scene.content_lost,
            still=repeats.still,
            base=self._base,
            policy=self.policy,
        )
        issues += view.issues
        self._remember(
            image,
            measures,
            metrics,
            flagged=bool(issues),
            repeats=repeats,
            interval=interval,
            moved=view.moved,
            frame_id=frame_id,
            captured_at=captured_at,
            fleet=fleet,
        )
        issues.extend(check_annotations(annotations, image.width, image.height, self.policy))
        return Inspection(metrics=metrics, issues=issues)

    # -- one concern each -------------------------------------------------------------------
    def _check_image(
        self, image: DecodedImage, metrics: Mapping[str, float]
    ) -> tuple[list[Issue], _Scene]:
        """The image checks against the camera's baseline, then size and aspect ratio."""
        p = self.policy
        issues = run_image_checks(metrics, self._base, p)
        scene = _Scene(
            bad=any(i.check in _SCENE_ISSUES for i in issues),
            content_lost=any(i.check in _CONTENT_LOST for i in issues),
        )
        for issue in (
            check_odd_size(image.width, image.height, self._usual_size, p),
            check_odd_aspect_ratio(image.width, image.height, p),
        ):
            if issue is not None:
                issues.append(issue)
        return issues, scene

    def _check_repeats(
        self, measures: FrameMeasures, metrics: dict[str, float], fleet: FleetHashIndex | None
    ) -> _Repeats:
        """Exact copies, the previous picture again, copies of older frames (this camera's
        or, with a fleet index, another camera's). Adds ``change`` and ``match_distance``."""
        p = self.policy
        issues: list[Issue] = []
        exact = seq.check_exact(self._history, measures.digest, p)
        if exact is not None:
            issues.append(exact)
        delta = peak = float("nan")
        still = False
        if self._prev_thumb is not None:
            delta, peak = seq.change(measures.thumb, self._prev_thumb)
            metrics["change"] = delta
            still = seq.is_still(delta, peak, self._base, p)
            if still:
                issue = seq.check_repeat(delta, peak, self._still_run, self._base, p)
                if issue is not None:
                    issues.append(issue)
        distance, back = self._history.nearest(
            measures.fingerprint, skip_recent=p.near_duplicate.skip_recent
        )
        step = self._history.distance(measures.fingerprint, 1)
        if back:
            metrics["match_distance"] = distance
        if exact is None and not still:
            tol = seq.repeat_tolerance(self._base, p)
            earlier = self._history.frame_id(back)
            issue = seq.check_near_history(distance, step, back, tol, earlier, p)
            if issue is not None:
                issues.append(issue)
        if fleet is not None and exact is None:
            match = fleet.query(measures.hash_bits, camera_id=self.camera_id)
            if match is not None and (
                issue := p.near_duplicate.judge(
                    Check.NEAR_DUPLICATE,
                    (fleet.max_bits + 1.0) / (match.bits + 0.5),
                    f"perceptual hash within {match.bits} bits of frame {match.frame_id} "
                    f"from camera {match.camera_id}",
                )
            ):
                issues.append(issue)
        return _Repeats(
            issues=issues,
            exact=exact is not None,
            change=delta,
            change_peak=peak,
            still=still,
            match_distance=distance,
            match_back=back,
            step_distance=step,
        )

    def _check_timing(
        self, captured_at: float, metrics: dict[str, float]
    ) -> tuple[float, list[Issue]]:
        """The gap since the previous frame (``interval``, nan on the first) and
        ``dropped_frames``."""
        if self._prev_t is None:
            return float("nan"), []
        interval = captured_at - self._prev_t
        metrics["interval"] = interval
        issue = seq.check_dropped(interval, self._base, self.policy)
        return interval, [] if issue is None else [issue]

    def _remember(
        self,
        image: DecodedImage,
        measures: FrameMeasures,
        metrics: Mapping[str, float],
        *,
        flagged: bool,
        repeats: _Repeats,
        interval: float,
        moved: bool,
        frame_id: str,
        captured_at: float,
        fleet: FleetHashIndex | None,
    ) -> None:
        """Update the camera's state with this frame: baseline, usual size, reference view,
        hash history, the previous frame, and the fleet index."""
        if flagged:
            self._flagged += 1
        # During warm-up every frame is admitted (a camera that starts out odd must still
        # get a baseline); afterwards flagged frames only now and then, so a lasting change
        # of scene becomes the new normal within window x admit_flagged_every / 2 frames.
        admit = (
            not self._base.ready or self._flagged % self.policy.baseline.admit_flagged_every == 0
        )
        if not flagged or admit:
            self._base.update(_baseline_row(metrics, repeats, interval, moved=moved))
        if self._usual_size is None or (not flagged and self._view.age == 0):
            self._usual_size = (image.width, image.height)
        self._view.update(
            measures.thumb,
            measures.cells,
            reset=moved or self._view.thumb is None,
            clean=not flagged,
        )
        self._history.add(measures.digest, measures.fingerprint, frame_id=frame_id)
        delta = repeats.change
        self._still_run = (
            self._still_run + 1 if repeats.still or (repeats.exact and delta == 0) else 0
        )
        self._prev_thumb = measures.thumb
        if self._prev_t is None or captured_at > self._prev_t:
            self._prev_t = captured_at
        if fleet is not None:
            fleet.add(measures.hash_bits, camera_id=self.camera_id, frame_id=frame_id)

    def state(self) -> dict:
        """JSON-serialisable state (about 18 KB with the default policy); never pickled."""
        return {
            "version": STATE_VERSION,
            "camera_id": self.camera_id,
            "baseline": self._base.state(),
            "history": self._history.state(),
            "prev_thumb": _arr(self._prev_thumb),
            "prev_t": self._prev_t,
            "still_run": self._still_run,
            "ref_thumb": _arr(self._view.thumb),
            "ref_cells": _arr(self._view.cells),
            "ref_age": self._view.age,
            "usual_size": list(self._usual_size) if self._usual_size else None,
            "flagged": self._flagged,
        }

    @classmethod
    def from_state(cls, state: Mapping, policy: CameraPolicy) -> Self:
        """Rebuild an inspector from :meth:`state`; it decides exactly as the original would.

        State from an unknown version is ignored (the camera starts afresh, warming up).
        """
        new = cls(policy, camera_id=str(state.get("camera_id", "")))
        if state.get("version") != STATE_VERSION:
            return new
        thumb_shape = (THUMB_SIZE[1], THUMB_SIZE[0])
        new._base.load_state(state["baseline"])
        new._history = HashHistory.from_state(state["history"], size=new._history.size)
        new._prev_thumb = _unarr(state["prev_thumb"], "uint8", thumb_shape)
        new._prev_t = state["prev_t"]
        new._still_run = int(state["still_run"])
        new._view = ReferenceView(
            _unarr(state["ref_thumb"], "uint8", thumb_shape),
            _unarr(state["ref_cells"], "<f4", (GRID[1], GRID[0])),
            int(state["ref_age"]),
        )
        size = state["usual_size"]
        new._usual_size = (int(size[0]), int(size[1])) if size else None
        new._flagged = int(state["flagged"])
        return new
