"""Image checks: absolute floors always, the camera's own normal once its baseline is warm."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import cv2
import numpy as np
import pytest

from framegate.detectors import image_checks
from framegate.detectors.image_checks import (
    BASELINE_METRICS,
    IMAGE_CHECKS,
    check_bright,
    check_dark,
    check_exposure_clipped,
    check_grayscale,
    check_low_contrast,
    check_low_information,
    check_noisy,
    check_odd_aspect_ratio,
    check_odd_size,
    run_image_checks,
)
from framegate.detectors.image_metrics import measure
from framegate.detectors.policy import (
    BrightPolicy,
    CameraPolicy,
    DarkPolicy,
    OddSizePolicy,
)
from framegate.detectors.sequence_baseline import RobustBaseline
from framegate.schemas.checks import Check
from framegate.schemas.reports import Issue
from tests.factories import jittered, photo

POLICY = CameraPolicy()
PHOTOS = ["astronaut", "coffee", "chelsea", "rocket"]
Fault = Callable[[np.ndarray, np.random.Generator], np.ndarray]

# A clean frame's metrics (about the astronaut photo's), for checks judged on numbers alone.
CLEAN = {
    "brightness": 0.45,
    "contrast": 0.29,
    "sharpness": 34.0,
    "edge_ratio": 0.45,
    "noise": 1.1,
    "clipped": 0.05,
    "clipped_channels": 0.1,
    "entropy": 4.7,
    "colourfulness": 0.28,
}


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0, 255).astype(np.uint8)


def _grey(bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def _stretch(bgr: np.ndarray, k: float) -> np.ndarray:
    f = bgr.astype(np.float32)
    return _u8((f - f.mean()) * k + f.mean())


def _cold() -> RobustBaseline:
    return RobustBaseline(BASELINE_METRICS)


@cache
def _camera_frames(name: str) -> tuple[dict[str, float], ...]:
    """Metrics of 10 frames of a fixed camera watching ``name`` (seeded, computed once)."""
    return tuple(measure(jittered(photo(name), seed=i)).metrics for i in range(10))


def _camera(name: str) -> RobustBaseline:
    """A fresh baseline of that camera, warm after its 10 frames."""
    base = _cold()
    for metrics in _camera_frames(name):
        base.update(metrics)
    return base


def _steady(seed: int, frames: int = 16, spread: float = 0.02, **usual: float) -> RobustBaseline:
    """A warm baseline whose frames scatter by ``spread`` (relative) around ``usual``."""
    rng = np.random.default_rng(seed)
    centre = CLEAN | usual
    base = _cold()
    for _ in range(frames):
        base.update({k: v * (1 + rng.normal(0, spread)) for k, v in centre.items()})
    return base


def _fired(m, base, policy=POLICY) -> set[Check]:
    return {issue.check for issue in run_image_checks(m, base, policy)}


# --- the registry ----------------------------------------------------------------------------


def test_registry_holds_every_metric_check_once_in_a_stable_order() -> None:
    assert list(IMAGE_CHECKS) == [
        Check.DARK,
        Check.BRIGHT,
        Check.LOW_CONTRAST,
        Check.BLURRY,
        Check.NOISY,
        Check.LOW_INFORMATION,
        Check.GRAYSCALE,
        Check.EXPOSURE_CLIPPED,
    ]


def test_registering_a_check_twice_is_refused() -> None:
    before = dict(IMAGE_CHECKS)
    with pytest.raises(ValueError, match="dark"):
        image_checks._register(Check.DARK, check_bright)
    assert before == IMAGE_CHECKS


def test_baseline_metrics_are_all_measured() -> None:
    assert set(BASELINE_METRICS) <= set(measure(photo()).metrics)


def test_issues_come_out_in_registry_order() -> None:
    m = CLEAN | {"brightness": 0.01, "contrast": 0.005, "colourfulness": 0.0, "entropy": 0.2}
    checks = [issue.check for issue in run_image_checks(m, _cold(), POLICY)]
    order = list(IMAGE_CHECKS)
    assert checks == sorted(checks, key=order.index)
    assert {Check.DARK, Check.LOW_CONTRAST, Check.GRAYSCALE, Check.LOW_INFORMATION} <= set(checks)


# --- real photos: clean frames pass, faults are flagged --------------------------------------


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_clean_photos_pass_on_a_cold_and_on_a_warm_baseline(name: str) -> None:
    frame = measure(jittered(photo(name), seed=99)).metrics
    assert run_image_checks(frame, _cold(), POLICY) == []
    assert run_image_checks(frame, _camera(name), POLICY) == []


STRONG: dict[Check, Fault] = {
    Check.DARK: lambda f, r: _u8(f * 0.08),
    Check.BRIGHT: lambda f, r: _u8(255 - (255 - f.astype(np.float32)) * 0.05),
    Check.LOW_CONTRAST: lambda f, r: _u8(f * 0.1 + 120),
    Check.BLURRY: lambda f, r: cv2.GaussianBlur(f, (0, 0), 8),
    Check.NOISY: lambda f, r: _u8(f + r.normal(0, 30, f.shape)),
    Check.LOW_INFORMATION: lambda f, r: _u8(120 + r.normal(0, 2, f.shape)),
    Check.GRAYSCALE: lambda f, r: _grey(f),
    Check.EXPOSURE_CLIPPED: lambda f, r: _stretch(f, 5),
}


@pytest.mark.parametrize("name", PHOTOS, ids=str)
@pytest.mark.parametrize("check", list(STRONG), ids=str)
def test_strong_fault_is_flagged_even_before_the_camera_has_a_baseline(check, name) -> None:
    rng = np.random.default_rng(1)
    frame = measure(STRONG[check](photo(name), rng)).metrics
    issue = IMAGE_CHECKS[check](frame, _cold(), POLICY)
    assert issue is not None and issue.check == check
    assert "warming up" in issue.detail


MODERATE: dict[Check, Fault] = {
    Check.DARK: lambda f, r: _u8(f * 0.35),
    Check.BRIGHT: lambda f, r: _u8(255 - (255 - f.astype(np.float32)) * 0.3),
    Check.LOW_CONTRAST: lambda f, r: _u8(f * 0.35 + 100),
    Check.BLURRY: lambda f, r: cv2.GaussianBlur(f, (0, 0), 2.5),
    Check.NOISY: lambda f, r: _u8(f + r.normal(0, 12, f.shape)),
    Check.GRAYSCALE: lambda f, r: cv2.addWeighted(f, 0.1, _grey(f), 0.9, 0),
}


@pytest.mark.parametrize("name", PHOTOS, ids=str)
@pytest.mark.parametrize("check", list(MODERATE), ids=str)
def test_moderate_fault_is_flagged_against_the_cameras_own_normal_only(check, name) -> None:
    rng = np.random.default_rng(2)
    frame = measure(MODERATE[check](photo(name), rng)).metrics
    assert IMAGE_CHECKS[check](frame, _cold(), POLICY) is None
    issue = IMAGE_CHECKS[check](frame, _camera(name), POLICY)
    assert issue is not None and issue.check == check
    assert "camera median" in issue.detail and "over 10 frames" in issue.detail


@pytest.mark.parametrize("check", list(STRONG), ids=str)
def test_issues_are_well_formed(check: Check) -> None:
    rng = np.random.default_rng(3)
    issue = IMAGE_CHECKS[check](measure(STRONG[check](photo(), rng)).metrics, _cold(), POLICY)
    assert isinstance(issue, Issue)
    assert 0.5 <= issue.score <= 1.0
    assert issue.threshold == 0.5
    policy = getattr(POLICY, check.value)
    critical = policy.critical_at is not None and issue.score >= policy.critical_at
    assert issue.severity == ("critical" if critical else policy.severity)
    assert issue.detail


# --- limits on numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("brightness", "flagged"),
    [(0.0, True), (0.02, True), (0.049, True), (0.051, False), (0.3, False)],
    ids=["black", "very-dark", "just-under-floor", "just-above", "dim"],
)
def test_dark_floor_is_inclusive_and_applies_without_a_baseline(brightness, flagged) -> None:
    issue = check_dark(CLEAN | {"brightness": brightness}, _cold(), POLICY)
    assert (issue is not None) == flagged
    if brightness == 0.0:
        assert issue.score == 1.0 and issue.severity == "critical"


def test_darker_frames_score_higher() -> None:
    scores = [
        check_dark(CLEAN | {"brightness": b}, _cold(), POLICY).score for b in (0.04, 0.02, 0.005)
    ]
    assert scores == sorted(scores) and len(set(scores)) == 3


def test_dark_relative_to_a_bright_camera_but_not_to_a_night_camera() -> None:
    day = _steady(seed=1, brightness=0.5)
    night = _steady(seed=2, brightness=0.15)
    frame = CLEAN | {"brightness": 0.15}
    assert check_dark(frame, day, POLICY) is not None
    assert check_dark(frame, night, POLICY) is None
    assert check_dark(CLEAN | {"brightness": 0.06}, night, POLICY) is not None  # 0.4 x usual


def test_always_dark_camera_is_flagged_even_when_warm() -> None:
    always = _steady(seed=3, brightness=0.03)
    issue = check_dark(CLEAN | {"brightness": 0.03}, always, POLICY)
    assert issue is not None and "floor 0.05" in issue.detail


def test_a_camera_whose_brightness_varies_gets_a_wider_limit() -> None:
    frame = CLEAN | {"brightness": 0.25}
    assert check_dark(frame, _steady(seed=4, brightness=0.5, spread=0.01), POLICY) is not None
    assert check_dark(frame, _steady(seed=4, brightness=0.5, spread=0.4), POLICY) is None


@pytest.mark.parametrize(
    ("brightness", "flagged"),
    [(0.9, False), (0.93, True), (0.99, True)],
    ids=["under-ceiling", "over-ceiling", "white"],
)
def test_bright_ceiling_without_a_baseline(brightness: float, flagged: bool) -> None:
    assert (
        check_bright(CLEAN | {"brightness": brightness}, _cold(), POLICY) is not None
    ) == flagged


def test_bright_relative_to_the_camera() -> None:
    dim = _steady(seed=5, brightness=0.3)
    assert check_bright(CLEAN | {"brightness": 0.8}, dim, POLICY) is not None
    assert check_bright(CLEAN | {"brightness": 0.8}, _cold(), POLICY) is None
    assert check_bright(CLEAN | {"brightness": 0.35}, dim, POLICY) is None


def test_bright_ceiling_holds_even_for_a_camera_that_is_always_bright() -> None:
    glare = _steady(seed=6, brightness=0.95, spread=0.005)
    assert check_bright(CLEAN | {"brightness": 0.95}, glare, POLICY) is not None


def test_bright_relative_limit_needs_the_frame_above_rise_min() -> None:
    policy = CameraPolicy(bright=BrightPolicy(headroom=0.95))  # relative limit near 0.2 at 0.15
    dim = _steady(seed=7, brightness=0.15, spread=0.01)
    assert check_bright(CLEAN | {"brightness": 0.5}, dim, policy) is None  # under 0.55
    assert check_bright(CLEAN | {"brightness": 0.6}, dim, policy) is not None


def test_low_contrast_floor_and_relative_limit() -> None:
    assert check_low_contrast(CLEAN | {"contrast": 0.03}, _cold(), POLICY) is not None
    assert check_low_contrast(CLEAN | {"contrast": 0.1}, _cold(), POLICY) is None
    crisp = _steady(seed=8, contrast=0.3)
    assert check_low_contrast(CLEAN | {"contrast": 0.1}, crisp, POLICY) is not None


def test_noisy_floor_caps_the_relative_limit() -> None:
    grainy = _steady(seed=9, noise=8.0)  # a camera whose usual noise is over the floor
    assert check_noisy(CLEAN | {"noise": 7.0}, grainy, POLICY) is not None
    quiet = _steady(seed=10, noise=1.0)
    assert check_noisy(CLEAN | {"noise": 2.5}, quiet, POLICY) is not None
    assert check_noisy(CLEAN | {"noise": 2.5}, _cold(), POLICY) is None
    assert check_noisy(CLEAN | {"noise": 1.2}, quiet, POLICY) is None


def test_low_information_floor_and_drop_from_the_camera() -> None:
    assert check_low_information(CLEAN | {"entropy": 1.0}, _cold(), POLICY) is not None
    assert check_low_information(CLEAN | {"entropy": 0.0}, _cold(), POLICY).score == 1.0
    rich = _steady(seed=11, entropy=4.7)
    assert check_low_information(CLEAN | {"entropy": 2.5}, rich, POLICY) is not None
    assert check_low_information(CLEAN | {"entropy": 2.5}, _cold(), POLICY) is None
    assert check_low_information(CLEAN | {"entropy": 3.0}, rich, POLICY) is None


def test_grayscale_relative_to_a_colourful_camera() -> None:
    colourful = _steady(seed=12, colourfulness=0.3)
    frame = CLEAN | {"colourfulness": 0.05}  # over the absolute 0.012
    assert check_grayscale(frame, _cold(), POLICY) is None
    issue = check_grayscale(frame, colourful, POLICY)
    assert issue is not None and issue.severity == "info"


def test_grey_camera_is_not_flagged_for_being_grey_but_a_cold_one_is() -> None:
    # A night or IR camera sends grey pictures: that is its normal, not a fault.
    grey = _steady(seed=13, colourfulness=0.005)
    assert check_grayscale(CLEAN | {"colourfulness": 0.005}, grey, POLICY) is None
    issue = check_grayscale(CLEAN | {"colourfulness": 0.005}, _cold(), POLICY)
    assert issue is not None and "absolute 0.012" in issue.detail


@pytest.mark.parametrize("name", ["astronaut", "coffee"], ids=str)
def test_grey_frame_is_reported_at_the_grayscale_severity(name: str) -> None:
    frame = measure(_grey(photo(name))).metrics
    issue = check_grayscale(frame, _cold(), POLICY)
    assert issue is not None
    assert issue.severity == POLICY.grayscale.severity == "info"


def test_exposure_clipped_grey_levels_and_channels() -> None:
    grey_clip = check_exposure_clipped(CLEAN | {"clipped": 0.4}, _cold(), POLICY)
    assert grey_clip is not None and "clipped to black or white" in grey_clip.detail
    assert "colour channel" not in grey_clip.detail
    channel_clip = check_exposure_clipped(CLEAN | {"clipped_channels": 0.9}, _cold(), POLICY)
    assert channel_clip is not None and "colour channel" in channel_clip.detail
    assert check_exposure_clipped(CLEAN, _cold(), POLICY) is None


def test_exposure_clipped_relative_to_a_camera_that_rarely_clips() -> None:
    clean_camera = _steady(seed=14, clipped=0.01, clipped_channels=0.02)
    frame = CLEAN | {"clipped": 0.15, "clipped_channels": 0.1}
    assert check_exposure_clipped(frame, _cold(), POLICY) is None
    assert check_exposure_clipped(frame, clean_camera, POLICY) is not None


def test_exposure_clipped_camera_that_always_clips_is_judged_by_the_floor() -> None:
    snowy = _steady(seed=15, clipped=0.25, clipped_channels=0.3)
    assert check_exposure_clipped(CLEAN | {"clipped": 0.29}, snowy, POLICY) is None
    assert check_exposure_clipped(CLEAN | {"clipped": 0.31}, snowy, POLICY) is not None


def test_disabled_check_never_fires() -> None:
    off = CameraPolicy(dark=DarkPolicy(enabled=False))
    assert check_dark(CLEAN | {"brightness": 0.0}, _cold(), off) is None
    assert Check.DARK not in _fired(CLEAN | {"brightness": 0.0}, _cold(), off)


def test_flag_at_moves_the_flagging_point() -> None:
    strict = CameraPolicy(dark=DarkPolicy(flag_at=0.4))  # flags from 0.8 x the limit
    frame = CLEAN | {"brightness": 0.06}  # 0.83 x the floor's ratio
    assert check_dark(frame, _cold(), POLICY) is None
    issue = check_dark(frame, _cold(), strict)
    assert issue is not None and issue.threshold == 0.4


# --- frame geometry --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "flagged"),
    [(640, 480, False), (1920, 1080, False), (249, 100, False), (251, 100, True), (500, 100, True)],
    ids=["4:3", "16:9", "just-under", "just-over", "5:1"],
)
def test_odd_aspect_ratio(width: int, height: int, flagged: bool) -> None:
    issue = check_odd_aspect_ratio(width, height, POLICY)
    assert (issue is not None) == flagged
    portrait = check_odd_aspect_ratio(height, width, POLICY)
    assert (portrait.score if portrait else None) == (issue.score if issue else None)


def test_thinner_frames_score_higher() -> None:
    a = check_odd_aspect_ratio(300, 100, POLICY).score
    b = check_odd_aspect_ratio(1000, 100, POLICY).score
    assert b > a


@pytest.mark.parametrize(
    ("width", "height", "flagged"),
    [(640, 480, False), (128, 97, False), (128, 95, True), (80, 60, True), (0, 0, True)],
    ids=["vga", "one-over", "one-under", "thumbnail", "empty"],
)
def test_odd_size_minimum_side(width: int, height: int, flagged: bool) -> None:
    assert (check_odd_size(width, height, None, POLICY) is not None) == flagged


def test_odd_size_accepts_a_side_of_exactly_min_side() -> None:
    assert check_odd_size(128, 96, None, POLICY) is None


def test_odd_aspect_ratio_accepts_exactly_max_ratio() -> None:
    assert check_odd_aspect_ratio(250, 100, POLICY) is None


def test_odd_size_flags_a_size_change_and_scores_bigger_changes_higher() -> None:
    assert check_odd_size(640, 480, (640, 480), POLICY) is None
    small = check_odd_size(800, 600, (640, 480), POLICY)
    big = check_odd_size(1920, 1080, (640, 480), POLICY)
    assert small is not None and big is not None
    assert "usual 640x480" in small.detail
    assert big.score > small.score


def test_odd_size_change_can_be_turned_off() -> None:
    policy = CameraPolicy(odd_size=OddSizePolicy(size_change=False))
    assert check_odd_size(800, 600, (640, 480), policy) is None
    assert check_odd_size(80, 60, (640, 480), policy) is not None
