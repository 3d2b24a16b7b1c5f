"""A statistic's reference: prewhitening, blocks, estimation error, charts; calibration."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import lfilter

from framegate.detectors.drift import CameraDriftMonitor, DriftConfig, calibrate, estimate_reference
from framegate.detectors.drift.reference import ar_sum_se, charts, fit_autoregression

CONFIG = DriftConfig(frame_rate=2.0)


def ar1(rng: np.random.Generator, n: int, phi: float = 0.9) -> np.ndarray:
    e = rng.normal(scale=math.sqrt(1 - phi**2), size=n + 200)
    return lfilter([1.0], [1.0, -phi], e)[200:]


def _block_z(ref_values: np.ndarray, live: np.ndarray, config: DriftConfig = CONFIG) -> np.ndarray:
    """Every standardised block value of ``live`` against a reference learnt on ``ref_values``."""
    cfg = config.model_copy(update={"history_blocks": len(live)})
    mon = CameraDriftMonitor(cfg, calibrate({"m": ref_values}, cfg, replay=False))
    for i, v in enumerate(live.tolist()):
        mon.update({"m": v}, frame_id=f"f{i}", at=i * 0.5)
    return np.array([b.z for b in mon.metrics["m"].history])


def test_independent_stream_is_not_blocked() -> None:
    rng = np.random.default_rng(1)
    ref = estimate_reference(rng.normal(100.0, 5.0, 20_000), CONFIG)
    assert ref.mean == pytest.approx(100.0, abs=0.2)
    assert ref.std == pytest.approx(5.0, rel=0.03)
    assert ref.tau < 1.5 and ref.block == 1 and ref.lr_std == ref.std


def test_autoregressive_stream_is_prewhitened_not_blocked() -> None:
    rng = np.random.default_rng(2)
    ref = estimate_reference(ar1(rng, 20_000) * 3 + 50, CONFIG)
    assert len(ref.ar) == 1 and ref.ar[0] == pytest.approx(0.9, abs=0.02)
    assert ref.tau < 1.5 and ref.block == 1  # the residuals are left independent
    assert ref.lr_std == pytest.approx(3 * math.sqrt(19), rel=0.1)  # (1 + 0.9) / (1 - 0.9)
    # fresh clean data against that reference: z ~ N(0, 1), uncorrelated frame to frame
    z = _block_z(ar1(rng, 20_000) * 3 + 50, ar1(rng, 50_000) * 3 + 50)
    assert abs(z.mean()) < 0.1 and 0.9 < z.var() < 1.1
    assert abs(np.corrcoef(z[1:], z[:-1])[0, 1]) < 0.05


def test_correlation_left_unmodelled_is_averaged_in_blocks() -> None:
    # prewhitening off: the autoregression's correlation is all left to the blocks
    rng = np.random.default_rng(12)
    cfg = DriftConfig(frame_rate=2.0, max_ar_order=0)
    ref = estimate_reference(ar1(rng, 20_000) * 3 + 50, cfg)
    assert ref.ar == () and 14 < ref.tau < 26 and ref.block > 10
    assert ref.lr_std == pytest.approx(3 * math.sqrt(19), rel=0.2)
    z = _block_z(ar1(rng, 20_000) * 3 + 50, ar1(rng, 200_000) * 3 + 50, cfg)
    assert abs(z.mean()) < 0.1
    sums = z[: len(z) // 10 * 10].reshape(-1, 10).sum(axis=1)  # long-run variance ~ 1
    assert 0.8 < sums.var() / 10 < 1.25


def test_a_step_moves_prewhitened_z_by_its_design_scale() -> None:
    rng = np.random.default_rng(13)
    clean = ar1(rng, 20_000)
    live = ar1(rng, 40_000) + 1.0  # a 1-sigma step throughout
    ref = estimate_reference(clean, CONFIG)
    scale = ref.std * math.sqrt(ref.block) / ref.lr_std
    assert _block_z(clean, live).mean() == pytest.approx(scale, rel=0.25)
    assert ref.allowances[1] == pytest.approx(0.5 * scale, rel=0.05)  # the 1-sigma chart


def test_a_spurious_negative_autoregression_is_not_fitted() -> None:
    # independent values, but the first of them alternate a little: a fit with negative
    # coefficients would shrink the long-run spread and inflate every value to come
    rng = np.random.default_rng(3)
    x = rng.normal(size=300)
    x[1:] -= 0.35 * x[:-1]
    assert fit_autoregression(x, 5) == ()
    assert fit_autoregression(-np.cumsum(rng.normal(size=300)) * 0.1 + x, 5)  # positive: kept


def test_standard_error_of_the_autoregression_follows_theory() -> None:
    rng = np.random.default_rng(4)
    x = ar1(rng, 3000)
    ar = fit_autoregression(x, 1)
    assert ar_sum_se(x, ar) == pytest.approx(math.sqrt((1 - 0.81) / 3000), rel=0.15)
    assert ar_sum_se(x, ()) == 0.0


@pytest.mark.parametrize(
    ("std", "lr_std"), [(1.0, 1.0), (1.0, math.sqrt(19))], ids=["independent", "ar1-0.9"]
)
def test_thresholds_tighten_as_the_reference_grows(std: float, lr_std: float) -> None:
    hs = [charts(std, lr_std, 1, n, CONFIG, 2.0, lr_se=0.5 / math.sqrt(n))[1] for n in (300, 3000)]
    exact = charts(std, lr_std, 1, 10**9, CONFIG, 2.0)[1]
    assert all(a > b >= c * 0.999 for a, b, c in zip(*hs, exact, strict=True))


def test_a_quiet_start_is_given_the_spread_real_scenes_have() -> None:
    rng = np.random.default_rng(5)
    quiet = rng.normal(120.0, 0.3, 300)  # 0.25 % of the level
    ref = estimate_reference(quiet, CONFIG)
    assert ref.std == pytest.approx(0.02 * ref.mean)  # min_relative_spread
    assert ref.lr_std / ref.std == pytest.approx(1.0, rel=0.2)  # its correlation kept
    assert estimate_reference(quiet, CONFIG.model_copy(update={"min_relative_spread": 0})).std < 1
    counts = (rng.random(300) < 0.3).astype(float)  # a 0/1 statistic keeps its binomial law
    assert estimate_reference(counts, CONFIG).std == pytest.approx(0.46, abs=0.03)


def test_a_reference_is_charted_again_for_another_frame_rate() -> None:
    rng = np.random.default_rng(6)
    ref = estimate_reference(rng.normal(size=3000), CONFIG, frame_rate=2.0)
    faster = ref.at_frame_rate(20.0, CONFIG)
    assert faster.frame_rate == 20.0 and ref.frame_rate == 2.0
    # ten times the frames per day: a tenth of the alarm rate per frame, higher thresholds
    assert all(a > b for a, b in zip(faster.thresholds, ref.thresholds, strict=True))


def test_calibrate_reports_progress_and_measured_in_sample_alarms() -> None:
    rng = np.random.default_rng(5)
    seen: list[tuple[int, int]] = []
    ref = calibrate(
        {"a": ar1(rng, 10_000), "b": rng.normal(size=10_000)},
        CONFIG,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[-1][0] == seen[-1][1] and len(seen) > 10
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert ref.in_sample_alarms == 0 and ref.frames == 10_000
    assert {m.frame_rate for m in ref.metrics.values()} == {2.0}
