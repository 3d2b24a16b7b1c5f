"""One statistic: self-starting, standardised, charted, alert lifecycle."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import lfilter

from framegate.detectors.drift import CameraDriftMonitor, DriftConfig, calibrate
from framegate.detectors.drift.metric import MetricMonitor

CONFIG = DriftConfig(frame_rate=2.0)


def run(mon: CameraDriftMonitor, rows: list[dict], start: int = 0) -> list:
    events = []
    for i, row in enumerate(rows, start):
        events += mon.update(row, frame_id=f"f{i}", at=i * 0.5)
    return events


def test_a_statistic_is_watched_from_its_warm_up_against_a_growing_reference() -> None:
    rng = np.random.default_rng(1)
    m = MetricMonitor("b", CONFIG)
    thresholds = []
    for i, v in enumerate(rng.normal(10.0, 1.0, 6000).tolist()):
        m.update(v, f"f{i}", i * 0.5, 2.0)
        if i == CONFIG.warmup_frames - 2:
            assert m.warming_up
        if m.reference is not None and (not thresholds or thresholds[-1][0] != m.reference.n):
            thresholds.append((m.reference.n, m.reference.thresholds))
    assert thresholds[0][0] == CONFIG.warmup_frames
    assert thresholds[-1][0] == CONFIG.reference_frames and not m.growing
    # each re-estimation comes with a larger reference and, on the whole, tighter charts
    assert [n for n, _ in thresholds] == sorted(n for n, _ in thresholds)
    assert all(a > b for a, b in zip(thresholds[0][1], thresholds[-1][1], strict=True))


def test_a_step_just_after_the_warm_up_is_caught_at_once() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(0.0, 1.0, 1000)
    x[CONFIG.warmup_frames + 20 :] += 4.0
    events = run(CameraDriftMonitor(CONFIG), [{"b": v} for v in x.tolist()])
    assert [e.status for e in events][:1] == ["firing"]
    assert 320 <= int(events[0].frame_id[1:]) < 330


def test_a_change_is_not_learnt_into_the_reference_it_is_measured_against() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 1.0, 4000)
    x[1500:] += 1.0
    mon = CameraDriftMonitor(CONFIG)
    events = run(mon, [{"b": v} for v in x.tolist()])
    assert events and events[0].status == "firing" and 1500 <= int(events[0].frame_id[1:]) < 1600
    assert abs(mon.metrics["b"].reference.mean) < 0.2  # the shifted frames stayed out


def test_one_change_gives_one_alert_then_resolved_then_cooldown() -> None:
    rng = np.random.default_rng(3)
    cfg = DriftConfig(frame_rate=2.0, cooldown_frames=800)
    mon = CameraDriftMonitor(cfg, calibrate({"b": rng.normal(0, 1, 20_000)}, cfg))
    x = rng.normal(0, 1, 6000)
    x[1000:3000] += 2.0  # one change, held for 2000 frames
    x[3400:] += 2.0  # the same change again, 400 frames after it went away
    events = run(mon, [{"b": v} for v in x.tolist()])
    got = [(e.status, int(e.frame_id[1:])) for e in events]
    assert [s for s, _ in got] == ["firing", "resolved", "firing"], got
    (_, fire1), (_, resolved), (_, fire2) = got
    assert 1000 <= fire1 < 1030
    assert 3000 <= resolved < 3200
    assert fire2 >= resolved + 800  # cooldown held the second alert back
    first = events[0]
    assert events[1].alert_key == first.alert_key != events[2].alert_key
    assert first.direction == "up" and first.severity in ("warning", "critical")
    assert first.after["mean"] == pytest.approx(2.0, abs=0.6)
    assert first.before["mean"] == pytest.approx(0.0, abs=0.05)
    assert 950 <= int(first.change_point[1:]) <= fire1
    assert first.example_frame_ids and all(int(f[1:]) >= 950 for f in first.example_frame_ids)


def test_large_step_on_a_prewhitened_statistic_resolves_only_when_it_returns() -> None:
    # an AR(2) whose negative second lag makes the residual filter overshoot after a step:
    # those spikes must not read as a return to the reference
    rng = np.random.default_rng(15)

    def ar2(n: int) -> np.ndarray:
        return lfilter([1.0], [1.0, -1.2, 0.4], rng.normal(size=n + 200))[200:]

    mon = CameraDriftMonitor(CONFIG, calibrate({"s": ar2(20_000)}, CONFIG, replay=False))
    assert len(mon.reference.metrics["s"].ar) >= 2
    x = ar2(3000)
    x[1000:2000] += 40.0  # a huge step held for 1000 frames, then gone
    got = [(e.status, int(e.frame_id[1:])) for e in run(mon, [{"s": v} for v in x.tolist()])]
    assert [s for s, _ in got] == ["firing", "resolved"], got
    assert 1000 <= got[0][1] < 1005
    assert 2000 <= got[1][1] < 2030


def test_thresholds_follow_the_frame_rate_the_monitor_is_given() -> None:
    rng = np.random.default_rng(4)
    m = MetricMonitor("b", DriftConfig())
    for i, v in enumerate(rng.normal(size=400).tolist()):
        m.update(v, f"f{i}", i / 2.0, 2.0)
    slow = m.reference.thresholds
    m.update(0.0, "f400", 200.0, 2.3)  # within 20 %: kept
    assert m.reference.thresholds == slow
    m.update(0.0, "f401", 200.1, 25.0)  # a faster camera: more frames per day to be quiet in
    assert m.reference.frame_rate == 25.0
    assert all(a > b for a, b in zip(m.reference.thresholds, slow, strict=True))


def test_nan_is_not_measured() -> None:
    m = MetricMonitor("b", CONFIG)
    assert m.update(math.nan, "f0", 0.0) is None and m.frames_seen == 0
