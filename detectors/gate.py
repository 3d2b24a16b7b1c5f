"""Everything framegate knows about one camera, composed into one stateful object.

A :class:`CameraGate` runs a camera's image and sequence checks, its embedding reference,
the join of frames with the model's predictions, the prediction and label checks, relabel
routing within the camera's budget, and its drift monitors. It is pure: the worker loads it
from a table (:meth:`CameraGate.from_state`), feeds it frames and predictions in arrival
order, and stores :meth:`CameraGate.state` back.

The join. A frame whose prediction is already waiting is completed at once. A frame from a
camera that has sent predictions recently (``expect_predictions_s``) is held up to
``join_window_s`` for its prediction, so its report carries every check; after that it is
completed without one. Frames of cameras that send no predictions are never held. A
prediction whose frame never comes expires and is counted in :attr:`CameraGate.unmatched`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from framegate.detectors.camera_kind import SCENE_KINDS
from framegate.detectors.causes import name_cause
from framegate.detectors.decode import DecodedImage
from framegate.detectors.drift import (
    CameraDriftMonitor,
    CameraReference,
    DriftConfig,
    DriftEvent,
    class_frequency_stats,
)
from framegate.detectors.embedding_reference import EmbeddingReference
from framegate.detectors.hashing import FleetHashIndex
from framegate.detectors.health import HealthEpisodes, HealthEvent
from framegate.detectors.inspector import CameraInspector, Inspection
from framegate.detectors.label_errors import ConfidentLearning, detection_label_issues
from framegate.detectors.policy import CameraPolicy
from framegate.detectors.prediction_checks import (
    ClassFrequency,
    PredictionThresholds,
    check_prediction,
    confidence,
)
from framegate.detectors.prediction_join import PredictionJoin
from framegate.detectors.relabel import RelabelBudget, build_request
from framegate.schemas import (
    Check,
    Frame,
    FrameImage,
    Issue,
    Prediction,
    QualityReport,
    RelabelRequest,
)
from framegate.schemas.checks import CameraKind
from framegate.schemas.reports import unexplained

STATE_VERSION = 5  # 5: camera kinds, one embedding reference per view (patrol preset)


#: Report metric -> drift statistic. Sharpness is watched contrast-free (``edge_ratio``), so
#: a darker scene is not also reported as a blurrier one.
DRIFT_STATISTICS = {
    "brightness": "brightness",
    "edge_ratio": "sharpness",
    "embedding_distance": "embedding_distance",
}


def drift_statistics(metrics: Mapping[str, float]) -> dict[str, float]:
    """The drift monitors' per-frame statistics from a report's metrics."""
    return {
        stat: float(metrics[name]) for name, stat in DRIFT_STATISTICS.items() if name in metrics
    }


class GateConfig(BaseModel):
    """Per-camera settings of the model-aware half; defaults need no configuration."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    join_window_s: float = Field(10.0, gt=0, description="longest wait for a frame's partner")
    health_clear_frames: int = Field(
        10, ge=1, description="clean frames in a row that resolve a camera_health alert"
    )
    expect_predictions_s: float = Field(
        300.0, ge=0, description="hold frames of cameras that sent a prediction this recently"
    )
    max_pending: int = Field(2000, ge=1, description="frames and predictions waiting, per camera")
    max_held_image_bytes: int = Field(
        32 * 1024 * 1024,
        ge=0,
        description="inline images of held frames kept in memory, per camera; beyond, a held "
        "frame's relabel request points at the frames topic instead",
    )
    relabel_per_hour: float = Field(120.0, gt=0, description="relabel requests per camera-hour")
    prediction: PredictionThresholds = PredictionThresholds()
    drift: DriftConfig = DriftConfig()


@dataclass
class Completed:
    """A frame with every check done: its report, maybe a request, and the transitions it
    caused: of its drift statistics (``drift``) and of the camera's health (``health``).

    Both kinds become alerts (:func:`framegate.detectors.alerts.to_alert`); the fleet
    monitor takes both too (:meth:`framegate.detectors.drift.FleetDriftMonitor.update`).
    """

    report: QualityReport
    request: RelabelRequest | None
    drift: list[DriftEvent] = field(default_factory=list)
    health: list[HealthEvent] = field(default_factory=list)
    budget_refused: bool = False


