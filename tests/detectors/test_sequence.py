"""Sequence checks: one camera's frame against its previous frames and its usual view."""

from __future__ import annotations

import math
from functools import cache

import cv2
import numpy as np
import pytest

from framegate.detectors.image_metrics import FrameMeasures, measure
from framegate.detectors.policy import CameraPolicy, DroppedFramesPolicy
from framegate.detectors.sequence import (
    SEQUENCE_METRICS,
    change,
    check_dropped,
    check_moved,
    check_obstructed,
    check_repeat,
    is_still,
    obstructed_fraction,
    still_limit,
    texture_kept,
    view_match,
)
from framegate.detectors.sequence_baseline import RobustBaseline
from framegate.schemas.checks import Check
from tests.factories import jittered, jpeg, photo

POLICY = CameraPolicy()
PHOTOS = ["astronaut", "coffee", "chelsea", "rocket"]


@cache
def _measured(name: str, seed: int = -1) -> FrameMeasures:
    """Measures of ``name`` (seed -1) or of its jittered copy (the scene a moment later)."""
    bgr = photo(name)
    return measure(bgr if seed < 0 else jittered(bgr, seed))


def _shifted(name: str, dx: int) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, 0]])
    return cv2.warpAffine(photo(name), m, (640, 480), borderMode=cv2.BORDER_REFLECT)


# An ordinary fixed camera at 5 frames/s: what its sequence metrics (and, at its view, how
# well frames match the view) usually are.
USUAL = {
    "change": 2.0,
    "change_peak": 20.0,
    "interval": 0.2,
    "view_match": 0.9,
    "view_shift": 0.002,
}
NAMES = (*SEQUENCE_METRICS, "view_match", "view_shift")
assert set(USUAL) == set(NAMES)


def _baseline(seed: int, frames: int = 24, spread: float = 0.05, **usual: float) -> RobustBaseline:
    """A warm baseline of sequence metrics scattering by ``spread`` (relative) around ``usual``."""
    rng = np.random.default_rng(seed)
    centre = USUAL | usual
    base = RobustBaseline(NAMES)
    for _ in range(frames):
        base.update({k: v * (1 + rng.normal(0, spread)) for k, v in centre.items()})
    return base


def _cold() -> RobustBaseline:
    return RobustBaseline(NAMES)


# --- change ----------------------------------------------------------------------------------


def test_change_of_identical_thumbnails_is_zero() -> None:
    thumb = _measured("coffee").thumb
    assert change(thumb, thumb.copy()) == (0.0, 0.0)


def test_change_is_mean_and_largest_absolute_difference() -> None:
    rng = np.random.default_rng(0)
    thumb = rng.integers(20, 200, (36, 48), dtype=np.uint8)
    brighter = thumb + np.uint8(5)
    assert change(brighter, thumb) == (5.0, 5.0)
    assert change(thumb, brighter) == (5.0, 5.0)  # symmetric
    spot = thumb.copy()
    spot[10, 10] -= 18
    assert change(spot, thumb) == pytest.approx((18 / thumb.size, 18.0))


def test_scene_a_moment_later_changes_little_and_another_scene_much() -> None:
    a = _measured("astronaut").thumb
    delta, peak = change(_measured("astronaut", seed=1).thumb, a)
    other, _ = change(_measured("rocket").thumb, a)
    assert delta < 1.0 and peak <= 5
    assert other > 30 * delta


# --- still / frozen --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usual", "limit"),
    [(None, 0.05), (1.0, 0.12), (100.0, 0.6), (0.01, 0.02)],
    ids=["cold", "fraction-of-usual", "capped", "compression-floor"],
)
def test_still_limit(usual: float | None, limit: float) -> None:
    base = _cold() if usual is None else _baseline(seed=1, spread=0.0, change=usual)
    assert still_limit(base, POLICY) == pytest.approx(limit)


def test_still_below_the_limit_or_with_no_visible_pixel_change() -> None:
    lively = _baseline(seed=2, change=2.0, change_peak=20.0)  # limit 0.24
    assert is_still(0.1, 30.0, lively, POLICY)
    assert is_still(0.5, 1.0, lively, POLICY)  # re-encoded copy: every pixel within 1 level
    assert not is_still(0.5, 2.0, lively, POLICY)


def test_peak_rule_needs_a_camera_whose_frames_usually_change_visibly() -> None:
    dull = _baseline(seed=3, change=2.0, change_peak=2.0)
    assert not is_still(0.5, 1.0, dull, POLICY)
    assert not is_still(0.5, 1.0, _cold(), POLICY)
    assert is_still(0.04, 1.0, _cold(), POLICY)


