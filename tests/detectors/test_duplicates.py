"""Duplicate checks: identical pixels, and copies that were re-encoded, rescaled, cropped."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from framegate.detectors.duplicates import Match, check_exact, check_near, nearest, ratio_limit
from framegate.detectors.hashing import FrameKey, HashHistory
from framegate.detectors.image_metrics import DESCRIPTOR_LEN, measure
from framegate.detectors.inspector import CameraInspector, decode_for_checks
from framegate.detectors.policy import CameraPolicy, Policy
from framegate.detectors.sequence_baseline import RobustBaseline
from framegate.schemas.checks import Check
from tests.factories import jittered, jpeg, photo

POLICY = CameraPolicy()
PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "camera", "china", "flower"]


def _unit(seed: int) -> np.ndarray:
    d = np.random.default_rng(seed).normal(0, 1, DESCRIPTOR_LEN).astype(np.float32)
    return d / np.linalg.norm(d)


def _k(digest: int) -> FrameKey:
    return FrameKey(np.uint64(digest), np.uint64(0), _unit(0))


def _history(n: int = 4) -> HashHistory:
    h = HashHistory(size=8)
    for i in range(n):
        h.add(FrameKey(np.uint64(i), np.uint64(0), _unit(i)), frame_id=f"cam-1:{i}", at=float(i))
    return h


def _ratios(values: list[float]) -> RobustBaseline:
    base = RobustBaseline(("match_ratio",), window=64, warmup=8)
    for v in values:
        base.update({"match_ratio": v})
    return base


# --- exact -----------------------------------------------------------------------------------


def test_exact_duplicate_names_the_earlier_frame_and_how_far_back() -> None:
    h = _history()
    issue = check_exact(h, _k(1), POLICY, since=-math.inf)
    assert issue is not None and issue.check == Check.EXACT_DUPLICATE and issue.score >= 0.95
    assert "cam-1:1" in issue.detail and "3 frames back" in issue.detail
    assert "1 frame back" in check_exact(h, _k(3), POLICY, since=-math.inf).detail
    assert check_exact(h, _k(9), POLICY, since=-math.inf) is None


def test_exact_duplicate_is_bounded_in_time() -> None:
    h = _history()  # captured at 0, 1, 2, 3
    assert check_exact(h, _k(1), POLICY, since=1.0) is not None
    assert check_exact(h, _k(1), POLICY, since=1.5) is None


def test_exact_duplicate_of_real_pixels_but_not_of_a_jittered_copy() -> None:
    h = HashHistory(size=8)
    for seed in range(3):
        h.add(FrameKey.of(measure(jittered(photo("rocket"), seed))), frame_id=f"f{seed}")
    again = FrameKey.of(measure(jittered(photo("rocket"), 1)))
    other = FrameKey.of(measure(jittered(photo("rocket"), 7)))
    assert check_exact(h, again, POLICY, since=-math.inf) is not None
    assert check_exact(h, other, POLICY, since=-math.inf) is None


# --- nearest ---------------------------------------------------------------------------------


def test_nearest_skips_the_recent_frames_and_reports_them_separately() -> None:
    h = _history(6)
    m = nearest(h, FrameKey(np.uint64(99), np.uint64(0), _unit(1)), skip_recent=3, since=-1.0)
    assert m.back == 5 and m.distance < 2e-3  # frame 1 is 5 back
    assert m.recent > 1.0 and m.second > 1.0
    assert m.ratio == pytest.approx(m.distance / m.recent)


@pytest.mark.parametrize(("added", "skip"), [(0, 0), (3, 3), (3, 5)], ids=["empty", "all", "more"])
def test_nearest_with_nothing_older_is_infinitely_far(added: int, skip: int) -> None:
    m = nearest(
        _history(added),
        FrameKey(np.uint64(9), np.uint64(0), _unit(9)),
        skip_recent=skip,
        since=-1.0,
    )
    assert (m.distance, m.back) == (math.inf, 0) and math.isnan(m.ratio)


# --- near, continuous cameras ----------------------------------------------------------------


def test_ratio_limit_waits_for_enough_ordinary_frames_then_adapts() -> None:
    assert ratio_limit(_ratios([2.0] * 19), POLICY) == 0.0
    assert ratio_limit(_ratios([2.0] * 20), POLICY) == pytest.approx(0.8)  # capped by ratio
    stopping = _ratios([2.0] * 18 + [0.6] * 4)  # a camera that stops now and then
    assert ratio_limit(stopping, POLICY) == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("distance", "recent", "fired"),
    [
        (0.05, 0.2, True),  # a cropped copy: far closer to the old frame than to the last ones
        (0.002, 0.03, True),  # re-encoded only, on a quiet scene
        (0.10, 0.11, False),  # an ordinary frame of a quiet scene
        (0.25, 0.9, False),  # past max_distance
    ],
    ids=["copy", "reencoded", "quiet", "too-far"],
)
def test_near_duplicate_on_a_continuous_camera(distance, recent, fired) -> None:
    base = _ratios([2.0] * 30)
    issue = check_near(
        Match(distance, 12, 0.5, recent), "cam-1:40", kind="fixed", base=base, policy=POLICY
    )
    assert (issue is not None) == fired
    if fired:
        assert issue.check == Check.NEAR_DUPLICATE
        assert "cam-1:40" in issue.detail and "12 frames back" in issue.detail


def test_a_return_to_a_known_view_is_a_copy_only_when_nearly_identical() -> None:
    base = _ratios([2.0] * 30)
    kwargs = {"kind": "patrol", "base": base, "policy": POLICY, "cut": True}
    assert check_near(Match(0.05, 30, 0.06, 1.2), "p:1", **kwargs) is None
    assert check_near(Match(0.004, 30, 0.06, 1.2), "p:1", **kwargs) is not None


def test_no_older_frame_no_issue() -> None:
    base = _ratios([2.0] * 30)
    assert (
        check_near(Match(math.inf, 0, math.inf, 0.1), "", kind="fixed", base=base, policy=POLICY)
        is None
    )


# --- near, snapshot cameras ------------------------------------------------------------------


def _copy(bgr: np.ndarray) -> np.ndarray:
    h, w = bgr.shape[:2]
    cropped = bgr[int(0.012 * h) : h - int(0.012 * h), int(0.012 * w) : w - int(0.012 * w)]
    small = cv2.resize(cropped, (int(w * 0.9), int(h * 0.9)), interpolation=cv2.INTER_AREA)
    jittered_colour = np.clip(small * 1.05 - 6, 0, 255).astype(np.uint8)
    return cv2.imdecode(np.frombuffer(jpeg(jittered_colour, 75), np.uint8), cv2.IMREAD_COLOR)


@pytest.mark.parametrize("name", ["astronaut", "coffee", "rocket", "china"], ids=str)
def test_snapshot_copy_of_an_earlier_photo_is_found_and_other_photos_are_not(name: str) -> None:
    h = HashHistory(size=16)
    for i, other in enumerate(PHOTOS):
        h.add(FrameKey.of(measure(photo(other))), frame_id=other, at=float(i))
    base = RobustBaseline(("match_ratio",))
    copy = FrameKey.of(measure(_copy(photo(name))))
    m = nearest(h, copy, skip_recent=0, since=-1.0)
    issue = check_near(m, h.frame_id(m.back), kind="snapshot", base=base, policy=POLICY)
    assert issue is not None and name in issue.detail
    fresh = FrameKey.of(measure(photo("hubble_deep_field")))
    m = nearest(h, fresh, skip_recent=0, since=-1.0)
    assert check_near(m, h.frame_id(m.back), kind="snapshot", base=base, policy=POLICY) is None


def test_a_frame_delivered_again_is_no_copy_of_itself_but_its_pixels_under_another_id_are():
    policy = Policy().for_camera("cam-r")
    inspector = CameraInspector(policy, camera_id="cam-r")
    scene = photo("coffee")
    data = [jpeg(jittered(scene, n)) for n in range(30)]
    for n, frame in enumerate(data):
        inspector.inspect(
            decode_for_checks(frame, max_pixels=10**8), frame_id=f"r:{n}", captured_at=n
        )
    # at least once: after a rebalance, messages 27 to 29 come again
    for n in (27, 28, 29):
        again = inspector.inspect(
            decode_for_checks(data[n], max_pixels=10**8), frame_id=f"r:{n}", captured_at=n
        )
        assert not {Check.EXACT_DUPLICATE, Check.NEAR_DUPLICATE} & {i.check for i in again.issues}
    copy = inspector.inspect(
        decode_for_checks(data[20], max_pixels=10**8), frame_id="r:30", captured_at=30.0
    )
    assert Check.EXACT_DUPLICATE in {i.check for i in copy.issues}