class Held(BaseModel):
    """A checked frame waiting for its prediction, with what completing it still needs."""

    model_config = ConfigDict(frozen=True)

    frame: Frame
    width: int
    height: int
    metrics: dict[str, float]
    issues: list[Issue]
    camera_kind: CameraKind | None = None


def without_pixels(frame: Frame, source: str) -> Frame:
    """The frame with inline image bytes replaced by where they are (``kafka://...``).

    Held frames sit in the camera's state, which goes to a changelog on every batch: a
    reference keeps it small, and a relabeling service can still fetch the image.
    """
    if frame.image.data is None:
        return frame
    return frame.model_copy(update={"image": FrameImage(encoding=frame.image.encoding, uri=source)})


class CameraGate:
    """One camera's checks and state; see the module docstring."""

    def __init__(
        self,
        camera_id: str,
        policy: CameraPolicy,
        config: GateConfig,
        reference: CameraReference | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.policy = policy
        self.config = config
        self.inspector = CameraInspector(policy, camera_id=camera_id)
        # An embedding reference per view of a fixed or patrol camera (restarted when the
        # view is new), one for the whole camera otherwise (key -1).
        self.references: dict[int, EmbeddingReference] = {}
        self._born: dict[int, int] = {}
        self.labels = ConfidentLearning()
        self.classes = ClassFrequency()
        self.budget = RelabelBudget(per_hour=config.relabel_per_hour)
        self.drift = CameraDriftMonitor(config.drift, reference)
        self.join: PredictionJoin[Held, Prediction] = PredictionJoin(
            window_s=config.join_window_s, max_pending=config.max_pending
        )
        self.last_prediction_at: float | None = None
        self.unmatched = 0
        self.health = HealthEpisodes(config.health_clear_frames)
        # Inline bytes of held frames, in memory only: after a restart their requests
        # point at the frames topic instead.
        self._pixels: dict[str, FrameImage] = {}
        self._pixel_chars = 0

    # -- feeding ------------------------------------------------------------------------
    def frame(
        self,
        frame: Frame,
        image: DecodedImage,
        *,
        embedding: np.ndarray | None,
        source: str,
        now: float,
        fleet: FleetHashIndex | None = None,
    ) -> list[Completed]:
        """Check one decoded frame; returns what completed (this frame unless it is held).

        ``now`` is the caller's wall clock (epoch seconds), here as in :meth:`prediction`
        and :meth:`expire`: it measures the join window and is the ``processed_at`` of
        every report completed by the call. The gate reads no clock of its own.

        ``fleet`` is the worker's :class:`~framegate.detectors.hashing.FleetHashIndex`, if
        it keeps one: the frame is looked up among the other cameras' recent frames
        (``exact_duplicate``, ``near_duplicate`` across cameras), then added to it.
        """
        inspection: Inspection = self.inspector.inspect(
            image,
            frame_id=frame.frame_id,
            captured_at=frame.captured_at.timestamp(),
            annotations=frame.annotations,
            fleet=fleet,
        )
        metrics, issues = dict(inspection.metrics), list(inspection.issues)
        if embedding is not None:
            issues += self._embedding_issues(inspection, embedding, frame.frame_id, metrics)
        held = Held(
            frame=without_pixels(frame, source),
            width=image.width,
            height=image.height,
            metrics=metrics,
            issues=issues,
            camera_kind=inspection.kind,
        )
        done = self.expire(now=now)
        if frame.frame_id not in self.join and not self._expects_predictions(now):
            return [*done, self._complete(held, None, frame.image, now=now)]
        joined = self.join.add_frame(frame.frame_id, held, now=now)
        if joined is None:
            self._keep_pixels(frame.frame_id, frame.image)
            return done
        return [*done, self._complete(held, joined.prediction, frame.image, now=now)]

    def _embedding_issues(
        self, inspection: Inspection, embedding: np.ndarray, frame_id: str, metrics: dict
    ) -> list[Issue]:
        """The embedding checks against the reference of the view the frame showed.
        ``outlier`` ("far from this camera's usual scene") only where the scene is meant to
        stay put (fixed, patrol); elsewhere the distance is still measured (a drift
        statistic) and the embedding ``near_duplicate`` still judged."""
        key = inspection.view if inspection.kind in SCENE_KINDS else -1
        if key >= 0 and self._born.get(key) != inspection.view_born:
            self.references.pop(key, None)  # a new view (a move, a new preset): learnt afresh
            self._born[key] = inspection.view_born
        reference = self.references.get(key)
        if reference is None:
            reference = self.references[key] = EmbeddingReference()
        score, found = reference.observe(embedding, frame_id=frame_id)
        if np.isfinite(score.distance):
            metrics["embedding_distance"] = float(score.distance)
        if inspection.kind not in SCENE_KINDS:
            found = [i for i in found if i.check != Check.OUTLIER]
        return found

    def rebaseline_scene(self) -> None:
        """Restart every scene reference of the camera (views, patrol presets, baselines,
        embedding references): what follows is its new normal, as a ``camera_moved`` does
        for the view it moved to. Kind, frame history, labels, budget, pending joins and
        drift monitors are kept (drift has its own re-baseline)."""
        self.inspector.rebaseline()
        self.references.clear()
        self._born.clear()

    def prediction(self, prediction: Prediction, *, now: float) -> list[Completed]:
        """Join a prediction to its frame, or keep it waiting for the frame."""
        self.last_prediction_at = now
        joined = self.join.add_prediction(prediction.frame_id, prediction, now=now)
        done = self.expire(now=now)
        if joined is None:
            return done
        image = self._take_pixels(prediction.frame_id, joined.frame.frame.image)
        return [*done, self._complete(joined.frame, prediction, image, now=now)]

    def expire(self, *, now: float) -> list[Completed]:
        """Complete held frames whose prediction did not come in time; count lost predictions."""
        done = []
        for expired in self.join.expire(now=now):
            if expired.side == "frame":
                image = self._take_pixels(expired.frame_id, expired.item.frame.image)
                done.append(self._complete(expired.item, None, image, now=now))
            else:
                self.unmatched += 1
        return done

    def _keep_pixels(self, frame_id: str, image: FrameImage) -> None:
        """Keep a held frame's inline image, within ``max_held_image_bytes`` per camera."""
        size = len(image.data or "")
        if self._pixel_chars + size <= self.config.max_held_image_bytes:
            self._pixels[frame_id] = image
            self._pixel_chars += size

    def _take_pixels(self, frame_id: str, default: FrameImage) -> FrameImage:
        image = self._pixels.pop(frame_id, None)
        if image is None:
            return default
        self._pixel_chars -= len(image.data or "")
        return image

    @property
    def held(self) -> int:
        """Frames waiting for their prediction."""
        return self.join.waiting("frame")

    @property
    def pending(self) -> int:
        """Frames and predictions waiting for their partner."""
        return len(self.join)

    def _expects_predictions(self, now: float) -> bool:
        return (
            self.last_prediction_at is not None
            and now - self.last_prediction_at <= self.config.expect_predictions_s
        )

    # -- drift --------------------------------------------------------------------------
    def rebaseline_drift(self, metric: str | None = None, *, at: float) -> list[DriftEvent]:
        """Declare the camera's present state its drift monitors' new normal, for one
        statistic (``brightness``, ``sharpness``, ``embedding_distance``, ``confidence``,
        ``class_freq:<label>``; a report metric such as ``edge_ratio`` names its statistic)
        or for all (None). See :meth:`CameraDriftMonitor.rebaseline`: the statistics are
        self-starting again from the next frame, and the ``resolved`` events of alerts
        still open on them are returned (``at``: the request's time, epoch seconds)."""
        name = None if metric is None else DRIFT_STATISTICS.get(metric, metric)
        return self.drift.rebaseline(name, at=at)

    # -- completing ---------------------------------------------------------------------
    def _complete(
        self, held: Held, prediction: Prediction | None, image: FrameImage, *, now: float
    ) -> Completed:
        """The report of a frame whose checks are all done; ``now`` (epoch seconds, the
        caller's wall clock) is its ``processed_at``."""
        frame, metrics, issues = held.frame, dict(held.metrics), list(held.issues)
        stats = drift_statistics(metrics)
        if prediction is not None:
            issues += check_prediction(prediction, self.config.prediction)
            issues += self._label_issues(frame, prediction)
            top = confidence(prediction)
            if top is not None:
                metrics["confidence"] = stats["confidence"] = float(top)
            self.classes.update(prediction)
            stats.update(class_frequency_stats(_labels(prediction, self.classes.min_score)))
        at = frame.captured_at.timestamp()
        cause, issues = name_cause(issues)
        drift = self.drift.update(stats, frame_id=frame.frame_id, at=at)
        # a camera-health episode is opened for what happened, not for its side effects
        roots = unexplained(issues)
        health = self.health.update(roots, frame_id=frame.frame_id, at=at)
        report = QualityReport(
            frame_id=frame.frame_id,
            camera_id=frame.camera_id,
            captured_at=frame.captured_at,
            processed_at=datetime.fromtimestamp(now, tz=UTC),
            width=held.width,
            height=held.height,
            metrics=metrics,
            issues=issues,
            camera_kind=held.camera_kind,
            cause=cause,
        )
        request, refused = None, False
        if issues:
            request = build_request(
                frame.model_copy(update={"image": image}), roots, prediction=prediction
            )
            if request is not None and not self.budget.offer(request.priority, now=at):
                request, refused = None, True
        return Completed(report, request, drift, health, refused)

    def _label_issues(self, frame: Frame, prediction: Prediction) -> list[Issue]:
        found: list[Issue] = []
        if prediction.classes is not None:
            for annotation in frame.annotations:
                if annotation.box is None:
                    issue = self.labels.observe(annotation.label, prediction.classes)
                    if issue is not None:
                        found.append(issue)
        elif prediction.detections is not None and any(a.box for a in frame.annotations):
            found += detection_label_issues(frame.annotations, prediction.detections)
        return found

    # -- persistence --------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "inspector": self.inspector.state(),
            "references": {str(view): ref.state() for view, ref in self.references.items()},
            "born": {str(view): born for view, born in self._born.items()},
            "labels": self.labels.state(),
            "classes": self.classes.state(),
            "budget": self.budget.state(),
            "drift": self.drift.state(),
            "join": self.join.state(),
            "last_prediction_at": self.last_prediction_at,
            "unmatched": self.unmatched,
            "health": self.health.state(),
        }

    @classmethod
    def from_state(
        cls,
        camera_id: str,
        state: Mapping[str, Any],
        policy: CameraPolicy,
        config: GateConfig,
        reference: CameraReference | None = None,
    ) -> CameraGate:
        """Restore a saved gate; a layout an older version wrote starts afresh, from the
        calibrated drift ``reference`` when there is one, like a camera never seen."""
        if state.get("version") != STATE_VERSION:
            return cls(camera_id, policy, config, reference)
        gate = cls(camera_id, policy, config)
        gate.inspector = CameraInspector.from_state(state["inspector"], policy)
        gate.references = {
            int(view): EmbeddingReference.from_state(ref)
            for view, ref in state["references"].items()
        }
        gate._born = {int(view): int(born) for view, born in state["born"].items()}
        gate.labels = ConfidentLearning.from_state(state["labels"])
        gate.classes = ClassFrequency.from_state(state["classes"])
        gate.budget = RelabelBudget.from_state(state["budget"])
        try:
            gate.drift = CameraDriftMonitor.from_state(state["drift"], config.drift)
        except ValueError:  # a drift layout an older version wrote: self-starting afresh
            gate.drift = CameraDriftMonitor(config.drift, reference)
        gate.join = PredictionJoin.from_state(
            state["join"], frame_type=Held, prediction_type=Prediction
        )
        gate.last_prediction_at = state["last_prediction_at"]
        gate.unmatched = state["unmatched"]
        gate.health = HealthEpisodes.from_state(state["health"], config.health_clear_frames)
        return gate


def _labels(prediction: Prediction, min_score: float) -> list[str]:
    if prediction.classes is not None:
        return [max(prediction.classes, key=prediction.classes.__getitem__)]
    return [d.label for d in prediction.detections or [] if d.score >= min_score]
