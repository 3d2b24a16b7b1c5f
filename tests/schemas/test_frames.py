"""What a camera publishes: the image source, annotations and the frame itself."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError

from framegate.schemas.frames import Annotation, Frame, FrameImage
from tests.factories import frame_doc, jpeg, photo


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x00\xff" * 7, jpeg(photo("coffee", (64, 48)))],
    ids=["empty", "binary", "jpeg"],
)
def test_inline_bytes_round_trip(payload: bytes) -> None:
    image = FrameImage(data=base64.b64encode(payload).decode())
    assert image.inline_bytes() == payload


@pytest.mark.parametrize(
    "data",
    ["not base64!", "AAA", "AA==AA==", "QUJD\n", "QUJD RA=="],
    ids=["punctuation", "bad-padding", "padding-inside", "newline", "space"],
)
def test_malformed_base64_raises_value_error(data: str) -> None:
    image = FrameImage(data=data)  # accepted as text; checked when the bytes are needed
    with pytest.raises(ValueError, match="not valid base64"):
        image.inline_bytes()


def test_uri_image_has_no_inline_bytes() -> None:
    image = FrameImage(encoding="png", uri="file:///frames/cam-1/000001.png")
    with pytest.raises(ValueError, match="no inline data"):
        image.inline_bytes()


@pytest.mark.parametrize(
    "fields",
    [{}, {"data": "AA==", "uri": "file:///x.jpg"}],
    ids=["neither", "both"],
)
def test_image_needs_exactly_one_source(fields: dict) -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        FrameImage(**fields)


def test_uri_length_is_bounded() -> None:
    assert FrameImage(uri="file:///" + "a" * 2040).uri is not None
    with pytest.raises(ValidationError):
        FrameImage(uri="file:///" + "a" * 2041)


def test_encoding_defaults_to_jpeg_and_is_a_closed_set() -> None:
    assert FrameImage(data="AA==").encoding == "jpeg"
    with pytest.raises(ValidationError):
        FrameImage(encoding="heic", data="AA==")


@pytest.mark.parametrize(
    ("box", "ok"),
    [
        ((0, 0, 1, 1), True),
        ((10.5, 20.25, 10.75, 20.5), True),
        ((-5, -5, 10, 10), True),  # partly outside the image: the annotation checks judge it
        ((10, 10, 10, 20), False),
        ((10, 10, 20, 10), False),
        ((20, 10, 10, 20), False),
        ((0, 0, 0, 0), False),
    ],
    ids=["unit", "sub-pixel", "off-image", "zero-width", "zero-height", "inverted", "point"],
)
def test_box_must_have_positive_width_and_height(box: tuple, ok: bool) -> None:
    if ok:
        assert Annotation(label="car", box=box).box == tuple(float(v) for v in box)
    else:
        with pytest.raises(ValidationError, match="x2 > x1 and y2 > y1"):
            Annotation(label="car", box=box)


@pytest.mark.parametrize("box", [[1, 2, 3], [1, 2, 3, 4, 5], ["a", 0, 1, 1]], ids=str)
def test_box_is_four_numbers(box: list) -> None:
    with pytest.raises(ValidationError):
        Annotation(label="car", box=box)


def test_annotation_label_is_required_and_non_empty() -> None:
    with pytest.raises(ValidationError):
        Annotation(label="")
    assert Annotation(label="scene:parking").box is None


def test_frame_defaults_and_extra_fields() -> None:
    frame = Frame.model_validate(frame_doc(firmware="2.1.0"))
    assert frame.annotations == [] and frame.metadata == {}
    assert not hasattr(frame, "firmware")  # a newer producer's field is ignored
    assert frame.image.inline_bytes()[:2] == b"\xff\xd8"  # the factory's JPEG


def test_frame_is_frozen_and_its_defaults_are_not_shared() -> None:
    a = Frame.model_validate(frame_doc(index=1))
    b = Frame.model_validate(frame_doc(index=2))
    with pytest.raises(ValidationError):
        a.camera_id = "cam-2"
    a.metadata["k"] = 1  # containers are not deep-frozen ...
    assert b.metadata == {}  # ... but never shared between frames


def test_metadata_keeps_arbitrary_json() -> None:
    meta = {"gps": [48.1, 11.6], "exposure_ms": 8, "tags": {"site": "gate-3"}}
    assert Frame.model_validate(frame_doc(metadata=meta)).metadata == meta
