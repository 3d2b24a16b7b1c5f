"""low_confidence, high_entropy and class-frequency tracking."""

from __future__ import annotations

import json

import pytest

from framegate.detectors.prediction_checks import (
    ClassFrequency,
    PredictionThresholds,
    check_prediction,
    high_entropy,
    low_confidence,
)
from framegate.schemas import Check, Detection, Prediction


def _pred(classes=None, detections=None) -> Prediction:
    return Prediction(
        frame_id="f", camera_id="c", model="m", classes=classes, detections=detections
    )


def _det(label: str, score: float) -> Detection:
    return Detection(label=label, score=score, box=(0, 0, 10, 10))


@pytest.mark.parametrize(
    ("pred", "fires"),
    [
        (_pred({"a": 0.9, "b": 0.1}), False),
        (_pred({"a": 0.4, "b": 0.35, "c": 0.25}), True),
        (_pred(detections=[_det("a", 0.3), _det("b", 0.4)]), True),
        (_pred(detections=[_det("a", 0.9)]), False),
        (_pred(detections=[]), False),
    ],
    ids=["confident", "unsure", "weak-boxes", "strong-box", "no-boxes"],
)
def test_low_confidence(pred, fires):
    issue = low_confidence(pred, min_confidence=0.5)
    assert (issue is not None) == fires
    if issue:
        assert issue.check == Check.LOW_CONFIDENCE and issue.score >= issue.threshold


def test_high_entropy_uniform_versus_peaked():
    flat = high_entropy(_pred({"a": 0.25, "b": 0.25, "c": 0.25, "d": 0.25}))
    assert flat is not None and flat.score == pytest.approx(1.0) and flat.severity == "critical"
    assert high_entropy(_pred({"a": 0.97, "b": 0.01, "c": 0.01, "d": 0.01})) is None
    assert high_entropy(_pred(detections=[_det("a", 0.5)])).score == pytest.approx(1.0)


def test_check_prediction_uses_thresholds():
    pred = _pred({"a": 0.6, "b": 0.4})
    assert check_prediction(pred) == [high_entropy(pred)]
    strict = PredictionThresholds(min_confidence=0.7, max_entropy=0.99)
    assert [i.check for i in check_prediction(pred, strict)] == [Check.LOW_CONFIDENCE]


def test_class_frequency_shift_and_round_trip():
    freq = ClassFrequency(fast_half_life=5, slow_half_life=500, max_classes=4)
    for _ in range(200):
        freq.update(_pred(detections=[_det("car", 0.9), _det("car", 0.8), _det("bus", 0.9)]))
    assert freq.shift < 0.01
    assert freq.frequencies["car"] == pytest.approx(2 / 3, abs=1e-6)
    back = ClassFrequency.from_state(json.loads(json.dumps(freq.state())))
    for f in (freq, back):
        for label in ("person", "dog", "cat", "bird"):  # more labels than max_classes
            f.update(_pred({label: 1.0}))
    assert back.state() == freq.state()
    assert freq.shift > 0.4 and len(freq.frequencies) <= 4
    assert ClassFrequency.OTHER in freq.frequencies
