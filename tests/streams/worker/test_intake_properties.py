"""Property: whatever bytes arrive, the intake returns a valid message or raises the typed
``InvalidMessage``, never anything else."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framegate.schemas import Frame, InvalidMessage, Prediction
from framegate.streams.worker.intake import parse
from tests.factories import frame_doc, jpeg, photo

SMALL = jpeg(photo(size=(64, 48)))

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)


def outcome(model: type, raw: bytes) -> object:
    try:
        return parse(model, raw)
    except InvalidMessage as exc:
        return exc


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(raw: bytes) -> None:
    assert isinstance(outcome(Frame, raw), Frame | InvalidMessage)
    assert isinstance(outcome(Prediction, raw), Prediction | InvalidMessage)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_arbitrary_json(value: object) -> None:
    raw = json.dumps(value).encode()  # NaN and Infinity come out as their JS literals
    assert isinstance(outcome(Frame, raw), Frame | InvalidMessage)


FIELDS = ["schema_version", "frame_id", "camera_id", "captured_at", "image", "annotations"]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(FIELDS),
    action=st.sampled_from(["replace", "delete"]),
    value=json_values,
)
def test_a_valid_frame_with_one_field_mutated(field: str, action: str, value: object) -> None:
    document = frame_doc("cam-1", 0, SMALL)
    if action == "delete":
        document.pop(field, None)
    else:
        document[field] = value
    result = outcome(Frame, json.dumps(document).encode())
    assert isinstance(result, Frame | InvalidMessage)
    if isinstance(result, Frame):  # accepted only if the field still means what it must
        assert result.frame_id and result.camera_id


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0), byte=st.integers(min_value=0, max_value=255))
def test_a_valid_frame_with_one_byte_changed(position: int, byte: int) -> None:
    raw = bytearray(json.dumps(frame_doc("cam-1", 0, SMALL)).encode())
    raw[position % len(raw)] = byte
    assert isinstance(outcome(Frame, bytes(raw)), Frame | InvalidMessage)
