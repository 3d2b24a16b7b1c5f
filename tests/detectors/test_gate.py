"""One camera composed: the frame/prediction join, label checks, health alerts, state."""

from __future__ import annotations

import json

import numpy as np
import pytest

from framegate.detectors.gate import CameraGate, GateConfig
from framegate.detectors.inspector import decode_for_checks
from framegate.detectors.policy import Policy
from framegate.schemas import Check, Frame, Prediction
from tests.factories import frame_doc, jittered, jpeg, photo, street

T = 1_800_000_000.0


def _frame(index: int, pixels: np.ndarray | None = None, **fields) -> tuple[Frame, object]:
    data = jpeg(pixels if pixels is not None else jittered(photo("coffee"), index))
    frame = Frame.model_validate(frame_doc("cam-g", index, data=data, **fields))
    return frame, decode_for_checks(data, max_pixels=10**8)


def _gate(**config) -> CameraGate:
    return CameraGate("cam-g", Policy().for_camera("cam-g"), GateConfig(**config))


def _prediction(index: int, **kind) -> Prediction:
    return Prediction(frame_id=f"cam-g:{index:06d}", camera_id="cam-g", model="m@1", **kind)


def _feed(gate: CameraGate, index: int, now: float, **fields):
    frame, image = _frame(index, **fields)
    return gate.frame(frame, image, embedding=None, source=f"kafka://f/0/{index}", now=now)


def test_frames_of_a_camera_without_predictions_complete_at_once():
    gate = _gate()
    done = _feed(gate, 0, T)
    assert [c.report.frame_id for c in done] == ["cam-g:000000"] and gate.held == 0


@pytest.mark.parametrize("prediction_first", [True, False], ids=["prediction-first", "frame-first"])
def test_prediction_joins_its_frame_in_either_order(prediction_first):
    gate = _gate()
    gate.prediction(_prediction(0, classes={"cup": 0.9, "plate": 0.1}), now=T)  # camera predicts
    _feed(gate, 0, T)
    low = _prediction(1, classes={"cup": 0.4, "plate": 0.35, "spoon": 0.25})
    if prediction_first:
        assert gate.prediction(low, now=T + 1) == []
        done = _feed(gate, 1, T + 1.2)
    else:
        assert _feed(gate, 1, T + 1) == []  # held: this camera sends predictions
        assert gate.held == 1
        done = gate.prediction(low, now=T + 1.5)
    [completed] = done
    checks = {i.check for i in completed.report.issues}
    assert "low_confidence" in checks
    assert completed.report.metrics["confidence"] == pytest.approx(0.4)
    assert completed.request is not None and completed.request.prediction == low
    assert completed.request.image.data is not None  # the inline image, not a reference


def test_a_held_frame_completes_without_its_prediction_after_the_window():
    gate = _gate(join_window_s=5)
    gate.prediction(_prediction(99, classes={"cup": 1.0}), now=T)
    assert _feed(gate, 1, T + 1) == []
    assert gate.expire(now=T + 3) == []
    done = gate.expire(now=T + 6.5)
    assert [c.report.frame_id for c in done] == ["cam-g:000001"]
    assert "confidence" not in done[0].report.metrics
    assert gate.unmatched == 1  # prediction 99 never met its frame


def test_detection_label_checks_run_on_annotated_frames():
    gate = _gate()
    gate.prediction(
        _prediction(
            0,
            detections=[
                {"label": "cup", "score": 0.95, "box": [100, 100, 300, 300]},
                {"label": "spoon", "score": 0.9, "box": [400, 50, 600, 200]},
            ],
        ),
        now=T,
    )
    [completed] = _feed(gate, 0, T, annotations=[{"label": "plate", "box": [102, 98, 298, 305]}])
    checks = {i.check for i in completed.report.issues}
    assert {"class_swap", "missed_object"} <= checks


