"""Frames through a real broker and a real worker: reports, relabel requests, dead letters."""

from __future__ import annotations

import base64
import json

import cv2
import numpy as np
import pytest

from tests.factories import frame_bytes, frame_doc, jittered, jpeg, photo

pytestmark = pytest.mark.integration


def _bomb_png() -> bytes:
    # A 12000 x 12000 black PNG compresses to a few hundred kilobytes: a decompression bomb
    # for a worker limited to 40 megapixels.
    ok, buffer = cv2.imencode(
        ".png", np.zeros((12000, 12000), np.uint8), [cv2.IMWRITE_PNG_COMPRESSION, 9]
    )
    assert ok
    return buffer.tobytes()


BAD_INPUTS = {
    "invalid_json": b"{this is not json",
    "invalid_fields": json.dumps(
        {
            "schema_version": 1,
            "frame_id": "cam-9:1",
            "camera_id": "cam-9",
            "captured_at": "yesterday",
        }
    ).encode(),
    "unsupported_schema_version": json.dumps(
        {**frame_doc("cam-9", 2), "schema_version": 7}
    ).encode(),
    "bad_base64": json.dumps(
        frame_doc("cam-9", 3) | {"image": {"encoding": "jpeg", "data": "@@not base64@@"}}
    ).encode(),
    "empty_image": frame_bytes("cam-9", 4, data=b""),
    "not_an_image": frame_bytes("cam-9", 5, data=b"GIF? no, just text " * 20),
    "truncated_image": frame_bytes("cam-9", 6, data=jpeg(photo())[:20000]),
    "too_many_pixels": frame_bytes("cam-9", 7, data=_bomb_png()),
    "uri_not_allowed": json.dumps(
        frame_doc("cam-9", 8)
        | {"image": {"encoding": "jpeg", "uri": "https://example.com/frame.jpg"}}
    ).encode(),
}


def test_frames_become_reports_and_bad_input_becomes_dead_letters(gate_factory, tmp_path):
    allowed = tmp_path / "frames"
    allowed.mkdir()
    (allowed / "good.jpg").write_bytes(jpeg(jittered(photo("coffee"), 99)))
    gate = gate_factory(file_root=str(allowed))
    gate.start()

    dark_pixels = (photo("astronaut") * 0.05).astype(np.uint8)
    good = [
        frame_bytes(
            "cam-1", i, data=jpeg(dark_pixels if i == 6 else jittered(photo("astronaut"), i))
        )
        for i in range(len(BAD_INPUTS) + 1)
    ]
    outside = json.dumps(
        frame_doc("cam-9", 9)
        | {"image": {"encoding": "jpeg", "uri": f"file://{tmp_path}/elsewhere.jpg"}}
    ).encode()
    by_uri = json.dumps(
        frame_doc("cam-2", 0) | {"image": {"encoding": "jpeg", "uri": f"file://{allowed}/good.jpg"}}
    ).encode()
    # Bad inputs are interleaved with good frames: each good frame after a bad one must still
    # come out, so a worker that died on a bad message would fail here.
    messages: list[tuple[bytes, bytes]] = []
    for bad, frame in zip([*BAD_INPUTS.values(), outside], good, strict=True):
        messages += [(b"cam-9", bad), (b"cam-1", frame)]
    messages.append((b"cam-2", by_uri))
    gate.publish("frames", messages)

    expected_reports = {json.loads(v)["frame_id"] for k, v in messages if k != b"cam-9"}
    reports = gate.collect("quality", count=len(expected_reports))
    assert {r["frame_id"] for r in reports} == expected_reports
    dead = gate.collect("deadletter", count=len(BAD_INPUTS) + 1)
    reasons = sorted(d["reason"] for d in dead)
    assert reasons == sorted([*BAD_INPUTS, "uri_not_allowed"])
    for record in dead:
        assert record["source_topic"] == gate.settings.topic("frames")
        assert record["key"] == "cam-9"
        assert record["error"]
        assert base64.b64decode(record["payload_base64"])

    by_id = {r["frame_id"]: r for r in reports}
    assert by_id["cam-2:000000"]["width"] == 640
    for report in reports:
        assert {"brightness", "contrast", "sharpness"} <= set(report["metrics"])
    dark_report = by_id["cam-1:000006"]
    assert "dark" in {i["check"] for i in dark_report["issues"]}
    assert dark_report["metrics"]["brightness"] < by_id["cam-1:000000"]["metrics"]["brightness"] / 5

    requests = gate.collect("relabel", count=1)
    flagged = {r["frame_id"] for r in reports if r["issues"]}
    assert {r["frame_id"] for r in requests} == flagged
    assert len({r["request_id"] for r in requests}) == len(requests)


def test_redelivered_frame_yields_the_same_request_id(gate_factory):
    gate = gate_factory()
    gate.start()
    dark = frame_bytes("cam-5", 1, data=jpeg((photo("chelsea") * 0.05).astype(np.uint8)))
    gate.publish("frames", [(b"cam-5", dark), (b"cam-5", dark)])
    requests = gate.collect("relabel", count=2)
    assert len(requests) == 2
    assert requests[0]["request_id"] == requests[1]["request_id"]
