"""The per-camera inspector on real photos: each check with and without its fault."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from framegate.detectors.inspector import CameraInspector, decode_for_checks
from framegate.detectors.policy import Policy
from tests.factories import jpeg, photo

MAX = 50_000_000


def stream(name: str, n: int, seed: int) -> list[bytes]:
    """A fixed camera watching ``name``: sub-pixel jitter, gain and sensor noise, a moving box."""
    rng = np.random.default_rng(seed)
    base = photo(name)
    out = []
    for i in range(n):
        m = np.float32([[1, 0, rng.uniform(-1, 1)], [0, 1, rng.uniform(-1, 1)]])
        f = cv2.warpAffine(base, m, (640, 480), borderMode=cv2.BORDER_REFLECT).astype(np.float32)
        x = 40 + 25 * i
        f[300:380, x % 560 : x % 560 + 60] = (40, 120, 200)  # a passer-by
        f = f * rng.uniform(0.97, 1.03) + rng.normal(0, 1.5, f.shape)
        out.append(jpeg(np.clip(f, 0, 255).astype(np.uint8), 90))
    return out


def warmed(frames: list[bytes], dt: float = 0.1) -> tuple[CameraInspector, float]:
    insp = CameraInspector(Policy().for_camera("cam"), camera_id="cam")
    t = 0.0
    for i, data in enumerate(frames):
        t += dt
        res = insp.inspect(decode_for_checks(data, max_pixels=MAX), frame_id=str(i), captured_at=t)
        if i > 0:
            assert res.issues == [], f"clean frame {i} flagged: {res.issues}"
    return insp, t


def checks(insp: CameraInspector, data: bytes, t: float) -> set[str]:
    res = insp.inspect(decode_for_checks(data, max_pixels=MAX), frame_id="f", captured_at=t)
    return {i.check.value for i in res.issues}


def _u8(x):
    return np.clip(x, 0, 255).astype(np.uint8)


IMAGE_FAULTS = {
    "dark": lambda f, r: _u8(f * 0.25),
    "bright": lambda f, r: _u8(255 - (255 - f.astype(np.float32)) * 0.25),
    "low_contrast": lambda f, r: _u8(f * 0.25 + 150),
    "blurry": lambda f, r: cv2.GaussianBlur(f, (0, 0), 3.0),
    "noisy": lambda f, r: _u8(f + r.normal(0, 16, f.shape)),
    "low_information": lambda f, r: _u8(120 + r.normal(0, 2, f.shape)),
    "grayscale": lambda f, r: cv2.cvtColor(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR),
    "exposure_clipped": lambda f, r: _u8((f - f.mean()) * 3.0 + f.mean()),
    "odd_size": lambda f, r: cv2.resize(f, (80, 60)),
    "odd_aspect_ratio": lambda f, r: f[200:360],
}


@pytest.mark.parametrize("name", ["astronaut", "coffee", "china"], ids=str)
@pytest.mark.parametrize("fault", list(IMAGE_FAULTS), ids=str)
def test_image_fault_is_flagged_and_clean_frame_is_not(fault: str, name: str) -> None:
    rng = np.random.default_rng(7)
    frames = stream(name, 14, seed=1)
    insp, t = warmed(frames[:12])
    assert checks(insp, frames[12], t + 0.1) == set()
    clean = cv2.imdecode(np.frombuffer(frames[13], np.uint8), cv2.IMREAD_COLOR)
    assert fault in checks(insp, jpeg(IMAGE_FAULTS[fault](clean, rng)), t + 0.2)


def test_night_camera_is_not_dark_but_a_broken_one_is() -> None:
    night = stream("astronaut", 14, seed=2)
    night = [jpeg(_u8(cv2.imdecode(np.frombuffer(b, np.uint8), 1) * 0.3)) for b in night]
    insp, t = warmed(night[:12])  # asserts no frame of a dim camera is flagged
    black = _u8(np.random.default_rng(0).normal(5, 2, (480, 640, 3)))
    assert "dark" in checks(insp, jpeg(black), t + 0.1)
    fresh = CameraInspector(Policy().defaults)  # absolute floor, before any baseline
    assert "dark" in checks(fresh, jpeg(black), 1.0)


def test_exact_near_duplicate_and_frozen() -> None:
    frames = stream("coffee", 30, seed=3)
    insp, t = warmed(frames[:24])
    state = insp.state()
    assert "exact_duplicate" in checks(insp, frames[10], t + 0.1)
    insp = CameraInspector.from_state(state, Policy().defaults)
    old = cv2.imdecode(np.frombuffer(frames[12], np.uint8), cv2.IMREAD_COLOR)
    assert "near_duplicate" in checks(insp, jpeg(old, 70), t + 0.1)
    insp = CameraInspector.from_state(state, Policy().defaults)
    last = cv2.imdecode(np.frombuffer(frames[23], np.uint8), cv2.IMREAD_COLOR)
    found = set()
    for k, q in enumerate((85, 80, 95)):
        found |= checks(insp, jpeg(last, q), t + 0.1 * (k + 1))
    assert "frozen" in found


def test_camera_moved_reported_once_then_new_reference() -> None:
    frames = stream("china", 30, seed=4)
    insp, t = warmed(frames[:24])
    m = np.float32([[1, 0, 70], [0, 1, 30]])
    reports = []
    for k, data in enumerate(frames[24:30]):
        f = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        moved = cv2.warpAffine(f, m, (640, 480), borderMode=cv2.BORDER_REFLECT)
        reports.append("camera_moved" in checks(insp, jpeg(moved), t + 0.1 * (k + 1)))
    assert reports == [True, False, False, False, False, False]


def test_obstructed_and_dropped_frames() -> None:
    frames = stream("astronaut", 26, seed=5)
    insp, t = warmed(frames[:24])
    state = insp.state()
    f = cv2.imdecode(np.frombuffer(frames[24], np.uint8), cv2.IMREAD_COLOR)
    f[:, :400] = (40, 50, 60)
    assert "obstructed" in checks(insp, jpeg(f), t + 0.1)
    insp = CameraInspector.from_state(state, Policy().defaults)
    assert checks(insp, frames[24], t + 0.15) == set()  # jitter is not a drop
    assert "dropped_frames" in checks(insp, frames[25], t + 0.15 + 0.6)


def test_state_round_trip_gives_identical_decisions() -> None:
    rng = np.random.default_rng(11)
    frames = stream("chelsea", 40, seed=6)
    a, t = warmed(frames[:20])
    b = CameraInspector.from_state(json.loads(json.dumps(a.state())), Policy().defaults)
    assert b.state() == a.state()
    tail = list(frames[20:])
    for k in (3, 9, 15):  # some faults in the continuation
        f = cv2.imdecode(np.frombuffer(tail[k], np.uint8), cv2.IMREAD_COLOR)
        tail[k] = jpeg(IMAGE_FAULTS[["dark", "noisy", "blurry"][k % 3]](f, rng))
    for k, data in enumerate(tail):
        img = decode_for_checks(data, max_pixels=MAX)
        ra = a.inspect(img, frame_id=str(k), captured_at=t + 0.1 * (k + 1))
        rb = b.inspect(img, frame_id=str(k), captured_at=t + 0.1 * (k + 1))
        assert ra == rb
    assert len(json.dumps(a.state())) < 20_000


@pytest.mark.parametrize(
    ("distance", "step", "flagged"),
    [
        # Measured on vtest.avi (frame 416, seed 0): a resized copy of the frame 6 back,
        # taken in a quiet spell, so the previous frame is only 3.9x further than the source.
        (0.00094, 0.00362, True),
        # A re-encoded copy while the scene moves: far closer to its source than to anything.
        (0.0010, 0.0350, True),
        # A passer-by back where it was 22 frames ago (the test stream above): as close, in
        # ratio, but 4x further than re-encoding leaves a copy.
        (0.0042, 0.0256, False),
        # A still spell: the previous frame is even closer than the older match.
        (0.0004, 0.0005, False),
    ],
)
def test_near_duplicate_step_rule(distance: float, step: float, flagged: bool) -> None:
    from framegate.detectors.sequence import check_near_history

    p = Policy().defaults
    issue = check_near_history(distance, step, 6, 0.006, "cam:1", p)
    assert (issue is not None) == flagged


def test_near_duplicate_waits_for_enough_matches() -> None:
    # A still photo's first frames can look continuous; the gate opens only after
    # near_duplicate.min_frames baseline frames, by when such a camera shows it has none.
    from framegate.detectors.sequence import repeat_tolerance
    from framegate.detectors.sequence_baseline import RobustBaseline

    p = Policy().defaults
    base = RobustBaseline(("match_distance", "step_distance"), window=64, warmup=8)
    for k in range(p.near_duplicate.min_frames):
        assert repeat_tolerance(base, p) != repeat_tolerance(base, p)  # nan
        base.update({"match_distance": 0.02 + 0.001 * (k % 5), "step_distance": 0.01})
    assert repeat_tolerance(base, p) > 0
