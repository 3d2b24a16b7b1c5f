"""The fleet model's output: classes or detections, probabilities in [0, 1]."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from framegate.schemas.predictions import Detection, Prediction

BASE = {"frame_id": "cam-1:000001", "camera_id": "cam-1", "model": "yolo@3"}


def test_detections_only() -> None:
    p = Prediction.model_validate(
        BASE | {"detections": [{"label": "car", "score": 0.8, "box": [1, 2, 30, 40]}]}
    )
    assert p.classes is None
    assert p.detections == [Detection(label="car", score=0.8, box=(1, 2, 30, 40))]


def test_no_detection_is_a_valid_answer_but_no_class_is_not() -> None:
    assert Prediction.model_validate(BASE | {"detections": []}).detections == []
    with pytest.raises(ValidationError, match="'classes' is empty"):
        Prediction.model_validate(BASE | {"classes": {}})


@pytest.mark.parametrize("score", [0.0, 1.0, 0.5], ids=["zero", "one", "half"])
def test_probabilities_at_the_bounds_are_accepted(score: float) -> None:
    assert Prediction.model_validate(BASE | {"classes": {"cat": score}}).classes == {"cat": score}
    assert Detection(label="cat", score=score, box=(0, 0, 1, 1)).score == score


@pytest.mark.parametrize("score", [-0.01, 1.01, float("nan")], ids=["negative", "over-1", "nan"])
def test_probabilities_outside_0_1_are_refused(score: float) -> None:
    with pytest.raises(ValidationError):
        Prediction.model_validate(BASE | {"classes": {"cat": score}})
    with pytest.raises(ValidationError):
        Detection(label="cat", score=score, box=(0, 0, 1, 1))


@pytest.mark.parametrize("missing", ["frame_id", "camera_id", "model"], ids=str)
def test_ids_and_model_are_required(missing: str) -> None:
    fields = {k: v for k, v in BASE.items() if k != missing} | {"classes": {"cat": 1.0}}
    with pytest.raises(ValidationError):
        Prediction.model_validate(fields)


def test_detection_label_must_not_be_empty() -> None:
    with pytest.raises(ValidationError):
        Detection(label="", score=0.5, box=(0, 0, 1, 1))