def test_a_frozen_camera_raises_one_health_alert_and_resolves_it():
    gate = _gate(health_clear_frames=3)
    still = street(30)
    events = []
    for index in range(60):
        pixels = still if 30 <= index < 50 else street(index)
        for completed in _feed(gate, index, T + index, pixels=pixels):
            assert not [e for e in completed.drift if e.metric == "frozen"]
            events += completed.health
    frozen = [e.status for e in events if e.check == Check.FROZEN]
    assert frozen == ["firing", "resolved"]


def test_a_report_is_processed_at_the_callers_now():
    [done] = _feed(_gate(), 0, T + 0.25)
    assert done.report.processed_at.timestamp() == T + 0.25
    assert done.report.processed_at.tzinfo is not None


def test_state_round_trip_gives_identical_reports():
    gate = _gate()
    gate.prediction(_prediction(5, classes={"cup": 0.7, "plate": 0.3}), now=T)
    for index in range(5):
        _feed(gate, index, T + index)
    restored = CameraGate.from_state(
        "cam-g", json.loads(json.dumps(gate.state())), Policy().for_camera("cam-g"), GateConfig()
    )
    for g in (gate, restored):
        [done] = _feed(g, 5, T + 5)
        g.result = done.report.model_dump(exclude={"processed_at"})
    assert gate.result == restored.result
    assert json.dumps(gate.state()) == json.dumps(restored.state())


def test_a_health_resolution_carries_the_key_of_its_firing():
    from framegate.detectors.health import HealthEpisodes
    from framegate.detectors.issues import build_issue

    episodes = HealthEpisodes(clear_frames=2)
    frozen = [build_issue(Check.FROZEN, 0.9, 0.5, "still", critical_at=0.8)]
    events = []
    for index, issues in enumerate([frozen, frozen, [], [], frozen]):
        events += episodes.update(issues, frame_id=f"f{index}", at=float(index))
        episodes = HealthEpisodes.from_state(json.loads(json.dumps(episodes.state())), 2)
    assert [(e.status, e.frame_id, e.alert_key) for e in events] == [
        ("firing", "f0", "frozen|check|f0"),
        ("resolved", "f3", "frozen|check|f0"),
        ("firing", "f4", "frozen|check|f4"),
    ]


def test_a_health_event_survives_json_between_the_gate_and_the_fleet_agent():
    from framegate.detectors.health import HealthEvent

    events = [
        HealthEvent(
            Check.OBSTRUCTED, "firing", "f1", 1.5, "warning", fired_frame_id="f1", score=0.6
        ),
        HealthEvent(Check.OBSTRUCTED, "resolved", "f9", 9.5, "info", fired_frame_id="f1"),
    ]
    for event in events:
        assert HealthEvent.from_dict(json.loads(json.dumps(event.to_dict()))) == event
    assert events[0].alert_key == events[1].alert_key == "obstructed|check|f1"


def test_an_older_state_layout_starts_afresh_from_the_calibrated_reference():
    from framegate.detectors.drift import DriftConfig, calibrate

    reference = calibrate(
        {"brightness": np.random.default_rng(0).normal(0.5, 0.01, 500)},
        DriftConfig(),
        replay=False,
    )
    policy = Policy().for_camera("cam-1")
    gate = CameraGate.from_state("cam-1", {"version": 0}, policy, GateConfig(), reference)
    assert gate.drift.reference == reference


def test_a_report_names_the_camera_kind_once_it_is_known():
    gate = _gate()
    kinds = [_feed(gate, i, T + i)[0].report.camera_kind for i in range(30)]
    assert kinds[0] is None and kinds[-1] == "fixed"


def test_a_copy_from_another_camera_is_found_through_the_fleet_index():
    from framegate.detectors.hashing import FleetHashIndex

    fleet = FleetHashIndex()
    a = CameraGate("cam-a", Policy().for_camera("cam-a"), GateConfig())
    b = _gate()
    data = jpeg(photo("rocket"))
    frame = Frame.model_validate(frame_doc("cam-a", 0, data=data))
    image = decode_for_checks(data, max_pixels=10**8)
    a.frame(frame, image, embedding=None, source="kafka://f/0/0", now=T, fleet=fleet)
    copy = Frame.model_validate(frame_doc("cam-g", 1, data=data))
    [done] = b.frame(copy, image, embedding=None, source="kafka://f/0/1", now=T + 1, fleet=fleet)
    issue = next(i for i in done.report.issues if i.check == Check.EXACT_DUPLICATE)
    assert "cam-a" in issue.detail and len(fleet) == 2


