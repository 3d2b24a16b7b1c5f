"""One camera's inspector: every image, sequence and annotation check for one frame.

The worker keeps one :class:`CameraInspector` per camera (its ``state()`` in a table keyed
by ``camera_id``) and calls :meth:`CameraInspector.inspect` for each frame in order::

    image = decode_for_checks(data, max_pixels=settings.max_pixels)
    inspection = inspector.inspect(image, frame_id=f.frame_id, captured_at=ts,
                                   annotations=f.annotations, fleet=fleet_index)
    table[camera_id] = inspector.state()

The camera's kind (:mod:`framegate.detectors.camera_kind`, or ``policy.kind`` when pinned)
decides what a frame is judged against. Fixed and patrol cameras: their view's normal
(:mod:`framegate.detectors.image_checks`), the view itself (obstructed, camera_moved) and a
continuous stream's duplicates; moving and snapshot cameras: content-independent limits
(:mod:`framegate.detectors.image_checks_free`); snapshot cameras are not judged ``frozen``
(a repeated picture is a duplicate) and their duplicates are any close earlier picture.
Until the kind is known (the first ``kinds.min_evidence`` frames), only the absolute floors
apply and no scene-reference check runs; ``grayscale`` waits until the camera's baseline
says whether grey is its normal (a night or IR camera).

Memory per camera (default policy): the camera baseline (64 x 10 float32), the frame history
(64 x 142 B plus ids), the previous thumbnail, and per view (one on a fixed camera, up to 6
on a patrol camera) a thumbnail, 48 cell textures and a 64 x 10 baseline; ``state()`` is
about 26 KB of JSON on a fixed camera, 38 KB on a patrol camera with 3 presets (measured on
the benchmark corpus, with 16-character frame ids).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np

from framegate.detectors import sequence as seq
from framegate.detectors.annotations import check_annotations
from framegate.detectors.camera_kind import SCENE_KINDS, CameraKind, KindTracker, Step
from framegate.detectors.decode import DecodedImage, decode_image, reduction_for
from framegate.detectors.duplicates import DUPLICATE_METRICS
from framegate.detectors.hashing import FleetHashIndex, FrameKey, HashHistory
from framegate.detectors.image_checks import (
    BASELINE_METRICS,
    check_odd_aspect_ratio,
    check_odd_size,
    run_image_checks,
)
from framegate.detectors.image_checks_free import (
    CAMERA_METRICS,
    is_grey_camera,
    run_free_checks,
)
from framegate.detectors.image_metrics import ANALYSIS_MAX_SIDE, THUMB_SIZE, measure
from framegate.detectors.moves import judge_move, jump
from framegate.detectors.packing import pack, unpack
from framegate.detectors.policy import CameraPolicy
from framegate.detectors.reference_view import VIEW_METRICS
from framegate.detectors.repeats import Repeats, check_repeats
from framegate.detectors.sequence_baseline import RobustBaseline
from framegate.detectors.views import Motion, SceneViews
from framegate.schemas.checks import Check
from framegate.schemas.frames import Annotation
from framegate.schemas.reports import Issue

STATE_VERSION = 3  # 3: camera kinds, views per preset, descriptors with capture times

_SCENE_ISSUES = {
    Check.DARK,
    Check.BRIGHT,
    Check.LOW_CONTRAST,
    Check.BLURRY,
    Check.LOW_INFORMATION,
    Check.EXPOSURE_CLIPPED,
}
_CONTENT_LOST = {Check.DARK, Check.BRIGHT, Check.LOW_CONTRAST, Check.LOW_INFORMATION}
# A camera's style, not judged before its kind is known (a product camera's black backdrop).
_STYLE = {Check.EXPOSURE_CLIPPED, Check.GRAYSCALE}
CAMERA_COLUMNS = (*seq.SEQUENCE_METRICS, *DUPLICATE_METRICS, *CAMERA_METRICS)
_COLD = RobustBaseline(VIEW_METRICS, window=8, warmup=8)  # never updated: absolute limits

ANALYSIS_LONG_SIDE = ANALYSIS_MAX_SIDE
"""The checks need a long side of at least this many pixels; JPEGs are decoded reduced."""


def _tracker_params(policy: CameraPolicy) -> dict:
    k = policy.kinds
    return {
        "window": k.window,
        "min_evidence": k.min_evidence,
        "switch_after": k.switch_after,
        "snapshot_cuts": k.snapshot_cuts,
        "moving_drifts": k.moving_drifts,
        "patrol_returns": k.patrol_returns,
    }


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
    """What one frame showed: every metric measured and the issues found, the camera's kind
    (None until recognised), whether the camera moved (its references restart) and which of
    its views (patrol presets) the frame showed."""

    metrics: dict[str, float]
    issues: list[Issue]
    kind: CameraKind | None = None
    moved: bool = False
    view: int = 0
    view_born: int = 0  # when that view was set: a new number means a new view


class CameraInspector:
    """All per-camera state (baselines, hash history, views, kind) and all checks.

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
        p = self.policy
        self._camera = self._new_baseline()
        self._history = HashHistory(max(p.exact_duplicate.history, p.near_duplicate.history))
        self._views = SceneViews(p)
        self._kinds = KindTracker(**_tracker_params(p))
        self._prev_thumb: np.ndarray | None = None
        self._prev_t: float | None = None
        self._still_run = 0
        self._usual_size: tuple[int, int] | None = None
        self._flagged = 0
        self._frames = 0
        self._at_view = False

    def _new_baseline(self) -> RobustBaseline:
        b = self.policy.baseline
        return RobustBaseline(CAMERA_COLUMNS, window=b.window, warmup=b.warmup)

    @property
    def kind(self) -> CameraKind | None:
        """The camera's kind: pinned by the policy, else recognised (None until then)."""
        return self._kinds.kind if self.policy.kind == "auto" else self.policy.kind

    def rebaseline(self) -> None:
        """Restart every scene reference: the views (patrol presets) and the baselines. The
        next frame is the camera's new normal; its kind and frame history are kept."""
        self._views.restart()
        self._camera = self._new_baseline()
        self._usual_size = None
        self._flagged = 0
        self._at_view = False

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
            Epoch seconds: ``dropped_frames`` and the duplicate history's time bound.
        annotations
            Ground-truth boxes, in the camera's pixel coordinates.
        fleet
            Optional :class:`~framegate.detectors.hashing.FleetHashIndex`: queried for copies
            from other cameras, then given this frame.
        """
        p = self.policy
        kind = self.kind
        scene = kind in SCENE_KINDS
        measures = measure(image.bgr)
        metrics = dict(measures.metrics)
        key = FrameKey.of(measures)
        motion = self._views.observe(measures.thumb, self._prev_thumb, locate=kind != "snapshot")
        view = self._views.view
        if kind is None:  # not known yet: the absolute floors of the content checks only
            image_issues = [i for i in run_image_checks(metrics, _COLD, p) if i.check not in _STYLE]
        elif scene and view is not None:
            image_issues = run_image_checks(metrics, self._views.norm() or view.base, p)
        else:
            image_issues = run_free_checks(metrics, self._camera, p, varied=kind != "moving")
        if is_grey_camera(self._camera, p) is not False:  # grey is this camera's normal
            image_issues = [i for i in image_issues if i.check != Check.GRAYSCALE]
        issues = list(image_issues)
        scene_bad = any(i.check in _SCENE_ISSUES for i in image_issues)
        content_lost = any(i.check in _CONTENT_LOST for i in image_issues)
        usual = self._usual_size if kind in ("fixed", "patrol", "moving") else None
        for issue in (
            check_odd_size(image.width, image.height, usual, p),
            check_odd_aspect_ratio(image.width, image.height, p),
        ):
            if issue is not None:
                issues.append(issue)
        repeats = check_repeats(
            self._history,
            key,
            measures.thumb,
            self._prev_thumb,
            metrics,
            kind=kind,
            cut=motion.step == Step.CUT_KNOWN,
            still_run=self._still_run,
            base=self._camera,
            policy=p,
            captured_at=captured_at,
            camera_id=self.camera_id,
            fleet=fleet,
            frame_id=frame_id,
        )
        issues += repeats.issues
        # what a frame shows of the camera's motion is no evidence when its content is gone,
        # when it repeats another frame, or when it is not the camera's usual picture
        reliable = not (content_lost or repeats.issues) and all(
            i.check != Check.ODD_SIZE for i in issues
        )
        interval = self._check_timing(captured_at, metrics, issues)
        moved = False
        if scene and view is not None and motion.place is not None:
            obstructed, candidate = view.check(
                measures,
                metrics,
                motion.place,
                scene_bad=scene_bad,
                content_lost=content_lost,
                policy=p,
            )
            if candidate is None and not scene_bad:
                candidate = jump(motion, p)
            move = judge_move(kind, motion, candidate, view, at_view=self._at_view, policy=p)
            if obstructed is not None:
                issues.append(obstructed)
            elif not repeats.still and move is not None:
                issues.append(move)
                moved = True
        self._remember(
            image,
            measures,
            key,
            metrics,
            motion,
            issues=issues,
            reliable=reliable,
            repeats=repeats,
            interval=interval,
            moved=moved,
            frame_id=frame_id,
            captured_at=captured_at,
            fleet=fleet,
        )
        issues.extend(check_annotations(annotations, image.width, image.height, self.policy))
        view = self._views.view
        born = view.born if view is not None else 0
        return Inspection(metrics, issues, kind, moved, self._views.active, born)

    # -- one concern each -------------------------------------------------------------------
    def _check_timing(self, captured_at: float, metrics: dict[str, float], issues: list[Issue]):
        """The gap since the previous frame (``interval``, nan on the first) and
        ``dropped_frames``."""
        if self._prev_t is None:
            return float("nan")
        interval = captured_at - self._prev_t
        metrics["interval"] = interval
        issue = seq.check_dropped(interval, self._camera, self.policy)
        if issue is not None:
            issues.append(issue)
        return interval

    def _remember(
        self,
        image: DecodedImage,
        measures,
        key: FrameKey,
        metrics: Mapping[str, float],
        motion: Motion,
        *,
        issues: list[Issue],
        reliable: bool,
        repeats: Repeats,
        interval: float,
        moved: bool,
        frame_id: str,
        captured_at: float,
        fleet: FleetHashIndex | None,
    ) -> None:
        """Update the camera's state with this frame: kind evidence, views, baselines, usual
        size, history, the previous frame, and the fleet index."""
        self._frames += 1
        flagged = bool(issues)
        if flagged:
            self._flagged += 1
        kind = self.kind
        stale = self._views.settle(
            motion,
            measures.thumb,
            measures.cells,
            clean=not flagged,
            moved=moved,
            keep_views=kind not in ("moving", "snapshot"),
            frame_no=self._frames,
            moving=kind in (None, "moving"),
        )
        evidence = Step.DRIFT if stale else motion.step
        self._kinds.update(evidence if reliable or stale else Step.NONE)
        if moved or (not flagged and motion.step != Step.NONE):
            self._at_view = True
        # During warm-up every frame is admitted (a camera that starts out odd must still
        # get a baseline); afterwards flagged frames only now and then, so a lasting change
        # becomes the new normal within window x admit_flagged_every / 2 frames.
        every = self.policy.baseline.admit_flagged_every
        view = self._views.view
        if (
            view is not None
            and not moved
            and (not flagged or not view.base.ready or self._flagged % every == 0)
        ):
            row = {k: metrics[k] for k in BASELINE_METRICS}
            if "view_match" in metrics and not motion.cut:
                row["view_match"], row["view_shift"] = metrics["view_match"], metrics["view_shift"]
            view.base.update(row)
        if not flagged or not self._camera.ready or self._flagged % every == 0:
            self._camera.update(repeats.baseline_row(metrics, interval, cut=motion.cut))
        if self._usual_size is None or not flagged:
            self._usual_size = (image.width, image.height)
        self._history.add(key, frame_id=frame_id, at=captured_at)
        self._still_run = self._still_run + 1 if repeats.still else 0
        self._prev_thumb = measures.thumb
        if self._prev_t is None or captured_at > self._prev_t:
            self._prev_t = captured_at
        if fleet is not None:
            fleet.add(key, camera_id=self.camera_id, frame_id=frame_id, at=captured_at)

    # -- persistence ------------------------------------------------------------------------
    def state(self) -> dict:
        """JSON-serialisable state (see the module docstring for its size); never pickled."""
        return {
            "version": STATE_VERSION,
            "camera_id": self.camera_id,
            "camera": self._camera.state(),
            "history": self._history.state(),
            "views": self._views.state(),
            "kinds": self._kinds.state(),
            "prev_thumb": None if self._prev_thumb is None else pack(self._prev_thumb, "u1"),
            "prev_t": self._prev_t,
            "still_run": self._still_run,
            "usual_size": list(self._usual_size) if self._usual_size else None,
            "flagged": self._flagged,
            "frames": self._frames,
            "at_view": self._at_view,
        }

    @classmethod
    def from_state(cls, state: Mapping, policy: CameraPolicy) -> Self:
        """Rebuild an inspector from :meth:`state`; it decides exactly as the original would.

        State from an unknown version is ignored (the camera starts afresh, warming up).
        """
        new = cls(policy, camera_id=str(state.get("camera_id", "")))
        if state.get("version") != STATE_VERSION:
            return new
        new._camera.load_state(state["camera"])
        new._history = HashHistory.from_state(state["history"], size=new._history.size)
        new._views = SceneViews.from_state(state["views"], policy)
        new._kinds = KindTracker.from_state(state["kinds"], **_tracker_params(policy))
        thumb = state["prev_thumb"]
        new._prev_thumb = (
            None if thumb is None else unpack(thumb, "u1", (THUMB_SIZE[1], THUMB_SIZE[0]))
        )
        new._prev_t = state["prev_t"]
        new._still_run = int(state["still_run"])
        size = state["usual_size"]
        new._usual_size = (int(size[0]), int(size[1])) if size else None
        new._flagged = int(state["flagged"])
        new._frames = int(state["frames"])
        new._at_view = bool(state["at_view"])
        return new
