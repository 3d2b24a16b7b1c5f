"""Policy merging and YAML, the score mapping, annotation checks and the fleet index."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from detectors.annotations import check_annotations
from detectors.camera import decode_reduce_for
from detectors.hashing import FleetHashIndex, HashHistory
from detectors.policy import Policy, ratio_score
from schemas.frames import Annotation


def test_camera_override_merges_over_defaults(tmp_path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "defaults:\n  noisy: {rise: 2.5}\ncameras:\n  cam-7:\n    dark: {floor: 0.01}\n"
    )
    p = Policy.from_yaml(path)
    assert p.for_camera("cam-7").dark.floor == 0.01
    assert p.for_camera("cam-7").dark.drop == p.defaults.dark.drop
    assert p.for_camera("cam-7").noisy.rise == 2.5
    assert p.for_camera("cam-1").dark.floor == Policy().defaults.dark.floor


def test_typo_in_override_fails_at_load() -> None:
    with pytest.raises(ValidationError):
        Policy.model_validate({"cameras": {"cam-7": {"dark": {"flor": 0.1}}}})


@pytest.mark.parametrize(
    ("ratio", "score"), [(0.0, 0.0), (1.0, 0.5), (4.0, 0.875)], ids=["fine", "at-limit", "far-past"]
)
def test_ratio_score(ratio: float, score: float) -> None:
    assert ratio_score(ratio) == pytest.approx(score)


@pytest.mark.parametrize(
    ("boxes", "expected"),
    [
        ([(100, 100, 200, 200)], set()),
        ([(0, 100, 50, 200)], {"annotation_near_border"}),
        ([(100, 100, 102, 140)], {"tiny_box"}),
        ([(100, 100, 200, 200), (101, 100, 200, 201)], {"duplicate_box"}),
    ],
    ids=["clean", "border", "tiny", "duplicate"],
)
def test_annotation_checks(boxes, expected) -> None:
    anns = [Annotation(label="person", box=b) for b in boxes]
    issues = check_annotations(anns, 640, 480, Policy().defaults)
    assert {i.check.value for i in issues} == expected


def test_fleet_index_finds_copies_from_other_cameras_only() -> None:
    rng = np.random.default_rng(3)
    idx = FleetHashIndex(size=16, max_bits=4)
    a = rng.random(256) > 0.5
    idx.add(a, camera_id="cam-1", frame_id="cam-1:9")
    near = a.copy()
    near[:2] = ~near[:2]  # two low-frequency bits differ
    assert idx.query(near, camera_id="cam-2").frame_id == "cam-1:9"
    assert idx.query(near, camera_id="cam-1") is None
    assert idx.query(rng.random(256) > 0.5, camera_id="cam-2") is None
    again = FleetHashIndex.from_state(idx.state())
    assert again.query(near, camera_id="cam-2") == idx.query(near, camera_id="cam-2")


def test_hash_history_is_bounded_and_round_trips() -> None:
    rng = np.random.default_rng(4)
    h = HashHistory(size=8)
    fps = [rng.normal(0, 1, 36).astype(np.float32) for _ in range(20)]
    for k, fp in enumerate(fps):
        h.add(k.to_bytes(8, "big"), fp, frame_id=f"cam:{k}")
    assert len(h) == 8
    assert h.has_digest((19).to_bytes(8, "big")) == 1
    assert h.has_digest((5).to_bytes(8, "big")) is None
    assert h.frame_id(5) == "cam:15"
    again = HashHistory.from_state(json.loads(json.dumps(h.state())))
    assert again.nearest(fps[15], skip_recent=0) == h.nearest(fps[15], skip_recent=0)
    distance, back = h.nearest(fps[15], skip_recent=0)
    assert back == 5 and distance < 1e-3
    smaller = HashHistory.from_state(h.state(), size=4)  # keeps the most recent frames
    assert smaller.frame_id(1) == "cam:19" and smaller.has_digest((15).to_bytes(8, "big")) is None


@pytest.mark.parametrize(
    ("size", "reduce"),
    [((640, 480), 2), ((1920, 1080), 4), ((320, 240), 1)],
    ids=["vga", "fullhd", "qvga"],
)
def test_decode_reduction_keeps_analysis_size(size, reduce) -> None:
    assert decode_reduce_for(*size) == reduce
