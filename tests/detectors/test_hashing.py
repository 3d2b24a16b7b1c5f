"""Duplicate memories: a camera's recent frames, and the fleet's index."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from framegate.detectors.hashing import (
    FleetHashIndex,
    FleetMatch,
    FrameKey,
    HashHistory,
    coarse64,
)
from framegate.detectors.image_metrics import DESCRIPTOR_LEN, FrameMeasures, measure
from tests.factories import jpeg, photo


def _reencoded(bgr: np.ndarray, quality: int = 70) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(jpeg(bgr, quality), np.uint8), cv2.IMREAD_COLOR)


def _bits_apart(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.bitwise_count(coarse64(a) ^ coarse64(b)))


def _measures(name: str) -> FrameMeasures:
    return measure(photo(name))


def _descriptors(n: int, seed: int) -> np.ndarray:
    d = np.random.default_rng(seed).normal(0, 1, (n, DESCRIPTOR_LEN)).astype(np.float32)
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def _key(i: int, descriptor: np.ndarray, hash64: int = 0) -> FrameKey:
    return FrameKey(np.uint64(i), np.uint64(hash64), descriptor)


# --- coarse64 --------------------------------------------------------------------------------


def test_coarse64_uses_only_the_8x8_lowest_frequencies() -> None:
    rng = np.random.default_rng(0)
    bits = rng.random(256) > 0.5
    high = bits.reshape(16, 16).copy()
    high[8:, :] ^= True  # every frequency outside the low 8x8 block flipped
    high[:, 8:] ^= True
    assert coarse64(high.ravel()) == coarse64(bits)
    low = bits.reshape(16, 16).copy()
    low[3, 5] ^= True
    assert _bits_apart(low.ravel(), bits) == 1


def test_coarse64_is_one_uint64() -> None:
    assert isinstance(coarse64(np.ones(256, bool)), np.uint64)
    assert coarse64(np.ones(256, bool)) == np.uint64(2**64 - 1)
    assert coarse64(np.zeros(256, bool)) == 0


@pytest.mark.parametrize(
    "copy",
    [
        lambda f: _reencoded(f, 70),
        lambda f: _reencoded(f, 30),
        lambda f: cv2.resize(f, (320, 240), interpolation=cv2.INTER_AREA),
        lambda f: cv2.resize(f[4:-4, 5:-5], (640, 480)),
    ],
    ids=["jpeg-q70", "jpeg-q30", "half-size", "crop-1.5pct"],
)
@pytest.mark.parametrize("name", ["astronaut", "coffee", "rocket"], ids=str)
def test_copies_land_within_a_few_bits_and_other_photos_far_away(copy, name: str) -> None:
    original = _measures(name).hash_bits
    copied = measure(copy(photo(name))).hash_bits
    assert _bits_apart(original, copied) <= 8  # crops included
    for other in ("astronaut", "coffee", "rocket", "chelsea", "camera"):
        if other != name:
            unrelated = _measures(other).hash_bits
            assert _bits_apart(original, unrelated) >= 20  # chance level is 32 of 64
            assert int((original != unrelated).sum()) >= 80  # chance level is 128 of 256


@pytest.mark.parametrize("quality", [90, 50, 20], ids=lambda q: f"jpeg-q{q}")
@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "rocket"], ids=str)
def test_full_hash_of_a_reencoded_photo_moves_by_a_few_bits(name: str, quality: int) -> None:
    original = _measures(name).hash_bits
    copied = measure(_reencoded(photo(name), quality)).hash_bits
    assert int((original != copied).sum()) <= 8  # of 256; unrelated photos differ by ~128


# --- HashHistory -----------------------------------------------------------------------------


def _history(size: int, n: int, seed: int, dt: float = 1.0) -> HashHistory:
    h = HashHistory(size=size)
    for i, d in enumerate(_descriptors(n, seed)):
        h.add(_key(i, d), frame_id=f"cam:{i}", at=i * dt)
    return h


def test_history_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        HashHistory(size=0)


def test_has_digest_counts_frames_back_from_the_newest() -> None:
    h = _history(8, 5, seed=1)
    assert len(h) == 5
    assert h.has_digest(np.uint64(4)) == 1
    assert h.has_digest(np.uint64(0)) == 5
    assert h.has_digest(np.uint64(99)) is None
    h.add(_key(2, _descriptors(1, 2)[0]), frame_id="cam:5", at=5.0)
    assert h.has_digest(np.uint64(2)) == 1  # the most recent sighting


def test_ring_forgets_frames_older_than_its_size() -> None:
    h = _history(3, 5, seed=2)
    assert len(h) == 3
    assert h.has_digest(np.uint64(1)) is None
    assert h.has_digest(np.uint64(2)) == 3
    assert [h.frame_id(b) for b in (1, 2, 3)] == ["cam:4", "cam:3", "cam:2"]


def test_frames_captured_before_since_are_forgotten() -> None:
    h = _history(8, 6, seed=3, dt=10.0)  # captured at 0, 10, ..., 50
    assert h.has_digest(np.uint64(1), since=5.0) == 5
    assert h.has_digest(np.uint64(1), since=15.0) is None
    dist = h.distances(_descriptors(6, 3)[1], since=15.0)
    assert np.isinf(dist[4]) and np.isinf(dist[5]) and np.isfinite(dist[:4]).all()
    assert h.captured(1) == 50.0 and h.captured(9) == -np.inf


@pytest.mark.parametrize("back", [0, -1, 4, 100], ids=["zero", "negative", "past-len", "far"])
def test_unknown_positions_have_no_id(back: int) -> None:
    assert _history(8, 3, seed=4).frame_id(back) == ""


def test_distances_are_newest_first_and_survive_float16_storage() -> None:
    h = _history(8, 5, seed=5)
    d = _descriptors(5, 5)
    dist = h.distances(d[3])
    assert dist.shape == (5,) and dist[1] < 2e-3  # frame 3 is 2 back: index 1
    assert dist[0] == pytest.approx(float(np.linalg.norm(d[4] - d[3])), abs=2e-3)
    assert HashHistory(size=4).distances(d[0]).shape == (0,)


def test_reencoded_copy_is_the_nearest_descriptor() -> None:
    h = HashHistory(size=8)
    for i, name in enumerate(("astronaut", "coffee", "chelsea", "rocket", "camera")):
        h.add(FrameKey.of(_measures(name)), frame_id=name, at=float(i))
    copy = FrameKey.of(measure(_reencoded(photo("coffee"))))
    dist = h.distances(copy.descriptor)
    back = int(np.argmin(dist)) + 1
    assert h.frame_id(back) == "coffee"
    assert dist[back - 1] < 0.01
    assert np.delete(dist, back - 1).min() > 20 * dist[back - 1]
    assert h.has_digest(copy.digest) is None  # similar, not identical pixels


def _same_memory(a: HashHistory, b: HashHistory, probes: np.ndarray) -> None:
    assert len(a) == len(b)
    for back in range(1, len(a) + 1):
        assert a.frame_id(back) == b.frame_id(back)
        assert a.captured(back) == b.captured(back)
    for i in range(20):
        assert a.has_digest(np.uint64(i)) == b.has_digest(np.uint64(i))
    for d in probes:
        np.testing.assert_array_equal(a.distances(d), b.distances(d))


@pytest.mark.parametrize("n", [0, 5, 13], ids=["empty", "partial", "wrapped"])
def test_history_state_round_trips_through_json(n: int) -> None:
    h = _history(8, n, seed=8)
    restored = HashHistory.from_state(json.loads(json.dumps(h.state())))
    probes = _descriptors(4, seed=9)
    _same_memory(h, restored, probes)
    for i, d in enumerate(_descriptors(5, seed=10), start=100):  # same ring position
        h.add(_key(i, d), frame_id=f"new:{i}", at=float(i))
        restored.add(_key(i, d), frame_id=f"new:{i}", at=float(i))
    _same_memory(h, restored, probes)


def test_history_restored_smaller_keeps_the_most_recent_frames() -> None:
    h = _history(8, 13, seed=11)
    small = HashHistory.from_state(json.loads(json.dumps(h.state())), size=3)
    assert small.size == 3 and len(small) == 3
    assert [small.frame_id(b) for b in (1, 2, 3)] == ["cam:12", "cam:11", "cam:10"]
    assert small.has_digest(np.uint64(12)) == 1 and small.has_digest(np.uint64(9)) is None


def test_history_restored_larger_keeps_every_frame_in_order() -> None:
    h = _history(4, 6, seed=12)
    large = HashHistory.from_state(h.state(), size=10)
    assert len(large) == 4
    assert [large.frame_id(b) for b in range(1, 5)] == ["cam:5", "cam:4", "cam:3", "cam:2"]
    d = _descriptors(6, seed=12)
    assert large.distances(d[2])[3] < 2e-3
    large.add(_key(50, d[0]), frame_id="cam:50", at=50.0)
    assert len(large) == 5 and large.frame_id(5) == "cam:2"  # nothing overwritten


# --- FleetHashIndex --------------------------------------------------------------------------


def _flip_low(bits: int, n: int) -> int:
    return bits ^ ((1 << n) - 1)


def test_fleet_size_and_age_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        FleetHashIndex(size=0)
    with pytest.raises(ValueError, match="positive"):
        FleetHashIndex(max_age_s=0)


def test_empty_index_matches_nothing() -> None:
    key = _key(1, _descriptors(1, 0)[0])
    assert FleetHashIndex(size=4).query(key, camera_id="cam-1", at=0.0) is None


def test_identical_pixels_from_another_camera_are_an_exact_match() -> None:
    idx = FleetHashIndex(size=8)
    d = _descriptors(2, 1)
    idx.add(_key(7, d[0], 5), camera_id="cam-1", frame_id="cam-1:1", at=0.0)
    assert idx.query(_key(7, d[1], 99), camera_id="cam-2", at=1.0) == FleetMatch(
        "cam-1", "cam-1:1", 0, 0.0, exact=True
    )
    assert idx.query(_key(7, d[1], 99), camera_id="cam-1", at=1.0) is None


@pytest.mark.parametrize(
    ("flipped", "noise", "found"),
    [(0, 0.0, True), (10, 0.05, True), (12, 0.08, True), (13, 0.0, False), (0, 0.3, False)],
    ids=["same", "close", "at-max-bits", "one-bit-over", "descriptor-far"],
)
def test_near_match_needs_a_close_hash_and_a_close_descriptor(flipped, noise, found) -> None:
    idx = FleetHashIndex(size=16)
    d = _descriptors(1, 2)[0]
    idx.add(_key(1, d, 0b1011), camera_id="cam-1", frame_id="cam-1:1", at=0.0)
    rng = np.random.default_rng(3)
    q = d + rng.normal(0, 1, DESCRIPTOR_LEN).astype(np.float32) * noise / np.sqrt(DESCRIPTOR_LEN)
    match = idx.query(
        _key(2, q / np.linalg.norm(q), _flip_low(0b1011, flipped)), camera_id="cam-2", at=1.0
    )
    assert (match is not None and match.frame_id == "cam-1:1" and not match.exact) == found


def test_query_ignores_the_asking_camera_and_frames_too_old() -> None:
    idx = FleetHashIndex(size=16, max_age_s=60)
    d = _descriptors(1, 4)[0]
    idx.add(_key(1, d, 3), camera_id="cam-1", frame_id="cam-1:1", at=0.0)
    assert idx.query(_key(2, d, 3), camera_id="cam-1", at=10.0) is None
    assert idx.query(_key(2, d, 3), camera_id="cam-2", at=10.0).frame_id == "cam-1:1"
    assert idx.query(_key(2, d, 3), camera_id="cam-2", at=61.0) is None


def test_fleet_ring_forgets_the_oldest_frames() -> None:
    idx = FleetHashIndex(size=3)
    ds = _descriptors(5, 5)
    for i, d in enumerate(ds):
        idx.add(_key(i, d, i * 0xFFFF), camera_id="cam-1", frame_id=f"cam-1:{i}", at=0.0)
    assert len(idx) == 3
    found = [idx.query(_key(i, d, i * 0xFFFF), camera_id="cam-2", at=0.0) for i, d in enumerate(ds)]
    assert found[:2] == [None, None]
    assert [m.frame_id for m in found[2:]] == ["cam-1:2", "cam-1:3", "cam-1:4"]


def test_reencoded_photo_from_another_camera_is_found_and_unrelated_photos_are_not() -> None:
    idx = FleetHashIndex(size=64)
    for name in ("astronaut", "coffee", "chelsea"):
        idx.add(FrameKey.of(_measures(name)), camera_id=f"cam-{name}", frame_id=f"{name}:1", at=0.0)
    copy = FrameKey.of(measure(_reencoded(cv2.resize(photo("coffee"), (800, 600)), 60)))
    match = idx.query(copy, camera_id="cam-other", at=1.0)
    assert match is not None and match.frame_id == "coffee:1" and not match.exact
    for name in ("rocket", "camera"):
        assert idx.query(FrameKey.of(_measures(name)), camera_id="cam-other", at=1.0) is None


@pytest.mark.parametrize("n", [0, 2, 7], ids=["empty", "partial", "wrapped"])
def test_fleet_state_round_trips_through_json_and_copies_are_independent(n: int) -> None:
    idx = FleetHashIndex(size=4, max_bits=3)
    ds = _descriptors(n + 1, 6)
    keys = [_key(i, d, i * 0xF0F0) for i, d in enumerate(ds)]
    for i, key in enumerate(keys[:n]):
        idx.add(key, camera_id=f"cam-{i % 2}", frame_id=f"f{i}", at=float(i))
    restored = FleetHashIndex.from_state(json.loads(json.dumps(idx.state())))
    copy = idx.copy()
    assert (restored.size, restored.max_bits, len(restored)) == (4, 3, len(idx))
    for key in keys:
        for cam in ("cam-0", "cam-1", "cam-9"):
            expected = idx.query(key, camera_id=cam, at=float(n))
            assert restored.query(key, camera_id=cam, at=float(n)) == expected
            assert copy.query(key, camera_id=cam, at=float(n)) == expected
    copy.add(keys[-1], camera_id="cam-5", frame_id="late", at=float(n))
    assert idx.query(keys[-1], camera_id="cam-9", at=float(n)) is None or n >= 1
    assert len(copy) == min(n + 1, 4) and len(idx) == min(n, 4)


def test_a_frame_delivered_again_is_remembered_once():
    d = _descriptors(3, 1)
    h = HashHistory(size=3)
    h.add(FrameKey(np.uint64(1), np.uint64(0), d[0]), frame_id="c:1", at=1.0)
    h.add(FrameKey(np.uint64(2), np.uint64(0), d[1]), frame_id="c:2", at=2.0)
    h.add(FrameKey(np.uint64(2), np.uint64(0), d[1]), frame_id="c:2", at=2.0)  # again
    h.add(FrameKey(np.uint64(3), np.uint64(0), d[2]), frame_id="c:3", at=3.0)
    assert len(h) == 3 and h.has_digest(np.uint64(1)) == 3  # c:1 is still remembered
    assert [h.frame_id(back) for back in (1, 2, 3)] == ["c:3", "c:2", "c:1"]
