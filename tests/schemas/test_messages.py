"""The contract: what validates, what does not, and the shipped JSON Schemas."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from framegate.schemas import Frame, Prediction
from framegate.schemas.deadletter import DeadLetterReason
from framegate.schemas.errors import InvalidMessage
from framegate.schemas.jsonschema import all_schemas
from framegate.streams.worker.intake import parse
from tests.factories import frame_doc


@pytest.mark.parametrize(
    "captured_at",
    [
        "2026-11-28T15:00:00Z",
        "2026-11-28T15:00:00+00:00",
        "2026-11-28T15:00:00",
        1795878000,
        1795878000.0,
    ],
    ids=["iso-z", "iso-offset", "iso-naive-is-utc", "epoch-int", "epoch-float"],
)
def test_captured_at_accepts_iso_and_epoch(captured_at):
    frame = Frame.model_validate(frame_doc(captured_at=captured_at))
    assert frame.captured_at == datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


def test_annotation_without_box_labels_the_whole_image():
    frame = Frame.model_validate(
        frame_doc(annotations=[{"label": "cat"}, {"label": "dog", "box": [1, 2, 30, 40]}])
    )
    assert frame.annotations[0].box is None
    assert frame.annotations[1].box == (1, 2, 30, 40)


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"schema_version": 2}, DeadLetterReason.UNSUPPORTED_SCHEMA_VERSION),
        ({"camera_id": ""}, DeadLetterReason.INVALID_FIELDS),
        ({"captured_at": "yesterday"}, DeadLetterReason.INVALID_FIELDS),
        ({"captured_at": True}, DeadLetterReason.INVALID_FIELDS),
        ({"image": {"encoding": "jpeg"}}, DeadLetterReason.INVALID_FIELDS),
        (
            {"image": {"encoding": "jpeg", "data": "AA==", "uri": "file:///x"}},
            DeadLetterReason.INVALID_FIELDS,
        ),
        ({"image": {"encoding": "gif", "data": "AA=="}}, DeadLetterReason.INVALID_FIELDS),
        (
            {"annotations": [{"label": "cat", "box": [10, 10, 5, 20]}]},
            DeadLetterReason.INVALID_FIELDS,
        ),
    ],
    ids=[
        "version",
        "empty-camera",
        "bad-time",
        "bool-time",
        "no-image-source",
        "two-sources",
        "unknown-encoding",
        "inverted-box",
    ],
)
def test_invalid_frames_name_their_reason(patch, reason):
    with pytest.raises(InvalidMessage) as caught:
        parse(Frame, json.dumps(frame_doc() | patch).encode())
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"[1, 2]", b"\xff\xfe"], ids=["empty", "truncated", "not-object", "not-utf8"]
)
def test_non_json_is_invalid_json(raw):
    with pytest.raises(InvalidMessage) as caught:
        parse(Frame, raw)
    assert caught.value.reason == DeadLetterReason.INVALID_JSON


def test_prediction_needs_exactly_one_kind():
    base = {"frame_id": "c:1", "camera_id": "c", "model": "m@1"}
    assert Prediction.model_validate(base | {"classes": {"cat": 0.9}}).classes == {"cat": 0.9}
    with pytest.raises(ValueError, match="exactly one"):
        Prediction.model_validate(base)
    with pytest.raises(ValueError, match="exactly one"):
        Prediction.model_validate(base | {"classes": {"cat": 0.9}, "detections": []})
    with pytest.raises(ValueError):
        Prediction.model_validate(base | {"classes": {"cat": 1.5}})


def test_shipped_json_schemas_match_the_models():
    shipped = Path(__file__).resolve().parents[2] / "schemas" / "json"
    for name, document in all_schemas().items():
        path = shipped / f"{name}.schema.json"
        assert path.exists(), f"run `framegate schema --out schemas/json` to add {path.name}"
        assert json.loads(path.read_text()) == document, f"{path.name} is stale"
