"""Drift end to end: real frames slowly darkened give exactly one alert, across a restart."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from framegate.detectors.drift import DriftConfig
from framegate.detectors.gate import CameraGate, GateConfig
from framegate.detectors.inspector import decode_for_checks
from framegate.detectors.policy import Policy
from framegate.schemas import Frame
from tests.factories import frame_bytes, frame_doc, jpeg, street

pytestmark = pytest.mark.integration

WARMUP, CLEAN, RAMP, DARK = 200, 400, 300, 200


def _scene() -> list[np.ndarray]:
    # A street camera (vtest.avi, or a shipped photo with traffic when opencv-doc is
    # missing): a still photo would drift in sharpness too, its noise growing relative to
    # its contrast as it darkens.
    return [
        cv2.resize(street(index), (384, 288), interpolation=cv2.INTER_AREA) for index in range(120)
    ]


def _darkening_stream() -> list[bytes]:
    """A static camera whose scene darkens by 30 % over RAMP frames after CLEAN frames."""
    rng = np.random.default_rng(11)
    scene = _scene()
    out = []
    for index in range(CLEAN + RAMP + DARK):
        gain = 1.0 - 0.3 * min(max(index - CLEAN, 0) / RAMP, 1.0)
        base = scene[index % len(scene)].astype(np.float32) * gain
        pixels = np.clip(base + rng.normal(0, 2.0, base.shape), 0, 255).astype(np.uint8)
        out.append(jpeg(pixels, quality=85))
    return out


def _expected_events(images: list[bytes]) -> list[tuple[str, str, str]]:
    """What the pure CameraGate decides on the same frames, without any broker."""
    config = GateConfig(drift=DriftConfig(warmup_frames=WARMUP))
    gate = CameraGate("cam-d", Policy().for_camera("cam-d"), config)
    events = []
    for index, data in enumerate(images):
        frame = Frame.model_validate(frame_doc("cam-d", index, data=data))
        for done in gate.frame(
            frame, decode_for_checks(data, max_pixels=10**8), embedding=None, source="", now=0.0
        ):
            events += [(e.metric, e.status, e.frame_id) for e in done.drift]
    return events


def test_gradual_darkening_gives_one_alert_with_state_carried_across_a_restart(gate_factory):
    images = _darkening_stream()
    expected = _expected_events(images)
    assert [(m, s) for m, s, _ in expected] == [("brightness", "firing")]

    settings = {"embedder": "none", "drift_warmup_frames": str(WARMUP)}
    first = gate_factory(**settings)
    first.start()
    half = CLEAN - 100  # warm-up done, the change not begun
    first.publish(
        "frames", [(b"cam-d", frame_bytes("cam-d", i, data=images[i])) for i in range(half)]
    )
    assert len(first.collect("quality", count=half)) == half
    first.stop()

    second = gate_factory(
        prefix=first.settings.topic_prefix, consumer_group=first.settings.consumer_group, **settings
    )
    second.start()
    second.publish(
        "frames",
        [(b"cam-d", frame_bytes("cam-d", i, data=images[i])) for i in range(half, len(images))],
    )
    assert len(second.collect("quality", count=len(images))) == len(images)
    alerts = second.collect("alerts", count=1)
    drift = [a for a in alerts if a["kind"] == "drift"]
    assert [(a["metric"], a["status"], a["camera_id"]) for a in drift] == [
        ("brightness", "firing", "cam-d")
    ]
    [alert] = drift
    # The worker that took over decided exactly as one uninterrupted camera would.
    assert alert["frame_id"] == expected[0][2]
    assert CLEAN <= int(alert["frame_id"].split(":")[1]) < CLEAN + RAMP
    assert alert["after"]["mean"] < alert["before"]["mean"]
    assert alert["example_frame_ids"] and alert["alert_id"]
