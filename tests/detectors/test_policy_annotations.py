"""Policy merging and YAML, the score mapping, annotation checks and the fleet index."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from framegate.detectors.annotations import box_iou, check_annotations
from framegate.detectors.hashing import FleetHashIndex, FrameKey, HashHistory
from framegate.detectors.image_metrics import DESCRIPTOR_LEN
from framegate.detectors.inspector import decode_reduce_for
from framegate.detectors.policy import Policy, ratio_score
from framegate.schemas.frames import Annotation


def test_camera_override_merges_over_defaults() -> None:
    p = Policy.from_yaml(
        "defaults:\n  noisy: {rise: 2.5}\ncameras:\n  cam-7:\n    dark: {floor: 0.01}\n"
    )
    assert p.for_camera("cam-7").dark.floor == 0.01
    assert p.for_camera("cam-7").dark.drop == p.defaults.dark.drop
    assert p.for_camera("cam-7").noisy.rise == 2.5
    assert p.for_camera("cam-1").dark.floor == Policy().defaults.dark.floor


@pytest.mark.parametrize("text", ["", "# nothing\n", "{}\n"], ids=["empty", "comment", "empty-map"])
def test_an_empty_policy_is_the_default_table(text: str) -> None:
    assert Policy.from_yaml(text) == Policy()


@pytest.mark.parametrize("document", [["dark"], "dark"], ids=["list", "scalar"])
def test_a_policy_that_is_not_a_mapping_is_refused(document: object) -> None:
    with pytest.raises(ValueError, match="a policy is a mapping"):
        Policy.from_mapping(document)  # type: ignore[arg-type]


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


def test_box_iou_shapes() -> None:
    assert box_iou(np.zeros((0, 4)), np.array([[0, 0, 1, 1]])).shape == (0, 1)
    assert box_iou(np.array([[0, 0, 2, 2]]), np.array([[0, 0, 2, 2]]))[0, 0] == 1.0


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, 0, 10, 10), (0, 0, 10, 5), 0.5),
        ((0, 0, 10, 10), (10, 0, 20, 10), 0.0),
        ((0, 0, 10, 10), (20, 20, 30, 30), 0.0),
        ((0, 0, 4, 4), (2, 2, 6, 6), 4 / 28),
    ],
    ids=["half", "touching", "apart", "corner"],
)
def test_box_iou_of_one_pair(a, b, expected) -> None:
    assert box_iou([a], [b])[0, 0] == pytest.approx(expected)
    assert box_iou([b], [a])[0, 0] == pytest.approx(expected)


def _key(digest: int, hash64: int, seed: int) -> FrameKey:
    d = np.random.default_rng(seed).normal(0, 1, DESCRIPTOR_LEN).astype(np.float32)
    return FrameKey(np.uint64(digest), np.uint64(hash64), d / np.linalg.norm(d))


def test_fleet_index_finds_copies_from_other_cameras_only() -> None:
    idx = FleetHashIndex(size=16, max_bits=4)
    idx.add(_key(1, 0b1111, seed=3), camera_id="cam-1", frame_id="cam-1:9", at=0.0)
    near = _key(2, 0b1100, seed=3)  # two hash bits differ, same descriptor
    assert idx.query(near, camera_id="cam-2", at=1.0).frame_id == "cam-1:9"
    assert idx.query(near, camera_id="cam-1", at=1.0) is None
    assert idx.query(_key(3, 0b1100, seed=4), camera_id="cam-2", at=1.0) is None
    again = FleetHashIndex.from_state(idx.state())
    assert again.query(near, camera_id="cam-2", at=1.0) == idx.query(
        near, camera_id="cam-2", at=1.0
    )


def test_hash_history_is_bounded_and_round_trips() -> None:
    h = HashHistory(size=8)
    keys = [_key(k, 0, seed=k) for k in range(20)]
    for k, key in enumerate(keys):
        h.add(key, frame_id=f"cam:{k}", at=float(k))
    assert len(h) == 8
    assert h.has_digest(np.uint64(19)) == 1
    assert h.has_digest(np.uint64(5)) is None
    assert h.frame_id(5) == "cam:15"
    again = HashHistory.from_state(json.loads(json.dumps(h.state())))
    np.testing.assert_array_equal(
        again.distances(keys[15].descriptor), h.distances(keys[15].descriptor)
    )
    assert int(np.argmin(h.distances(keys[15].descriptor))) + 1 == 5
    smaller = HashHistory.from_state(h.state(), size=4)  # keeps the most recent frames
    assert smaller.frame_id(1) == "cam:19" and smaller.has_digest(np.uint64(15)) is None


@pytest.mark.parametrize(
    ("size", "reduce"),
    [((640, 480), 2), ((1920, 1080), 4), ((320, 240), 1)],
    ids=["vga", "fullhd", "qvga"],
)
def test_decode_reduction_keeps_analysis_size(size, reduce) -> None:
    assert decode_reduce_for(*size) == reduce
