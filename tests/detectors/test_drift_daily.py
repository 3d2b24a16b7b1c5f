"""The day's rhythm: a change that came and went at this time of day is not drift."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from framegate.detectors.drift import CameraDriftMonitor, DriftConfig
from framegate.detectors.drift.daily import DailyEpisodes, time_of_day_distance

HOUR, DAY = 3600.0, 86_400.0
T0 = 1_790_000_000.0 - 1_790_000_000.0 % DAY  # a midnight, UTC
DAY_FRAMES = 2880  # one frame every 30 s


def test_time_of_day_distance_wraps_around_midnight() -> None:
    assert time_of_day_distance(T0 + 23.5 * HOUR, T0 + 3 * DAY + 0.5 * HOUR) == HOUR
    assert time_of_day_distance(T0 + 6 * HOUR, T0 + 18 * HOUR) == 12 * HOUR


def test_a_change_repeats_the_rhythm_only_near_the_same_time_same_direction() -> None:
    daily = DailyEpisodes(tolerance_s=HOUR, memory_days=2)
    dusk, dawn = T0 + 18 * HOUR, T0 + DAY + 6 * HOUR
    daily.record(dusk, dawn, -1)
    nxt = dusk + DAY + 0.5 * HOUR
    assert daily.expected_end(nxt, -1) == pytest.approx(nxt + (dawn - dusk) + HOUR)
    assert daily.expected_end(nxt, +1) is None  # brighter at dusk: news
    assert daily.expected_end(dusk + DAY + 2 * HOUR, -1) is None  # too far from 18:00
    assert daily.expected_end(dusk + 0.2 * DAY, -1) is None  # the same day: not a rhythm
    assert daily.expected_end(dusk + 4 * DAY, -1) is None  # forgotten after two days
    assert DailyEpisodes(tolerance_s=0.0, memory_days=2).expected_end(nxt, -1) is None
    again = DailyEpisodes(HOUR, 2)
    again.load_state(json.loads(json.dumps(daily.state())))
    assert again.episodes == daily.episodes


def _light(seconds: np.ndarray) -> np.ndarray:
    """1 by day, 0.25 at night, twilight of about 45 minutes at 06:00 and 18:00."""
    elevation = np.sin(2 * math.pi * ((seconds % DAY) - 6 * HOUR) / DAY)
    u = np.clip((elevation + 0.1) / 0.2, 0.0, 1.0)
    return 0.25 + 0.75 * u * u * (3.0 - 2.0 * u)


def _camera(seed: int, cycle: bool, fog_at: int | None) -> tuple[np.ndarray, dict]:
    """Three days of brightness and sharpness from 07:00, frames 30 s apart."""
    rng = np.random.default_rng(seed)
    n = 3 * DAY_FRAMES
    seconds = 7 * HOUR + np.arange(n) * 30.0
    light = _light(seconds) if cycle else np.ones(n)
    wander = np.convolve(rng.normal(0, 1, n + 49), np.ones(50) / 50, "valid")  # people
    brightness = 0.45 * light * (1 + 0.01 * wander) + rng.normal(0, 0.002, n)
    sharpness = 0.6 + 0.1 * (1 - light) + rng.normal(0, 0.01, n)  # noisier at night
    if fog_at is not None:
        brightness[fog_at:] = 0.8 * brightness[fog_at:] + 0.2 * 0.78
        sharpness[fog_at:] *= 0.8
    return T0 + seconds, {"brightness": brightness, "sharpness": sharpness}


def _events(times: np.ndarray, stats: dict) -> list[tuple[int, str, str]]:
    mon = CameraDriftMonitor(DriftConfig())
    out = []
    b, s = stats["brightness"].tolist(), stats["sharpness"].tolist()
    rows = zip(times.tolist(), b, s, strict=True)
    for i, (at, b, s) in enumerate(rows):
        for e in mon.update({"brightness": b, "sharpness": s}, frame_id=str(i), at=at):
            out.append((i, e.metric, e.status))
    return out


def test_only_the_first_dusk_is_news_and_a_fog_on_day_three_is_seen_as_on_a_steady_camera():
    fog_at = 2 * DAY_FRAMES + 6 * 120  # day 3, 13:00
    times, cycle = _camera(1, cycle=True, fog_at=None)
    events = _events(times, cycle)
    dusk, dawn = 11 * 120, 23 * 120  # 18:00 on day 1, 06:00 on day 2 (frames from 07:00)
    # the camera has never seen a night: the first dusk is a darkening like any other,
    # over at the first dawn; from then on the night is the day's rhythm, no alert
    assert {s for _, _, s in events} == {"firing", "resolved"}
    assert all(dusk - 60 < i < dusk + 60 for i, _, s in events if s == "firing")
    assert all(dawn - 60 < i < dawn + 60 for i, _, s in events if s == "resolved")
    delays = []
    for cycle_on in (True, False):
        times, foggy = _camera(1, cycle=cycle_on, fog_at=fog_at)
        fired = [i for i, _, s in _events(times, foggy) if s == "firing" and i >= fog_at]
        delays.append(fired[0] - fog_at + 1)
    assert delays[0] <= delays[1] + 2 and delays[0] <= 10
