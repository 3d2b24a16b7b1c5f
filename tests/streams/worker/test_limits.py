"""Limits before work: every kind of hostile or broken input becomes one typed error with a
reason an operator can act on, never another exception."""

from __future__ import annotations

import json

import pytest

from framegate.schemas import Frame, InvalidMessage, Prediction
from framegate.schemas.deadletter import DeadLetterReason as R
from framegate.streams.worker.intake import Limits, parse
from tests.factories import frame_doc, jpeg, photo

SMALL = jpeg(photo(size=(64, 48)))


def frame(**fields) -> bytes:
    document = frame_doc("cam-1", 0, SMALL)
    document.update(fields)
    return json.dumps(document).encode()


def metadata_value(raw_json: bytes) -> bytes:
    """A frame whose metadata value is ``raw_json``, spliced in as raw bytes."""
    return frame(metadata={"x": "MARK"}).replace(b'"MARK"', raw_json)


BAD = [
    (b"", R.INVALID_JSON),
    (b"\xff\xfe\x00garbage", R.INVALID_JSON),
    (b"[" * 100_000 + b"]" * 100_000, R.TOO_DEEPLY_NESTED),
    (metadata_value(b"[" * 40 + b"]" * 40), R.TOO_DEEPLY_NESTED),
    (metadata_value(b"NaN"), R.NON_FINITE_NUMBER),
    (metadata_value(b"Infinity"), R.NON_FINITE_NUMBER),
    (metadata_value(b"-Infinity"), R.NON_FINITE_NUMBER),
    (metadata_value(b"1e999"), R.NON_FINITE_NUMBER),
    (metadata_value(b"9" * 5000), R.NUMBER_OUT_OF_RANGE),
    (metadata_value(b'"\\ud800"'), R.INVALID_TEXT),
    (metadata_value(b'"' + b"a" * 5000 + b'"'), R.OVER_LIMIT),
    (metadata_value(b"[" + b",".join([b"1"] * 1001) + b"]"), R.OVER_LIMIT),
    (frame(annotations=[{"label": "p"}] * 1001), R.OVER_LIMIT),
    (frame(camera_id="cam\n1"), R.INVALID_FIELDS),
    (frame(camera_id="c" * 257), R.INVALID_FIELDS),
    (frame(schema_version=[1] * 10), R.UNSUPPORTED_SCHEMA_VERSION),
    (b"[1, 2, 3]", R.INVALID_JSON),
    (b'"just a string"', R.INVALID_JSON),
    (frame(captured_at=True), R.INVALID_FIELDS),
    (frame(annotations=[{"label": "p", "box": [10, 10, 5, 5]}]), R.INVALID_FIELDS),
]
IDS = [
    "empty",
    "not-utf8",
    "nested-100000",
    "nested-41",
    "nan",
    "infinity",
    "minus-infinity",
    "float-overflow",
    "int-5000-digits",
    "lone-surrogate",
    "long-string",
    "long-list",
    "many-annotations",
    "control-char-id",
    "long-id",
    "odd-schema-version",
    "array",
    "string",
    "boolean-time",
    "inverted-box",
]


@pytest.mark.parametrize(("raw", "reason"), BAD, ids=IDS)
def test_bad_input_is_refused_with_a_reason(raw: bytes, reason: R) -> None:
    with pytest.raises(InvalidMessage) as caught:
        parse(Frame, raw)
    assert caught.value.reason == reason
    assert len(caught.value.message) < 400  # a reason to read, not the payload again


def test_a_message_over_the_byte_limit_is_refused_before_parsing() -> None:
    limits = Limits(message_bytes=1024)
    with pytest.raises(InvalidMessage) as caught:
        parse(Frame, b"{" + b" " * 2000 + b"}", limits)
    assert caught.value.reason == R.MESSAGE_TOO_LARGE


def test_the_inline_image_may_be_longer_than_other_strings() -> None:
    big = jpeg(photo(size=(640, 480)), quality=95)
    assert len(big) * 4 // 3 > Limits().string_chars
    assert parse(Frame, frame_doc_bytes(big)).frame_id == "cam-1:000000"


def frame_doc_bytes(data: bytes) -> bytes:
    return json.dumps(frame_doc("cam-1", 0, data)).encode()


def test_limits_follow_the_settings() -> None:
    from framegate.schemas.settings import Settings

    limits = Limits.from_settings(Settings(max_json_depth=4, max_list_items=10))
    with pytest.raises(InvalidMessage, match="nested"):
        parse(Frame, frame(metadata={"a": {"b": {"c": 1}}}), limits)
    with pytest.raises(InvalidMessage, match="at most 10"):
        parse(Frame, frame(annotations=[{"label": "p"}] * 11), limits)
    assert len(parse(Frame, frame(annotations=[{"label": "p"}] * 10), limits).annotations) == 10


def test_predictions_are_held_to_the_same_limits() -> None:
    document = {
        "frame_id": "f",
        "camera_id": "c",
        "model": "m",
        "detections": [{"label": "p", "score": 0.5, "box": [0, 0, 1, 1]}] * 1001,
    }
    with pytest.raises(InvalidMessage) as caught:
        parse(Prediction, json.dumps(document).encode())
    assert caught.value.reason == R.OVER_LIMIT
