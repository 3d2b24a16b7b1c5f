"""Perceptual-hash memories: a camera's recent frames, and the fleet's index of coarse hashes."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from framegate.detectors.hashing import (
    FINGERPRINT_LEN,
    FleetHashIndex,
    FleetMatch,
    HashHistory,
    coarse64,
)
from framegate.detectors.image_metrics import FrameMeasures, measure
from tests.factories import jpeg, photo


def _reencoded(bgr: np.ndarray, quality: int = 70) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(jpeg(bgr, quality), np.uint8), cv2.IMREAD_COLOR)


def _bits_apart(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.bitwise_count(coarse64(a) ^ coarse64(b)))


def _measures(name: str) -> FrameMeasures:
    return measure(photo(name))


def _digest(i: int) -> bytes:
    return i.to_bytes(8, "big")


def _fingerprints(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 100, (n, FINGERPRINT_LEN)).astype(np.float32)


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
    assert _bits_apart(original, copied) <= FleetHashIndex().max_bits  # crops included
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


def test_history_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        HashHistory(size=0)


def test_has_digest_counts_frames_back_from_the_newest() -> None:
    h = HashHistory(size=8)
    fps = _fingerprints(5, seed=1)
    for i in range(5):
        h.add(_digest(i), fps[i], frame_id=f"cam:{i}")
    assert len(h) == 5
    assert h.has_digest(_digest(4)) == 1
    assert h.has_digest(_digest(0)) == 5
    assert h.has_digest(_digest(99)) is None
    h.add(_digest(2), fps[2], frame_id="cam:5")
    assert h.has_digest(_digest(2)) == 1  # the most recent sighting


def test_ring_forgets_frames_older_than_its_size() -> None:
    h = HashHistory(size=3)
    fps = _fingerprints(5, seed=2)
    for i in range(5):
        h.add(_digest(i), fps[i], frame_id=f"cam:{i}")
    assert len(h) == 3
    assert h.has_digest(_digest(1)) is None
    assert h.has_digest(_digest(2)) == 3
    assert [h.frame_id(b) for b in (1, 2, 3)] == ["cam:4", "cam:3", "cam:2"]


@pytest.mark.parametrize("back", [0, -1, 4, 100], ids=["zero", "negative", "past-len", "far"])
def test_unknown_positions_have_no_id_and_no_distance(back: int) -> None:
    h = HashHistory(size=8)
    fps = _fingerprints(3, seed=3)
    for i in range(3):
        h.add(_digest(i), fps[i], frame_id=f"cam:{i}")
    assert h.frame_id(back) == ""
    assert np.isnan(h.distance(fps[0], back))


def test_distance_is_relative_and_survives_float16_storage() -> None:
    h = HashHistory(size=4)
    [a, b] = _fingerprints(2, seed=4)
    h.add(_digest(1), a)
    h.add(_digest(2), b)
    assert h.distance(b, 1) < 1e-3 and h.distance(a, 2) < 1e-3
    expected = np.linalg.norm(a - b) / np.linalg.norm(b)
    assert h.distance(b, 2) == pytest.approx(expected, rel=1e-3)
    assert h.distance(10 * a, 2) == pytest.approx(0.9, abs=1e-3)  # |a - 10a| / |10a|


def test_nearest_finds_the_closest_older_frame_and_skips_the_newest() -> None:
    rng = np.random.default_rng(5)
    h = HashHistory(size=16)
    fps = _fingerprints(10, seed=5)
    for i in range(10):
        h.add(_digest(i), fps[i], frame_id=f"cam:{i}")
    query = fps[3] + rng.normal(0, 1, FINGERPRINT_LEN).astype(np.float32)
    distance, back = h.nearest(query, skip_recent=0)
    assert back == 7 and h.frame_id(back) == "cam:3"
    assert distance < 0.05
    # skipping the 7 newest hides frame 3: the answer is another, far worse frame
    far, back_far = h.nearest(query, skip_recent=7)
    assert back_far in (8, 9, 10) and far > 10 * distance


@pytest.mark.parametrize(("added", "skip"), [(0, 0), (3, 3), (3, 5)], ids=["empty", "all", "more"])
def test_nearest_with_nothing_left_is_infinitely_far(added: int, skip: int) -> None:
    h = HashHistory(size=8)
    for i, fp in enumerate(_fingerprints(added, seed=6)):
        h.add(_digest(i), fp)
    assert h.nearest(_fingerprints(1, seed=7)[0], skip_recent=skip) == (float("inf"), 0)


def test_reencoded_copy_is_the_nearest_fingerprint() -> None:
    h = HashHistory(size=8)
    for name in ("astronaut", "coffee", "chelsea", "rocket", "camera"):
        m = _measures(name)
        h.add(m.digest, m.fingerprint, frame_id=name)
    copy = measure(_reencoded(photo("coffee")))
    distance, back = h.nearest(copy.fingerprint, skip_recent=0)
    assert h.frame_id(back) == "coffee"
    assert distance < 0.005
    others = [h.distance(copy.fingerprint, b) for b in range(1, 6) if b != back]
    assert min(others) > 20 * distance
    assert h.has_digest(copy.digest) is None  # similar, not identical pixels


def _history(size: int, n: int, seed: int) -> HashHistory:
    h = HashHistory(size=size)
    for i, fp in enumerate(_fingerprints(n, seed)):
        h.add(_digest(i), fp, frame_id=f"cam:{i}")
    return h


def _same_memory(a: HashHistory, b: HashHistory, probes: np.ndarray) -> None:
    assert len(a) == len(b)
    for back in range(1, len(a) + 1):
        assert a.frame_id(back) == b.frame_id(back)
    for i in range(20):
        assert a.has_digest(_digest(i)) == b.has_digest(_digest(i))
    for fp in probes:
        assert a.nearest(fp, skip_recent=1) == b.nearest(fp, skip_recent=1)


@pytest.mark.parametrize("n", [0, 5, 13], ids=["empty", "partial", "wrapped"])
def test_history_state_round_trips_through_json(n: int) -> None:
    h = _history(8, n, seed=8)
    restored = HashHistory.from_state(json.loads(json.dumps(h.state())))
    probes = _fingerprints(4, seed=9)
    _same_memory(h, restored, probes)
    for i, fp in enumerate(_fingerprints(5, seed=10), start=100):  # same ring position
        h.add(_digest(i), fp, frame_id=f"new:{i}")
        restored.add(_digest(i), fp, frame_id=f"new:{i}")
    _same_memory(h, restored, probes)


def test_history_restored_smaller_keeps_the_most_recent_frames() -> None:
    h = _history(8, 13, seed=11)
    small = HashHistory.from_state(json.loads(json.dumps(h.state())), size=3)
    assert small.size == 3 and len(small) == 3
    assert [small.frame_id(b) for b in (1, 2, 3)] == ["cam:12", "cam:11", "cam:10"]
    assert small.has_digest(_digest(12)) == 1 and small.has_digest(_digest(9)) is None


def test_history_restored_larger_keeps_every_frame_in_order() -> None:
    h = _history(4, 6, seed=12)
    large = HashHistory.from_state(h.state(), size=10)
    assert len(large) == 4
    assert [large.frame_id(b) for b in range(1, 5)] == ["cam:5", "cam:4", "cam:3", "cam:2"]
    fps = _fingerprints(6, seed=12)
    assert large.distance(fps[2], 4) < 1e-3
    large.add(_digest(50), fps[0], frame_id="cam:50")
    assert len(large) == 5 and large.frame_id(5) == "cam:2"  # nothing overwritten


# --- FleetHashIndex --------------------------------------------------------------------------


def _random_bits(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(256) > 0.5


def _flip_low(bits: np.ndarray, n: int) -> np.ndarray:
    out = bits.reshape(16, 16).copy()
    for k in range(n):
        out[k // 8, k % 8] ^= True
    return out.ravel()


def test_fleet_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        FleetHashIndex(size=0)


def test_empty_index_matches_nothing() -> None:
    assert FleetHashIndex(size=4).query(_random_bits(0), camera_id="cam-1") is None


@pytest.mark.parametrize(
    ("flipped", "found"),
    [(0, True), (3, True), (5, True), (6, False), (32, False)],
    ids=["same", "3-bits", "at-max-bits", "one-over", "unrelated"],
)
def test_query_matches_other_cameras_within_max_bits(flipped: int, found: bool) -> None:
    idx = FleetHashIndex(size=16, max_bits=5)
    bits = _random_bits(1)
    idx.add(bits, camera_id="cam-1", frame_id="cam-1:1")
    match = idx.query(_flip_low(bits, flipped), camera_id="cam-2")
    assert (match == FleetMatch("cam-1", "cam-1:1", flipped)) if found else match is None


def test_query_ignores_the_asking_camera_but_finds_another_one_further_away() -> None:
    idx = FleetHashIndex(size=16, max_bits=5)
    bits = _random_bits(2)
    idx.add(bits, camera_id="cam-1", frame_id="cam-1:1")
    assert idx.query(bits, camera_id="cam-1") is None
    idx.add(_flip_low(bits, 4), camera_id="cam-3", frame_id="cam-3:9")
    idx.add(_flip_low(bits, 2), camera_id="cam-2", frame_id="cam-2:5")
    assert idx.query(bits, camera_id="cam-1") == FleetMatch("cam-2", "cam-2:5", 2)
    assert idx.query(bits, camera_id="cam-2") == FleetMatch("cam-1", "cam-1:1", 0)


def test_fleet_ring_forgets_the_oldest_frames() -> None:
    idx = FleetHashIndex(size=3, max_bits=0)
    all_bits = [_random_bits(10 + i) for i in range(5)]
    for i, bits in enumerate(all_bits):
        idx.add(bits, camera_id="cam-1", frame_id=f"cam-1:{i}")
    assert len(idx) == 3
    found = [idx.query(bits, camera_id="cam-2") for bits in all_bits]
    assert found[:2] == [None, None]
    assert [m.frame_id for m in found[2:]] == ["cam-1:2", "cam-1:3", "cam-1:4"]


def test_reencoded_photo_from_another_camera_is_found_and_unrelated_photos_are_not() -> None:
    idx = FleetHashIndex(size=64)
    for name in ("astronaut", "coffee", "chelsea"):
        idx.add(_measures(name).hash_bits, camera_id=f"cam-{name}", frame_id=f"{name}:1")
    copy = measure(_reencoded(cv2.resize(photo("coffee"), (800, 600)), 60)).hash_bits
    match = idx.query(copy, camera_id="cam-other")
    assert match is not None and match.frame_id == "coffee:1"
    for name in ("rocket", "camera"):
        assert idx.query(_measures(name).hash_bits, camera_id="cam-other") is None


@pytest.mark.parametrize("n", [0, 2, 7], ids=["empty", "partial", "wrapped"])
def test_fleet_state_round_trips_through_json(n: int) -> None:
    idx = FleetHashIndex(size=4, max_bits=3)
    all_bits = [_random_bits(20 + i) for i in range(n + 1)]
    for i, bits in enumerate(all_bits[:n]):
        idx.add(bits, camera_id=f"cam-{i % 2}", frame_id=f"f{i}")
    restored = FleetHashIndex.from_state(json.loads(json.dumps(idx.state())))
    assert (restored.size, restored.max_bits, len(restored)) == (4, 3, len(idx))
    for bits in all_bits:
        for cam in ("cam-0", "cam-1", "cam-9"):
            assert restored.query(bits, camera_id=cam) == idx.query(bits, camera_id=cam)
    idx.add(all_bits[-1], camera_id="cam-5", frame_id="late")  # same slot overwritten
    restored.add(all_bits[-1], camera_id="cam-5", frame_id="late")
    for bits in all_bits:
        assert restored.query(bits, camera_id="cam-9") == idx.query(bits, camera_id="cam-9")
