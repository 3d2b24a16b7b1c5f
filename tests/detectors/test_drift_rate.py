"""A camera's own frame rate, from the captured_at times of its frames."""

from __future__ import annotations

import json

import numpy as np
import pytest

from framegate.detectors.drift.rate import MIN_INTERVALS, FrameRate

T = 1_800_000_000.0


def _fed(times: list[float]) -> FrameRate:
    rate = FrameRate()
    for at in times:
        rate.update(at)
    return rate


@pytest.mark.parametrize("fps", [0.2, 2.0, 10.0, 30.0], ids=lambda f: f"{f}fps")
def test_the_rate_is_one_over_the_median_interval(fps: float) -> None:
    rng = np.random.default_rng(0)
    times = T + np.cumsum(rng.normal(1.0 / fps, 0.05 / fps, 200))
    assert _fed(times.tolist()).value == pytest.approx(fps, rel=0.02)


def test_gaps_bursts_repeats_and_late_frames_do_not_move_it() -> None:
    times = [T + i * 0.1 for i in range(100)]
    times[50:] = [t + 3600.0 for t in times[50:]]  # the camera was off for an hour
    times.insert(60, times[59])  # a repeated timestamp
    times.insert(70, times[20])  # a frame from long ago, late
    assert _fed(times).value == pytest.approx(10.0, rel=1e-6)


def test_unknown_until_a_few_intervals_then_follows_a_new_rate() -> None:
    rate = _fed([T + i * 0.5 for i in range(MIN_INTERVALS)])
    assert not rate.known and rate.value is None
    rate.update(T + MIN_INTERVALS * 0.5)
    assert rate.known and rate.value == pytest.approx(2.0)
    for i in range(1, 40):  # reconfigured to 10 frames/s: the median moves within the window
        rate.update(T + MIN_INTERVALS * 0.5 + i * 0.1)
    assert rate.value == pytest.approx(10.0, rel=1e-5)


def test_state_round_trips_through_json() -> None:
    rate = _fed([T + i * 0.25 for i in range(30)])
    again = FrameRate.from_state(json.loads(json.dumps(rate.state())))
    for r in (rate, again):
        r.update(T + 30 * 0.25)
    assert again.state() == rate.state() and again.value == rate.value == pytest.approx(4.0)
