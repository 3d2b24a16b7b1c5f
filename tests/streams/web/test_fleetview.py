"""The dashboard's in-memory model: bounded, and right about rates, shares and alerts."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from framegate.schemas import DeadLetter
from framegate.streams.web.fleetview import FleetView, make_thumbnail
from tests.factories import T0, jpeg, photo
from tests.streams.factories import DARK, alert, report, request, view_at


def test_rates_and_shares_come_from_processed_at():
    view = view_at(100.0, rate_window_s=10, share_window_s=60)
    for i in range(20):  # 20 frames in the last 10 s, one in four dark
        view.add_report(
            report("cam-1", i, processed=91 + i / 2, issues=(DARK,) if i % 4 == 0 else ())
        )
    view.add_report(report("cam-2", 0, processed=10))  # outside both windows
    fleet = view.overview()["fleet"]
    assert fleet["cameras"] == 2
    assert fleet["frames_total"] == 21
    assert fleet["frames_per_s"] == 2.0
    assert fleet["window_frames"] == 20
    assert fleet["flagged_share"] == 0.25
    assert fleet["issue_share"] == {"dark": 0.25}
    cam2 = view.overview()["cameras"][1]
    assert (cam2["camera_id"], cam2["frames_per_s"], cam2["window_frames"]) == ("cam-2", 0.0, 0)


def test_charts_are_bucketed_means_over_captured_at():
    view = view_at(0.0, bucket_s=1.0)
    for i in range(10):  # five frames a second: two buckets
        view.add_report(report("cam-1", i, brightness=0.1 * (i // 5 + 1)))
    chart = view.camera("cam-1")
    assert chart["t"] == [T0.timestamp(), T0.timestamp() + 1]
    assert chart["series"]["brightness"] == [pytest.approx(0.1), pytest.approx(0.2)]
    assert view.camera("nobody") is None


def test_memory_is_bounded():
    view = view_at(0.0, history=5, flagged=3, alerts=4, max_cameras=2)
    for i in range(50):
        view.add_report(report(f"cam-{i % 3}", i))
        view.add_relabel(request("cam-1", i), thumbnail=b"jpeg")
        view.add_alert(alert(f"a{i}"))
    assert view.cameras() == ["cam-0", "cam-1"]  # cam-2 was seen least recently
    assert len(view.camera("cam-1")["t"]) <= 5
    assert [f["frame_id"] for f in view.flagged()] == ["cam-1:49", "cam-1:48", "cam-1:47"]
    assert view.thumbnail("rcam-146") is None and view.thumbnail("rcam-149") == b"jpeg"
    assert len(view.alerts()) == 4
    assert view.overview()["fleet"]["open_alerts"] == 4


def test_a_resolved_alert_closes_the_open_one():
    view = view_at(0.0)
    view.add_alert(alert("a1"))
    view.add_alert(alert("fleet", camera=None))
    assert view.overview()["fleet"]["open_alerts"] == 2
    assert view.overview()["cameras"][0]["open_alerts"] == 1
    view.add_alert(alert("a1", status="resolved"))
    overview = view.overview()
    assert [a["alert_id"] for a in overview["open_alerts"]] == ["fleet"]
    assert [a["status"] for a in view.alerts()] == ["resolved", "firing", "firing"]
    # Fleet-wide alerts are marked on every camera's chart.
    assert {a["alert_id"] for a in view.camera("cam-1")["alerts"]} == {"a1", "fleet"}


def test_flagged_frames_keep_their_reasons_and_where_the_image_is():
    view = view_at(0.0)
    item = view.add_relabel(request("cam-1", 1), thumbnail=None)
    assert item["thumbnail"] is None and item["image_uri"] == "file:///frames/1.jpg"
    assert item["reasons"] == [
        {"check": "dark", "score": 0.9, "severity": "critical", "detail": "too dark"}
    ]
    item = view.add_relabel(request("cam-1", 2, data=b"x"), thumbnail=b"jpeg")
    assert item["thumbnail"] == "api/thumbnails/rcam-12.jpg"


def test_dead_letters_are_counted_by_reason():
    view = view_at(0.0)
    for reason in ("invalid_json", "invalid_json", "not_an_image"):
        view.add_dead_letter(
            DeadLetter(
                source_topic="framegate.frames",
                partition=0,
                offset=1,
                key="cam-9",
                stage="validate",
                reason=reason,
                error="bad",
                payload_size=3,
                payload_base64="eHh4",
                truncated=False,
                at=T0,
            )
        )
    fleet = view.overview()["fleet"]
    assert fleet["deadletter_by_reason"] == {"invalid_json": 2, "not_an_image": 1}
    assert view.dead_letters()[0]["reason"] == "not_an_image"


@pytest.mark.parametrize("size", [(640, 480), (1920, 1080), (100, 80)], ids=["vga", "hd", "tiny"])
def test_thumbnails_are_160_pixels_wide(size):
    thumb = make_thumbnail(jpeg(photo("astronaut", size)), max_pixels=10**7)
    pixels = cv2.imdecode(np.frombuffer(thumb, np.uint8), cv2.IMREAD_COLOR)
    assert pixels.shape == (round(160 * size[1] / size[0]), 160, 3)
    assert len(thumb) < 20_000


def test_thumbnails_refuse_what_frames_refuse():
    from framegate.schemas import InvalidMessage

    with pytest.raises(InvalidMessage):
        make_thumbnail(jpeg(photo()), max_pixels=1000)
    with pytest.raises(InvalidMessage):
        make_thumbnail(b"not an image", max_pixels=10**7)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"history": 0},
        {"rate_window_s": 0},
        {"rate_window_s": 20, "share_window_s": 10},
        {"bucket_s": 0},
    ],
    ids=["history", "rate", "order", "bucket"],
)
def test_bad_parameters_are_refused(kwargs):
    with pytest.raises(ValueError):
        FleetView(**kwargs)