def test_reencoded_previous_frame_is_still_and_the_next_moment_is_not() -> None:
    name = "chelsea"
    frames = [_measured(name, seed=s) for s in range(11)]
    base = RobustBaseline(SEQUENCE_METRICS)
    for prev, cur in zip(frames, frames[1:], strict=False):
        delta, peak = change(cur.thumb, prev.thumb)
        base.update(USUAL | {"change": delta, "change_peak": peak})
    previous = frames[-1]
    again = measure(cv2.imdecode(np.frombuffer(jpeg(jittered(photo(name), 10), 90), np.uint8), 1))
    assert is_still(*change(again.thumb, previous.thumb), base, POLICY)
    later = _measured(name, seed=123)
    assert not is_still(*change(later.thumb, previous.thumb), base, POLICY)


@pytest.mark.parametrize(
    ("still_run", "fired"), [(0, False), (1, True), (5, True)], ids=["2-frames", "3", "7"]
)
def test_frozen_after_run_frames_in_a_row(still_run: int, fired: bool) -> None:
    base = _baseline(seed=4, change=2.0, change_peak=20.0)
    issue = check_repeat(0.01, 0.0, still_run, base, POLICY)
    assert (issue is not None) == fired
    if fired:
        assert issue.check == Check.FROZEN and issue.severity == "critical"
        assert f"{still_run + 2} consecutive frames" in issue.detail


def test_frozen_on_a_cold_camera_and_with_zero_change() -> None:
    issue = check_repeat(0.0, 0.0, 3, _cold(), POLICY)
    assert issue is not None and issue.score >= 0.95
    assert "5 consecutive frames" in issue.detail


# --- dropped frames --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "fired"),
    [(0.2, False), (0.45, False), (0.6, True), (2.0, True)],
    ids=["usual", "late", "two-missing", "nine-missing"],
)
def test_dropped_frames_at_the_usual_rate(interval: float, fired: bool) -> None:
    base = _baseline(seed=8, spread=0.01, interval=0.2)
    issue = check_dropped(interval, base, POLICY)
    assert (issue is not None) == fired
    if interval == 2.0:
        assert "about 9 frames missing" in issue.detail


@pytest.mark.parametrize("interval", [0.0, -1.0], ids=["same-time", "backwards"])
def test_no_gap_is_never_a_drop(interval: float) -> None:
    assert check_dropped(interval, _baseline(seed=9, interval=0.2), POLICY) is None


def test_no_drops_before_the_usual_interval_is_known() -> None:
    assert check_dropped(100.0, _cold(), POLICY) is None


def test_min_gap_and_irregular_cameras_widen_the_limit() -> None:
    regular = _baseline(seed=10, spread=0.01, interval=0.2)
    assert check_dropped(1.0, regular, POLICY) is not None
    relaxed = CameraPolicy(dropped_frames=DroppedFramesPolicy(min_gap=2.0))
    assert check_dropped(1.0, regular, relaxed) is None
    irregular = RobustBaseline(SEQUENCE_METRICS)
    for i in range(24):
        irregular.update(USUAL | {"interval": (0.1, 0.2, 0.4)[i % 3]})  # median 0.2, MAD 0.1
    assert check_dropped(1.0, irregular, POLICY) is None
    assert check_dropped(1.2, irregular, POLICY) is not None


# --- the view: camera moved ------------------------------------------------------------------


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_view_matches_itself_and_the_same_scene_a_moment_later(name: str) -> None:
    ref = _measured(name).thumb
    shift, match, peak = view_match(ref, ref)
    assert shift == pytest.approx(0.0, abs=1e-6) and match == pytest.approx(1.0)
    shift, match, peak = view_match(_measured(name, seed=1).thumb, ref)
    assert shift < 0.005 and match > 0.99 and peak > 0.9


@pytest.mark.parametrize("name", PHOTOS, ids=str)
@pytest.mark.parametrize("dx", [10, 32, 64], ids=lambda d: f"dx-{d}px")
def test_view_shift_measures_the_translation(name: str, dx: int) -> None:
    ref = _measured(name).thumb
    shift, match, peak = view_match(measure(_shifted(name, dx)).thumb, ref)
    assert shift == pytest.approx(dx / 640, rel=0.2, abs=0.005)
    assert match < 0.85 and peak > 0.5  # the picture moved as one


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_another_scene_does_not_match_the_reference(name: str) -> None:
    ref = _measured(name).thumb
    for other in PHOTOS:
        if other != name:
            _, match, _ = view_match(_measured(other).thumb, ref)
            assert match < 0.3


def test_camera_moved_by_the_shift_of_a_real_view() -> None:
    ref = _measured("coffee").thumb
    shift, match, response = view_match(measure(_shifted("coffee", 64)).thumb, ref)
    issue = check_moved(shift, match, response, False, False, _cold(), POLICY)
    assert issue is not None and issue.check == Check.CAMERA_MOVED
    assert issue.severity == "critical" and "new reference" in issue.detail
    same = view_match(_measured("coffee", seed=2).thumb, ref)
    assert check_moved(*same, False, False, _cold(), POLICY) is None


