"""CUSUM thresholds: known references, estimated references, discrete laws."""

from __future__ import annotations

import math

import numpy as np
import pytest

from framegate.detectors.drift import cusum_arl, cusum_threshold
from framegate.detectors.drift.cusum import (
    ReferencePageHinkley,
    cusum_arls,
    discrete_cusum_arl,
    discrete_cusum_threshold,
    estimated_chart,
    estimated_cusum_threshold,
)
from framegate.detectors.drift.reference import indicator_block_law


@pytest.mark.parametrize("k", [0.1, 0.25, 0.5, 1.0], ids=lambda k: f"k={k}")
def test_threshold_reaches_target_run_length(k: float) -> None:
    h = cusum_threshold(1e5, k)
    assert cusum_arl(h, k) >= 1e5 > cusum_arl(h * 0.99, k)


def test_cusum_threshold_is_honest_on_simulated_noise() -> None:
    rng = np.random.default_rng(0)
    h, k, runs = cusum_threshold(200, 0.5), 0.5, []
    for _ in range(300):
        s, t = 0.0, 0
        while s <= h:
            s = max(0.0, s + rng.normal() - k)
            t += 1
        runs.append(t)
    assert 150 < np.mean(runs) < 260  # Siegmund's approximation, within sampling error


def test_vectorised_run_length_agrees_and_handles_any_sign_of_allowance() -> None:
    ks = np.array([-0.5, -1e-6, 0.0, 0.25, 1.0])
    arls = cusum_arls(5.0, ks)
    assert arls[3] == pytest.approx(cusum_arl(5.0, 0.25))
    assert arls[2] == pytest.approx((5.0 + 1.166) ** 2)
    assert arls[1] == pytest.approx(arls[2], rel=1e-4)  # continuous through zero
    assert arls[0] < arls[2] < arls[3] < arls[4]  # a chart drifting upwards fires sooner


@pytest.mark.parametrize(
    ("mean_se", "scale_se"), [(0.05, 0.0), (0.0, 0.1), (0.05, 0.1)], ids=["mean", "scale", "both"]
)
def test_an_estimated_reference_raises_the_threshold(mean_se: float, scale_se: float) -> None:
    plain = cusum_threshold(1e6, 0.25)
    assert estimated_cusum_threshold(1e6, 0.25, 0.0, 0.0) == pytest.approx(plain, rel=1e-3)
    assert estimated_cusum_threshold(1e6, 0.25, mean_se, scale_se) > plain * 1.02


def test_the_estimated_threshold_holds_its_average_run_length_by_simulation() -> None:
    # each "camera" gets a reference off by d ~ N(0, 0.1^2) and a scale off by e^N(0, 0.1^2)
    rng = np.random.default_rng(21)
    arl, k, mean_se, scale_se = 400.0, 0.5, 0.1, 0.1
    h = estimated_cusum_threshold(arl, k, mean_se, scale_se)
    alarms, steps = 0, 0
    for _ in range(400):
        d, scale = rng.normal(0, mean_se), math.exp(rng.normal(0, scale_se))
        z = rng.normal(d, scale, 2000)
        s = 0.0
        for v in z.tolist():
            s = max(0.0, s + v - k)
            steps += 1
            if s > h:
                alarms, s = alarms + 1, 0.0
    assert 0.6 < steps / alarms / arl < 1.6  # the average alarm rate is the target's


def test_estimated_chart_raises_the_allowance_only_when_the_reference_is_uncertain() -> None:
    assert estimated_chart(1e6, 0.1, 0.0)[0] == pytest.approx(0.1)
    k_short, h_short = estimated_chart(1e6, 0.1, 0.06, 0.05)
    k_long, h_long = estimated_chart(1e6, 0.1, 0.01, 0.02)
    assert k_short > k_long >= 0.1
    # the delay for the design step (0.2) is what the allowance was chosen for
    assert cusum_arls(h_short, k_short - 0.2) > cusum_arls(h_long, k_long - 0.2)


def test_discrete_run_length_matches_siegmund_on_gaussian_increments() -> None:
    v = np.linspace(-6, 6, 241)
    p = np.exp(-v * v / 2)
    p /= p.sum()
    for k in (0.25, 0.5, 1.0):
        h = cusum_threshold(1e4, k)  # one side 1e4, so both sides together 5e3
        assert discrete_cusum_arl(v, p, h, k, cells=200) == pytest.approx(5e3, rel=0.12)
        assert discrete_cusum_arl(v, p, h, k) == pytest.approx(5e3, rel=0.3)  # 64 cells


def test_rare_class_thresholds_hold_their_run_length_on_simulated_blocks() -> None:
    rng = np.random.default_rng(14)
    p, block = 0.05, 200
    std = math.sqrt(p * (1 - p))
    values, probs = indicator_block_law(p, p, std, std, block)
    assert probs.sum() == pytest.approx(1.0)
    k = 1.0
    h = discrete_cusum_threshold(values, probs, 150, k)
    # a Gaussian threshold for the same run length is too low: the empty-block tail is heavy
    assert h > cusum_threshold(300, k)
    runs = []
    for _ in range(400):
        up = down = 0.0
        t = 0
        while up <= h and down <= h:
            z = rng.choice(values, p=probs)
            up, down = max(0.0, up + z - k), max(0.0, down - z - k)
            t += 1
        runs.append(t)
    assert 110 < np.mean(runs) < 200


def test_reference_page_hinkley_state_round_trips() -> None:
    a = ReferencePageHinkley(delta=0.5, threshold=4.0)
    for x in [0.3, 1.2, -0.4, 2.0]:
        a.update(x)
    b = ReferencePageHinkley(delta=0.5, threshold=4.0)
    b.load_state(a.state())
    for x in [1.5, 1.5]:
        a.update(x)
        b.update(x)
    assert a.state() == b.state() and a.statistic == b.statistic and a.direction == 1
