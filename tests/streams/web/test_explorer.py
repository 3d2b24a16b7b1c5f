"""The frame inspector's and the explorer's model, and how the feed fills it."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta

import cv2
import numpy as np
import pytest

from framegate.schemas import FrameImage, InvalidMessage, Issue, Prediction, RelabelRequest
from framegate.schemas.frames import Annotation
from framegate.schemas.settings import Settings
from framegate.streams.web.explore_pages import _time
from framegate.streams.web.explorer import Explorer, make_inspector_image, usual_range
from framegate.streams.web.feed import FleetFeed, annotations_of
from tests.factories import T0, jpeg, photo
from tests.streams.factories import DARK, report, view_at

BLUR = Issue(check="blurry", score=0.6, threshold=0.5, severity="warning", detail="soft")


def flagged(
    camera: str,
    index: int,
    *,
    reasons: tuple[Issue, ...] = (DARK,),
    image: FrameImage | None = None,
    prediction: Prediction | None = None,
) -> RelabelRequest:
    return RelabelRequest(
        request_id=f"r-{camera}-{index}",
        frame_id=f"{camera}:{index}",
        camera_id=camera,
        captured_at=T0 + timedelta(seconds=index),
        image=image or FrameImage(uri=f"file:///frames/{index}.jpg"),
        reasons=list(reasons),
        priority=0.5,
        prediction=prediction,
    )


def detections(camera: str, index: int, *labels: str) -> Prediction:
    return Prediction(
        frame_id=f"{camera}:{index}",
        camera_id=camera,
        model="det-v1",
        detections=[
            {"label": label, "score": 0.8, "box": [10 * i, 10, 10 * i + 50, 90]}
            for i, label in enumerate(labels)
        ],
    )


def test_a_metric_is_shown_next_to_the_cameras_median_and_5_to_95_range():
    view = view_at(0.0)
    for i in range(100):
        view.add_report(report("cam-1", i, brightness=i / 100))
    view.explorer.add_flagged(flagged("cam-1", 99), [], None, None)
    found = view.explorer.inspect("r-cam-1-99")
    brightness = next(m for m in found["metrics"] if m["name"] == "brightness")
    assert brightness["value"] == 0.99
    usual = brightness["usual"]
    assert usual["median"] == pytest.approx(0.495)
    assert usual["p5"] == pytest.approx(0.0495) and usual["p95"] == pytest.approx(0.9405)
    assert usual["n"] == 100
    assert {m["name"] for m in found["metrics"]} == {"brightness", "sharpness"}


def test_usual_ranges_cover_only_the_recent_window():
    explorer = Explorer(window=10)
    view = view_at(0.0)
    view.explorer = explorer
    for i in range(50):
        view.add_report(report("cam-1", i, brightness=0.0 if i < 40 else 1.0))
    assert explorer.ranges("cam-1")["brightness"] == usual_range([1.0] * 10)
    assert explorer.ranges("nobody") == {}


def test_the_explorer_filters_by_camera_check_severity_and_time():
    explorer = Explorer()
    explorer.add_flagged(flagged("cam-1", 1), [], None, None)
    explorer.add_flagged(flagged("cam-1", 2, reasons=(BLUR,)), [], None, None)
    explorer.add_flagged(flagged("cam-2", 3, reasons=(DARK, BLUR)), [], None, None)
    ids = lambda **f: [x["frame_id"] for x in explorer.search(**f)]  # noqa: E731
    assert ids() == ["cam-2:3", "cam-1:2", "cam-1:1"]  # newest first
    assert ids(camera="cam-1") == ["cam-1:2", "cam-1:1"]
    assert ids(check="blurry") == ["cam-2:3", "cam-1:2"]
    assert ids(severity="critical") == ["cam-2:3", "cam-1:1"]
    assert ids(camera="cam-1", check="dark") == ["cam-1:1"]
    assert ids(since=T0 + timedelta(seconds=2)) == ["cam-2:3", "cam-1:2"]
    assert ids(until=T0 + timedelta(seconds=2)) == ["cam-1:2", "cam-1:1"]
    assert ids(camera="cam-3") == []
    assert explorer.facets() == {
        "cameras": ["cam-1", "cam-2"],
        "checks": ["blurry", "dark"],
        "severities": ["critical", "warning"],
    }


def test_neighbours_are_the_same_cameras_flagged_frames_around_it():
    explorer = Explorer()
    for i in range(10):
        explorer.add_flagged(flagged("cam-1", i), [], None, None)
        explorer.add_flagged(flagged("cam-2", i), [], None, None)
    near = [n["frame_id"] for n in explorer.inspect("r-cam-1-5", neighbours=4)["neighbours"]]
    assert near == ["cam-1:3", "cam-1:4", "cam-1:6", "cam-1:7"]
    assert explorer.inspect("unknown") is None


def test_memory_is_bounded_and_images_are_kept_for_the_latest_frames_only():
    explorer = Explorer(keep=5, images=2)
    for i in range(8):
        explorer.add_flagged(flagged("cam-1", i), [], f"jpeg{i}".encode(), (640, 480))
    assert len(explorer.search()) == 5
    assert [explorer.image(f"r-cam-1-{i}") for i in (5, 6, 7)] == [None, b"jpeg6", b"jpeg7"]
    assert explorer.inspect("r-cam-1-7")["image"] == "api/frames/r-cam-1-7.jpg"
    assert explorer.inspect("r-cam-1-5")["image"] is None


def test_labels_and_predicted_classes_are_counted_once_per_frame():
    explorer = Explorer(window=3)
    gt = [Annotation(label="car", box=[0, 0, 10, 10]), Annotation(label="person")]
    for i in range(4):
        request = flagged("cam-1", i, prediction=detections("cam-1", i, "car", "truck"))
        explorer.add_flagged(request, gt, None, None)
        explorer.add_flagged(request, gt, None, None)  # redelivered: not counted again
    dist = explorer.distribution("cam-1")
    assert dist["frames"] == 3  # the window
    assert dist["labels"] == {"car": 3, "person": 3}
    assert dist["predicted"] == {"car": 3, "truck": 3}
    classes = Prediction(frame_id="c:9", camera_id="c", model="m", classes={"a": 0.2, "b": 0.7})
    explorer.add_flagged(flagged("c", 9, prediction=classes), [], None, None)
    assert explorer.distribution("c")["predicted"] == {"b": 1}
    assert explorer.distribution("nobody") is None


def test_the_inspector_image_is_at_most_1280_px_and_keeps_its_shape():
    big = cv2.imencode(".jpg", np.full((1440, 2560, 3), 120, np.uint8))[1].tobytes()
    image = cv2.imdecode(np.frombuffer(make_inspector_image(big, max_pixels=10**7), np.uint8), 1)
    assert image.shape == (720, 1280, 3)
    small = make_inspector_image(jpeg(photo("astronaut", (640, 480))), max_pixels=10**7)
    assert cv2.imdecode(np.frombuffer(small, np.uint8), 1).shape == (480, 640, 3)
    with pytest.raises(InvalidMessage, match="too_many_pixels"):
        make_inspector_image(big, max_pixels=1000)  # the decompression-bomb limit holds


def test_annotations_come_from_the_request_json_and_bad_ones_are_dropped():
    good = json.dumps({"annotations": [{"label": "car", "box": [1, 2, 30, 40]}]}).encode()
    assert annotations_of(good) == [Annotation(label="car", box=[1, 2, 30, 40])]
    for bad in (b"not json", b"[1]", json.dumps({"annotations": [{"box": [3, 3, 1, 1]}]}).encode()):
        assert annotations_of(bad) == []


def _feed(tmp_path, request: RelabelRequest, **extra) -> FleetFeed:
    feed = FleetFeed(Settings(file_root=tmp_path), view_at(0.0))
    value = json.loads(request.model_dump_json())
    value.update(extra)
    asyncio.run(feed.handle("relabel", [json.dumps(value).encode()]))
    return feed


def test_the_feed_keeps_boxes_size_and_a_larger_image_of_an_inline_frame(tmp_path):
    data = jpeg(photo("astronaut", (640, 480)))
    request = flagged(
        "cam-1",
        1,
        image=FrameImage(data=base64.b64encode(data).decode()),
        prediction=detections("cam-1", 1, "person"),
    )
    feed = _feed(tmp_path, request, annotations=[{"label": "person", "box": [5, 5, 300, 470]}])
    found = feed.view.explorer.inspect(request.request_id)
    assert (found["width"], found["height"]) == (640, 480)
    assert found["annotations"] == [{"label": "person", "box": [5.0, 5.0, 300.0, 470.0]}]
    assert found["predictions"] == [{"label": "person", "score": 0.8, "box": [0, 10, 50, 90]}]
    image = feed.view.explorer.image(request.request_id)
    assert cv2.imdecode(np.frombuffer(image, np.uint8), 1).shape == (480, 640, 3)
    assert feed.view.thumbnail(request.request_id) is not None


def test_the_image_is_read_from_an_allowed_file_uri_and_nowhere_else(tmp_path):
    (tmp_path / "f.jpg").write_bytes(jpeg(photo("coffee", (320, 240))))
    allowed = flagged("cam-1", 1, image=FrameImage(uri=f"file://{tmp_path}/f.jpg"))
    assert _feed(tmp_path, allowed).view.explorer.image(allowed.request_id) is not None
    for uri in ("file:///etc/hostname", "http://127.0.0.1:9/f.jpg"):
        elsewhere = flagged("cam-1", 2, image=FrameImage(uri=uri))
        feed = _feed(tmp_path, elsewhere)
        assert feed.view.explorer.image(elsewhere.request_id) is None
        assert feed.view.explorer.inspect(elsewhere.request_id)["image"] is None


def test_explorer_times_are_iso_8601():
    assert _time("2026-11-28T15:00:01Z") == T0 + timedelta(seconds=1)
    assert _time("2026-11-28T15:00:01") == T0 + timedelta(seconds=1)  # naive: UTC
    assert _time("") is None
    with pytest.raises(ValueError):
        _time("yesterday")