@pytest.mark.parametrize(
    ("shift", "match", "response", "scene_bad", "content_lost", "fired"),
    [
        (0.2, 0.9, 0.5, False, False, True),
        (0.2, 0.9, 0.5, True, False, True),  # shift judged on a blurred frame too
        (0.2, 0.9, 0.5, True, True, False),  # but not on one without content
        (0.2, 0.9, 0.01, False, False, False),  # shift not trusted at a weak response
        (0.0, 0.1, 0.5, False, False, True),  # the view no longer matches
        (0.0, 0.1, 0.5, True, False, False),  # not judged on a bad frame
        (0.0, -0.3, 0.5, False, False, True),
        (0.01, 0.9, 0.9, False, False, False),
    ],
    ids=[
        "shifted",
        "shifted-bad-scene",
        "shifted-content-lost",
        "weak-response",
        "mismatch",
        "mismatch-bad-scene",
        "anti-correlated",
        "steady",
    ],
)
def test_camera_moved_rules(shift, match, response, scene_bad, content_lost, fired) -> None:
    issue = check_moved(shift, match, response, scene_bad, content_lost, _cold(), POLICY)
    assert (issue is not None) == fired


def test_camera_that_usually_shakes_gets_a_wider_shift_limit() -> None:
    shaky = _baseline(seed=11, spread=0.3, view_shift=0.06, view_match=0.8)
    assert check_moved(0.08, 0.8, 0.5, False, False, _cold(), POLICY) is not None
    assert check_moved(0.08, 0.8, 0.5, False, False, shaky, POLICY) is None


def test_busy_view_gets_a_lower_match_limit_but_never_below_005() -> None:
    busy = _baseline(seed=12, spread=0.5, view_shift=0.001, view_match=0.3)
    assert check_moved(0.0, 0.2, 0.5, False, False, _cold(), POLICY) is not None
    assert check_moved(0.0, 0.2, 0.5, False, False, busy, POLICY) is None
    assert check_moved(0.0, 0.04, 0.5, False, False, busy, POLICY) is not None


# --- the view: obstructed --------------------------------------------------------------------


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_half_covered_view_is_obstructed(name: str) -> None:
    ref = _measured(name).cells
    covered = photo(name).copy()
    covered[:, :320] = (90, 90, 90)
    fraction = obstructed_fraction(measure(covered).cells, ref, POLICY)
    assert 0.4 <= fraction <= 0.7
    issue = check_obstructed(fraction, POLICY)
    assert issue is not None and issue.check == Check.OBSTRUCTED


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_a_cover_leaves_the_rest_of_the_view_its_texture_and_blur_or_darkness_do_not(
    name: str,
) -> None:
    ref = _measured(name).cells
    covered = photo(name).copy()
    covered[:, :320] = (90, 90, 90)
    assert texture_kept(measure(covered).cells, ref, POLICY) >= 0.3
    blurred = cv2.GaussianBlur(photo(name), (0, 0), 4.0)
    dark = (photo(name) * 0.1).astype(np.uint8)
    for whole in (blurred, dark):
        cells = measure(whole).cells
        assert obstructed_fraction(cells, ref, POLICY) > POLICY.obstructed.fraction
        assert texture_kept(cells, ref, POLICY) < POLICY.obstructed.min_kept


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_same_view_a_moment_later_is_not_obstructed(name: str) -> None:
    fraction = obstructed_fraction(_measured(name, seed=2).cells, _measured(name).cells, POLICY)
    assert fraction == 0.0
    assert check_obstructed(fraction, POLICY) is None


def test_obstructed_fraction_counts_only_textured_reference_cells() -> None:
    ref = np.zeros((6, 8), np.float32)
    ref[:2] = 10.0  # 16 textured cells, the rest flat
    cells = ref.copy()
    cells[0, :4] = 1.0  # 4 of the textured cells lose texture (under 0.3 x 10)
    cells[3:, :] = 0.0  # flat cells staying flat do not count
    assert obstructed_fraction(cells, ref, POLICY) == pytest.approx(4 / 16)
    cells[0, 4] = 3.5  # above 0.3 x reference: kept its texture
    assert obstructed_fraction(cells, ref, POLICY) == pytest.approx(4 / 16)


def test_obstruction_is_unknown_on_a_view_with_too_little_texture() -> None:
    ref = np.zeros((6, 8), np.float32)
    ref[0, :5] = 10.0
    fraction = obstructed_fraction(np.zeros_like(ref), ref, POLICY)
    assert math.isnan(fraction)
    assert check_obstructed(fraction, POLICY) is None


@pytest.mark.parametrize(
    ("fraction", "fired"),
    [(0.1, False), (0.24, False), (0.26, True), (1.0, True)],
    ids=["tenth", "just-under", "just-over", "all"],
)
def test_obstructed_limit(fraction: float, fired: bool) -> None:
    assert (check_obstructed(fraction, POLICY) is not None) == fired