def _unit(rng: np.random.Generator, base: np.ndarray, scale: float) -> np.ndarray:
    e = base + rng.normal(scale=scale, size=base.size)
    return e / np.linalg.norm(e)


def test_outlier_is_judged_only_where_the_scene_is_meant_to_stay_put():
    from framegate.detectors.embedding_reference import EmbeddingReference

    rng = np.random.default_rng(0)
    base = rng.normal(size=64)
    for pinned, expected in (("fixed", True), ("snapshot", False)):
        policy = Policy.model_validate({"cameras": {"cam-g": {"kind": pinned}}})
        gate = CameraGate("cam-g", policy.for_camera("cam-g"), GateConfig())
        for i in range(EmbeddingReference().warmup + 5):
            _feed_embedding(gate, i, _unit(rng, base, 0.3))
        [done] = _feed_embedding(gate, 60, _unit(rng, rng.normal(size=64), 0.0))
        assert ("outlier" in {i.check for i in done.report.issues}) == expected
        assert "embedding_distance" in done.report.metrics


def _feed_embedding(gate: CameraGate, index: int, embedding: np.ndarray):
    frame, image = _frame(index)
    return gate.frame(frame, image, embedding=embedding, source="kafka://f/0/0", now=T + index)


def test_rebaseline_scene_restarts_the_views_baselines_and_embedding_references():
    rng = np.random.default_rng(1)
    base = rng.normal(size=64)
    gate = _gate()
    for i in range(30):
        _feed_embedding(gate, i, _unit(rng, base, 0.3))
    assert gate.references and gate.inspector.kind == "fixed"
    gate.rebaseline_scene()
    assert gate.references == {} and gate.inspector.kind == "fixed"
    [done] = _feed_embedding(gate, 30, _unit(rng, rng.normal(size=64), 0.0))
    assert done.report.issues == []  # the new normal, not an outlier of the old one
    restored = CameraGate.from_state(
        "cam-g", json.loads(json.dumps(gate.state())), Policy().for_camera("cam-g"), GateConfig()
    )
    assert restored.references.keys() == gate.references.keys()


def test_held_frames_keep_inline_images_only_up_to_the_byte_limit():
    one_image = len(_frame(1)[0].image.data or "")
    gate = _gate(max_held_image_bytes=int(1.5 * one_image))
    gate.prediction(_prediction(0, classes={"cup": 0.9, "plate": 0.1}), now=T)
    low = {"classes": {"cup": 0.4, "plate": 0.35, "spoon": 0.25}}  # flagged: a request is due
    assert _feed(gate, 1, T + 1) == [] and _feed(gate, 2, T + 1.1) == []
    [first] = gate.prediction(_prediction(1, **low), now=T + 1.2)
    [second] = gate.prediction(_prediction(2, **low), now=T + 1.3)
    assert first.request is not None and first.request.image.data is not None
    # over the limit: the request points at where the frame is on the topic
    assert second.request is not None and second.request.image.uri == "kafka://f/0/2"
    assert gate._pixel_chars == 0  # everything kept was released


def test_a_darkened_frame_names_its_cause_and_asks_a_relabel_for_it_alone():
    gate = _gate(relabel_per_hour=10_000)
    for index in range(30):
        _feed(gate, index, T + index)
    dark = (jittered(photo("coffee"), 99) * 0.07).astype(np.uint8)
    [completed] = _feed(gate, 30, T + 30, pixels=dark)
    report = completed.report
    assert report.cause == Check.DARK
    assert len(report.issues) >= 2  # the side effects stay in the report, marked
    assert all(i.explained_by == Check.DARK for i in report.issues if i.check != Check.DARK)
    assert completed.request is not None
    assert [r.check for r in completed.request.reasons] == [Check.DARK]
    clean = _feed(gate, 31, T + 31)[0].report
    assert clean.cause is None and clean.issues == []
