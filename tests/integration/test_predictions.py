"""The model-aware half through a real broker: batch embedding, the join, label checks."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from tests.factories import frame_bytes, jittered, jpeg, photo

pytestmark = pytest.mark.integration


def _prediction(index: int, **kind) -> bytes:
    return json.dumps(
        {
            "schema_version": 1,
            "frame_id": f"cam-p:{index:06d}",
            "camera_id": "cam-p",
            "model": "detector@2",
            **kind,
        }
    ).encode()


def test_predictions_join_frames_in_either_order_and_label_errors_are_routed(gate_factory):
    gate = gate_factory(batch_size="8", join_window_s="3")
    gate.start()
    frames = {
        i: frame_bytes(
            "cam-p",
            i,
            data=jpeg(jittered(photo("coffee"), i)),
            annotations=[{"label": "cup", "box": [200, 120, 440, 380]}],
        )
        for i in range(6)
    }
    swap = {"detections": [{"label": "bowl", "score": 0.93, "box": [205, 118, 438, 382]}]}
    agree = {"detections": [{"label": "cup", "score": 0.95, "box": [198, 121, 441, 379]}]}
    # The camera's first prediction arrives before its frame; from then on the camera is
    # known to send predictions and its frames wait (up to the window) for theirs.
    gate.publish("predictions", [(b"cam-p", _prediction(0, **agree))])
    time.sleep(2)
    gate.publish("frames", [(b"cam-p", frames[i]) for i in range(4)])
    time.sleep(1)
    gate.publish(
        "predictions",
        [
            (b"cam-p", _prediction(1, **swap)),
            (b"cam-p", _prediction(2, **agree)),
            (b"cam-p", _prediction(77, **agree)),
        ],
    )  # its frame never comes
    # frame 3's prediction never comes: it is completed without one after the window

    reports = {r["frame_id"]: r for r in gate.collect("quality", count=4, timeout=60)}
    assert set(reports) == {"cam-p:000000", "cam-p:000001", "cam-p:000002", "cam-p:000003"}
    for index in (0, 1, 2):
        assert reports[f"cam-p:{index:06d}"]["metrics"]["confidence"] > 0.9
    assert "confidence" not in reports["cam-p:000003"]["metrics"]  # completed without one
    for report in reports.values():
        assert "embedding_distance" in report["metrics"] or report["frame_id"] == "cam-p:000000"
    swapped = {i["check"] for i in reports["cam-p:000001"]["issues"]}
    assert "class_swap" in swapped
    assert "class_swap" not in {i["check"] for i in reports["cam-p:000000"]["issues"]}

    metrics = (
        urllib.request.urlopen(f"http://127.0.0.1:{gate.settings.web_port}/metrics", timeout=10)
        .read()
        .decode()
    )
    assert 'framegate_predictions_unmatched_total{camera="cam-p"} 1.0' in metrics

    requests = {r["frame_id"]: r for r in gate.collect("relabel", count=1)}
    request = requests["cam-p:000001"]
    assert request["prediction"]["detections"][0]["label"] == "bowl"
    assert request["reasons"][0]["check"] == "class_swap"
    assert request["image"]["data"]  # the relabeling service gets the picture itself
