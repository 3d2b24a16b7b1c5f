"""Measuring a frame once: every metric moves the right way when the picture degrades."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from framegate.detectors.decode import decode_image
from framegate.detectors.image_metrics import (
    ANALYSIS_MAX_SIDE,
    DESCRIPTOR_LEN,
    GRID,
    THUMB_SIZE,
    analysis_image,
    clipped_channels,
    colourfulness,
    entropy_bits,
    measure,
    noise_sigma,
)
from tests.factories import jittered, jpeg, photo

PHOTOS = ["astronaut", "coffee", "chelsea", "rocket"]
METRICS = {
    "brightness",
    "contrast",
    "sharpness",
    "edge_ratio",
    "detail",
    "noise",
    "fine_noise",
    "shadows",
    "highlights",
    "clipped",
    "clipped_channels",
    "entropy",
    "colourfulness",
}


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0, 255).astype(np.uint8)


def _grey(bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def _flat(value: tuple[int, int, int], shape: tuple[int, int] = (120, 160)) -> np.ndarray:
    img = np.empty((*shape, 3), np.uint8)
    img[:] = value
    return img


# --- analysis_image --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((640, 480), (320, 240)),
        ((480, 640), (240, 320)),
        ((1920, 1080), (320, 180)),
        ((4000, 100), (320, 8)),
        ((400, 300), (400, 300)),
        ((320, 240), (320, 240)),
        ((64, 48), (64, 48)),
    ],
    ids=["vga", "portrait", "1080p", "strip", "within-slack", "exact", "tiny"],
)
def test_analysis_image_bounds_the_long_side(size, expected) -> None:
    bgr = np.zeros((size[1], size[0], 3), np.uint8)
    small = analysis_image(bgr)
    assert (small.shape[1], small.shape[0]) == expected
    if expected == size:
        assert small is bgr  # no copy when no scaling is needed
    else:
        assert max(small.shape[:2]) == ANALYSIS_MAX_SIDE


def test_half_size_jpeg_decode_is_exactly_the_analysis_size() -> None:
    decoded = decode_image(jpeg(photo()), max_pixels=10**8, reduce=2)
    assert analysis_image(decoded.bgr) is decoded.bgr
    assert max(decoded.bgr.shape[:2]) == ANALYSIS_MAX_SIDE


# --- measure: shape of the result ------------------------------------------------------------


def test_measure_returns_every_documented_metric_and_array() -> None:
    m = measure(photo("astronaut"))
    assert set(m.metrics) == METRICS
    assert all(isinstance(v, float) and math.isfinite(v) for v in m.metrics.values())
    assert m.thumb.shape == (THUMB_SIZE[1], THUMB_SIZE[0]) and m.thumb.dtype == np.uint8
    assert m.cells.shape == (GRID[1], GRID[0]) and m.cells.dtype == np.float32
    assert m.hash_bits.shape == (256,) and m.hash_bits.dtype == bool
    assert m.descriptor.shape == (DESCRIPTOR_LEN,) and m.descriptor.dtype == np.float32
    assert np.linalg.norm(m.descriptor) == pytest.approx(1.0, abs=1e-5)
    assert isinstance(m.digest, bytes) and len(m.digest) == 8


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_metrics_of_real_photos_lie_in_their_documented_ranges(name: str) -> None:
    v = measure(photo(name)).metrics
    for unit in ("brightness", "contrast", "clipped", "clipped_channels"):
        assert 0.0 <= v[unit] <= 1.0
    assert 0.0 < v["entropy"] <= 5.0
    assert 0.05 < v["colourfulness"] < 1.0
    assert v["sharpness"] > 0 and v["noise"] > 0
    assert v["clipped"] <= v["clipped_channels"]  # a grey level at 0-3 needs a channel there


@pytest.mark.parametrize(
    "pixels",
    [
        np.zeros((48, 64), np.uint8),
        np.zeros((48, 64, 4), np.uint8),
        np.zeros((48, 64, 3), np.float32),
        np.zeros((48, 64, 3), np.uint16),
    ],
    ids=["grey-2d", "bgra", "float32", "uint16"],
)
def test_measure_accepts_only_uint8_bgr(pixels: np.ndarray) -> None:
    with pytest.raises(ValueError, match="uint8 HxWx3"):
        measure(pixels)


@pytest.mark.parametrize("name", ["astronaut", "coffee", "rocket"], ids=str)
def test_metrics_do_not_depend_on_the_camera_resolution(name: str) -> None:
    high = photo(name, (1280, 960))
    low = cv2.resize(high, (640, 480), interpolation=cv2.INTER_AREA)
    a, b = measure(high).metrics, measure(low).metrics
    for key in METRICS:
        assert a[key] == pytest.approx(b[key], rel=0.05, abs=0.01), key


# --- measure: each metric moves the right way ------------------------------------------------


@pytest.mark.parametrize("name", PHOTOS, ids=str)
@pytest.mark.parametrize("gain", [0.25, 0.5, 0.8], ids=lambda g: f"gain-{g}")
def test_darkened_photo_measures_darker_in_proportion(name: str, gain: float) -> None:
    bgr = photo(name)
    before, after = measure(bgr).metrics, measure(_u8(bgr * np.float32(gain))).metrics
    assert after["brightness"] == pytest.approx(gain * before["brightness"], rel=0.03)
    assert after["contrast"] == pytest.approx(gain * before["contrast"], rel=0.05)
    assert after["sharpness"] < before["sharpness"]
    # edge_ratio is contrast-free: a darker picture is not a blurrier one
    assert after["edge_ratio"] == pytest.approx(before["edge_ratio"], rel=0.15)


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_brightened_photo_measures_brighter(name: str) -> None:
    bgr = photo(name)
    lifted = _u8(255 - (255 - bgr.astype(np.float32)) * 0.3)
    assert measure(lifted).metrics["brightness"] > measure(bgr).metrics["brightness"] + 0.2


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_blur_lowers_sharpness_and_edge_ratio_step_by_step(name: str) -> None:
    bgr = photo(name)
    sigmas = [0.0, 1.0, 2.0, 4.0]
    ms = [measure(cv2.GaussianBlur(bgr, (0, 0), s) if s else bgr).metrics for s in sigmas]
    for blurrier, sharper in zip(ms[1:], ms[:-1], strict=True):
        assert blurrier["sharpness"] < sharper["sharpness"]
        assert blurrier["edge_ratio"] < sharper["edge_ratio"]
    assert ms[-1]["edge_ratio"] < 0.5 * ms[0]["edge_ratio"]
    assert ms[-1]["brightness"] == pytest.approx(ms[0]["brightness"], abs=0.01)


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_washed_out_photo_has_less_contrast_and_information(name: str) -> None:
    bgr = photo(name)
    before = measure(bgr).metrics
    after = measure(_u8(bgr * np.float32(0.2) + 150)).metrics
    assert after["contrast"] == pytest.approx(0.2 * before["contrast"], rel=0.1)
    assert after["entropy"] < before["entropy"] - 1.0


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_added_noise_raises_the_noise_estimate_but_not_the_brightness(name: str) -> None:
    rng = np.random.default_rng(11)
    bgr = photo(name)
    levels = [measure(_u8(bgr + rng.normal(0, s, bgr.shape))).metrics for s in (0, 8, 16)]
    assert levels[0]["noise"] < levels[1]["noise"] < levels[2]["noise"]
    assert levels[2]["noise"] > 2 * levels[0]["noise"]
    assert levels[2]["brightness"] == pytest.approx(levels[0]["brightness"], abs=0.02)


@pytest.mark.parametrize("sigma", [2.0, 5.0, 10.0, 20.0], ids=lambda s: f"sigma-{s:g}")
def test_noise_sigma_recovers_the_noise_of_a_flat_field(sigma: float) -> None:
    rng = np.random.default_rng(int(sigma))
    flat = _u8(128 + rng.normal(0, sigma, (240, 320)))
    assert noise_sigma(flat) == pytest.approx(sigma, rel=0.1)


def test_noise_sigma_ignores_edges_and_texture() -> None:
    rng = np.random.default_rng(4)
    grey = cv2.cvtColor(photo("astronaut", (320, 240)), cv2.COLOR_BGR2GRAY)
    clean = noise_sigma(grey)
    noisy = noise_sigma(_u8(grey + rng.normal(0, 6, grey.shape)))
    assert clean < 2.0  # a detailed photo is not "noisy"
    assert noisy == pytest.approx(6.0, rel=0.25)


def test_flat_field_has_no_noise_to_speak_of() -> None:
    assert noise_sigma(np.full((60, 80), 90, np.uint8)) < 0.25


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_grey_pixels_have_no_colourfulness(name: str) -> None:
    bgr = photo(name)
    assert measure(_grey(bgr)).metrics["colourfulness"] == 0.0
    half = cv2.addWeighted(bgr, 0.5, _grey(bgr), 0.5, 0)
    assert measure(half).metrics["colourfulness"] < 0.6 * measure(bgr).metrics["colourfulness"]


@pytest.mark.parametrize(
    "colour", [(0, 0, 255), (0, 255, 0), (255, 0, 0)], ids=["red", "green", "blue"]
)
def test_saturated_colour_is_colourful_and_channel_clipped(colour) -> None:
    img = _flat(colour)
    assert colourfulness(img) > 0.25
    assert clipped_channels(img) == 1.0
    assert measure(img).metrics["clipped"] == 0.0  # its grey level is mid-range


@pytest.mark.parametrize(
    ("value", "clipped"),
    [(0, 1.0), (3, 1.0), (4, 0.0), (128, 0.0), (251, 0.0), (252, 1.0), (255, 1.0)],
    ids=lambda x: str(x),
)
def test_clipping_counts_grey_levels_0_to_3_and_252_to_255(value: int, clipped: float) -> None:
    m = measure(_flat((value, value, value))).metrics
    assert m["clipped"] == clipped
    assert m["clipped_channels"] == clipped


def test_clipped_fraction_is_the_fraction_of_clipped_pixels() -> None:
    img = _flat((128, 128, 128), (100, 200))
    img[:, :50] = 255  # a quarter blown out
    img[:10, 100:] = 0  # a twentieth crushed
    m = measure(img).metrics
    assert m["clipped"] == pytest.approx(0.25 + 0.05)
    assert m["clipped_channels"] == pytest.approx(0.25 + 0.05)


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_stretched_contrast_clips_more(name: str) -> None:
    bgr = photo(name).astype(np.float32)
    stretched = _u8((bgr - bgr.mean()) * 3 + bgr.mean())
    before, after = measure(photo(name)).metrics, measure(stretched).metrics
    assert after["clipped"] > before["clipped"] + 0.05
    assert after["clipped_channels"] > before["clipped_channels"] + 0.1


def test_entropy_is_zero_for_one_level_and_five_bits_for_all_32_bins() -> None:
    assert entropy_bits(np.full((36, 48), 77, np.uint8)) == 0.0
    ramp = np.tile(np.arange(256, dtype=np.uint8), (4, 1))  # 8 levels per bin
    assert entropy_bits(ramp) == pytest.approx(5.0)
    assert entropy_bits(ramp, bins=4) == pytest.approx(2.0)


def test_blank_but_noisy_frame_has_little_information() -> None:
    rng = np.random.default_rng(5)
    blank = _u8(128 + rng.normal(0, 10, (480, 640, 3)))
    m = measure(blank).metrics
    assert m["entropy"] < 1.6  # the low_information floor
    assert m["noise"] > 2.5  # the noise itself is seen (halved by the analysis downscale)
    assert measure(photo("coffee")).metrics["entropy"] > 3.0


# --- the arrays: hash, descriptor, digest, cells ---------------------------------------------


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_hash_bits_split_about_half_and_half(name: str) -> None:
    assert 118 <= int(measure(photo(name)).hash_bits.sum()) <= 138


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_hash_and_descriptor_survive_reencoding_but_tell_photos_apart(name: str) -> None:
    a = measure(photo(name))
    b = measure(cv2.imdecode(np.frombuffer(jpeg(photo(name), 60), np.uint8), cv2.IMREAD_COLOR))
    assert int((a.hash_bits != b.hash_bits).sum()) <= 8
    near = float(np.linalg.norm(a.descriptor - b.descriptor))
    assert near < 0.01
    for other in PHOTOS:
        if other != name:
            c = measure(photo(other))
            assert int((a.hash_bits != c.hash_bits).sum()) > 80
            assert float(np.linalg.norm(a.descriptor - c.descriptor)) > 20 * near


@pytest.mark.parametrize(
    "change",
    [
        lambda f: np.clip(f * 0.8 + 20, 0, 255).astype(np.uint8),
        lambda f: cv2.resize(f, (512, 384), interpolation=cv2.INTER_AREA),
        lambda f: cv2.resize(f[6:-6, 8:-8], (640, 480), interpolation=cv2.INTER_AREA),
    ],
    ids=["gain-offset", "rescaled-80pct", "crop-2.5pct"],
)
@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_descriptor_of_a_copy_stays_close(change, name: str) -> None:
    a, b = measure(photo(name)), measure(change(photo(name)))
    # other photos are 1.2-1.75 apart; a 5 % crop lands 0.12-0.27 away
    assert float(np.linalg.norm(a.descriptor - b.descriptor)) < 0.15


def test_descriptor_of_a_flat_picture_is_zero_not_nan() -> None:
    d = measure(_flat((100, 100, 100))).descriptor
    assert np.isfinite(d).all() and np.abs(d).max() < 1e-2


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_detail_falls_with_blur_but_not_with_darkness(name: str) -> None:
    sharp = measure(photo(name)).metrics["detail"]
    soft = measure(cv2.GaussianBlur(photo(name), (0, 0), 2.0)).metrics["detail"]
    dim = measure((photo(name) * 0.4).astype(np.uint8)).metrics["detail"]
    assert soft < 0.7 * sharp
    assert dim == pytest.approx(sharp, rel=0.15)


@pytest.mark.parametrize("name", PHOTOS, ids=str)
def test_fine_noise_rises_with_noise_and_stays_low_on_a_clean_photo(name: str) -> None:
    rng = np.random.default_rng(1)
    clean = measure(photo(name)).metrics["fine_noise"]
    noisy = np.clip(photo(name) + rng.normal(0, 12, (480, 640, 3)), 0, 255).astype(np.uint8)
    assert clean < 2.5
    assert measure(noisy).metrics["fine_noise"] > 2 * max(clean, 1.0)


def test_percentiles_bound_the_grey_levels() -> None:
    m = measure(photo("coffee")).metrics
    assert 0.0 <= m["shadows"] < m["brightness"] < m["highlights"] <= 1.0
    dark = measure((photo("coffee") * 0.25).astype(np.uint8)).metrics
    assert dark["highlights"] < 0.3


def test_digest_is_exact_content_identity() -> None:
    rng = np.random.default_rng(6)
    img = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    same = measure(img.copy()).digest
    assert measure(img).digest == same
    changed = img.copy()
    changed[60, 80, 1] ^= 1  # one channel of one pixel, one grey level
    assert measure(changed).digest != same


def test_jittered_frame_keeps_its_look_but_not_its_digest() -> None:
    bgr = photo("chelsea")
    a, b = measure(bgr), measure(jittered(bgr, seed=3))
    assert a.digest != b.digest
    assert b.metrics["brightness"] == pytest.approx(a.metrics["brightness"], abs=0.02)
    assert np.abs(a.thumb.astype(int) - b.thumb).mean() < 3.0


def test_cells_lose_texture_where_the_view_is_covered() -> None:
    bgr = photo("coffee").copy()
    before = measure(bgr).cells
    bgr[:, :320] = (90, 90, 90)  # left half covered by a flat board
    after = measure(bgr).cells
    left, right = slice(0, GRID[0] // 2 - 1), slice(GRID[0] // 2 + 1, GRID[0])
    assert (after[:, left] < 0.5).all()
    assert (before[:, left] > 1.0).mean() > 0.8
    np.testing.assert_allclose(after[:, right], before[:, right], rtol=0.05, atol=0.05)


def test_measure_is_pure() -> None:
    bgr = photo("rocket")
    snapshot = bgr.copy()
    a, b = measure(bgr), measure(bgr)
    np.testing.assert_array_equal(bgr, snapshot)
    assert a.metrics == b.metrics and a.digest == b.digest
    np.testing.assert_array_equal(a.descriptor, b.descriptor)
