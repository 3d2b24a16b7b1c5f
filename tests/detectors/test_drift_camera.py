"""All statistics of one camera: classes, frame rate, state, re-baseline, real footage."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest
from scipy.signal import lfilter

from framegate.detectors.drift import (
    CLASS_FRAME_KEY,
    CameraDriftMonitor,
    DriftConfig,
    calibrate,
    class_frequency_stats,
)
from framegate.detectors.gate import GateConfig, drift_statistics
from framegate.detectors.image_metrics import measure

CONFIG = DriftConfig(frame_rate=2.0)
T = 1_800_000_000.0


def ar1(rng: np.random.Generator, n: int, phi: float = 0.9) -> np.ndarray:
    e = rng.normal(scale=math.sqrt(1 - phi**2), size=n + 200)
    return lfilter([1.0], [1.0, -phi], e)[200:]


def run(mon: CameraDriftMonitor, rows: list[dict], start: int = 0, fps: float = 2.0) -> list:
    events = []
    for i, row in enumerate(rows, start):
        events += mon.update(row, frame_id=f"f{i}", at=T + i / fps)
    return events


def test_class_frequency_convention_fills_absent_classes_with_zero() -> None:
    mon = CameraDriftMonitor(DriftConfig(warmup_frames=100))
    for i in range(40):
        mon.update(class_frequency_stats(["car"]), frame_id=f"f{i}", at=float(i))
    mon.update(class_frequency_stats(["person"]), frame_id="f40", at=40.0)
    mon.update({"brightness": 3.0}, frame_id="f41", at=41.0)  # no predictions: no class value
    person, car = mon.metrics["class_freq:person"], mon.metrics["class_freq:car"]
    assert person.warmup_values == [0.0] * 40 + [1.0]  # earlier prediction frames back-filled
    assert car.warmup_values == [1.0] * 40 + [0.0]
    assert CLASS_FRAME_KEY not in mon.metrics


def test_missing_statistics_are_skipped() -> None:
    rng = np.random.default_rng(4)
    ref = calibrate({"a": rng.normal(size=5000), "b": rng.normal(size=5000)}, CONFIG)
    mon = CameraDriftMonitor(CONFIG, ref)
    run(mon, [{"a": v} for v in rng.normal(size=300).tolist()])
    run(mon, [{"b": float("nan")}] * 10)
    assert mon.metrics["a"].frames_seen == 300 and "b" not in mon.metrics


@pytest.mark.parametrize("fps", [0.5, 10.0], ids=lambda f: f"{f}fps")
def test_the_budget_per_day_is_spent_at_the_cameras_own_frame_rate(fps: float) -> None:
    rng = np.random.default_rng(7)
    rows = [{"b": v} for v in rng.normal(size=400).tolist()]
    own, pinned = CameraDriftMonitor(DriftConfig()), CameraDriftMonitor(DriftConfig(frame_rate=2))
    for mon in (own, pinned):
        run(mon, rows, fps=fps)
    assert own.frame_rate == pytest.approx(fps) and pinned.frame_rate == 2.0
    assert own.metrics["b"].reference.frame_rate == pytest.approx(fps)
    faster = [
        a > b
        for a, b in zip(
            own.metrics["b"].reference.thresholds,
            pinned.metrics["b"].reference.thresholds,
            strict=True,
        )
    ]
    assert all(faster) if fps > 2 else not any(faster)


# -- state ---------------------------------------------------------------------------------
def _rows(rng: np.random.Generator, n: int) -> list[dict]:
    b = ar1(rng, n) * 2 + 100
    b[2500:5000] -= 6.0
    s = rng.normal(10, 1, n)
    s[6500:] += 3.0
    rows = []
    for i in range(n):
        row = {"brightness": float(b[i]), "sharpness": float(s[i])}
        if i % 3:
            row.update(class_frequency_stats(["person"] if rng.random() < 0.2 else []))
        rows.append(row)
    return rows


@pytest.mark.parametrize("cut", [150, 700, 2517, 2900, 5300, 6100, 7000], ids=lambda c: f"cut@{c}")
def test_state_round_trip_gives_identical_decisions(cut: int) -> None:
    rng = np.random.default_rng(6)
    cfg = DriftConfig(warmup_frames=300, cooldown_frames=300)
    ref = calibrate({"brightness": ar1(rng, 5000) * 2 + 100}, cfg, frame_rate=2.0)
    rows = _rows(rng, 8000)
    whole = CameraDriftMonitor(cfg, ref)
    expected = run(whole, rows)
    # the cut points cross real decisions, of calibrated and of self-starting statistics
    assert {(e.metric, e.status) for e in expected} >= {
        ("brightness", "firing"),
        ("sharpness", "firing"),
    }
    first = CameraDriftMonitor(cfg, ref)
    got = run(first, rows[:cut])
    restored = CameraDriftMonitor.from_state(json.loads(json.dumps(first.state())), cfg)
    got += run(restored, rows[cut:], start=cut)
    assert got == expected
    assert json.dumps(restored.state()) == json.dumps(whole.state())


def test_state_of_another_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        CameraDriftMonitor.from_state({"version": 3}, CONFIG)


# -- re-baseline ---------------------------------------------------------------------------
def test_rebaseline_makes_the_present_state_the_new_normal() -> None:
    rng = np.random.default_rng(8)
    ref = calibrate({"b": rng.normal(size=5000)}, CONFIG)
    mon = CameraDriftMonitor(CONFIG, ref)
    x = rng.normal(size=3000)
    x[1000:] += 3.0  # a new lens: brighter for good
    events = run(mon, [{"b": v, "s": w} for v, w in zip(x.tolist(), x.tolist(), strict=True)])
    assert [(e.metric, e.status) for e in events] == [("b", "firing"), ("s", "firing")]
    closed = mon.rebaseline("b", at=T + 1500.0)
    assert [(e.metric, e.status, e.at) for e in closed] == [("b", "resolved", T + 1500.0)]
    assert closed[0].alert_key == events[0].alert_key  # the open alert is closed
    assert "b" not in mon.reference.metrics and mon.metrics["b"].warming_up
    assert not mon.metrics["s"].warming_up and mon.metrics["s"].firing  # only "b"
    later = run(mon, [{"b": v} for v in (rng.normal(size=2000) + 3.0).tolist()], start=3000)
    assert later == [] and not mon.metrics["b"].warming_up  # watched again, at the new level
    assert [e.metric for e in mon.rebaseline(at=T + 9999.0)] == ["s"]
    assert mon.rebaseline("never-seen", at=T) == []


# -- real footage --------------------------------------------------------------------------
def _street(size: tuple[int, int]) -> list[np.ndarray]:
    """A fixed street camera (vtest.avi), else a shipped photo with a car driving by."""
    from framegate.streams.cli.simulator import VTEST
    from framegate.streams.media import video_frames

    frames = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in video_frames(VTEST)]
    if len(frames) < 100:
        from skimage import data

        scene = cv2.resize(np.ascontiguousarray(data.astronaut()[:, :, ::-1]), size)
        frames = []
        for i in range(300):
            f = scene.copy()
            x = (i * 3) % (size[0] + 40) - 40
            cv2.rectangle(f, (x, size[1] // 2), (x + 40, size[1] // 2 + 18), (40, 40, 180), -1)
            frames.append(f)
    return [f.astype(np.float32) for f in frames]


def _walk(rng: np.random.Generator, n: int, frames: int) -> np.ndarray:
    period = 2 * frames - 2
    t = (rng.integers(period) + np.arange(n)) % period
    return np.where(t < frames, t, period - t)


def test_no_drift_setting_three_street_cameras_dusk_fog_and_steady() -> None:
    """The issue's new user: 10 frames/s, 2,400 frames; a dusk from frame 1,200 (half the
    light at 2,400), a fog at 1,500, a steady camera; the gate's statistics and defaults."""
    frames = _street((160, 120))
    n, fps = 2400, 10.0
    ramp = np.clip((np.arange(n) - 1200) / 1200, 0.0, 1.0)
    noise = np.random.default_rng(99).normal(0, 2.0, (37, 120, 160, 3)).astype(np.float32)
    found = {}
    for seed, (name, onset) in enumerate((("dusk", 1200), ("fog", 1500), ("steady", n))):
        rng = np.random.default_rng(seed)
        mon = CameraDriftMonitor(GateConfig().drift)
        fired = []
        for i, j in enumerate(_walk(rng, n, len(frames)).tolist()):
            img = frames[j] * (1.0 - 0.5 * ramp[i] if name == "dusk" else 1.0)
            if name == "fog" and i >= onset:
                img = 0.8 * img + 0.2 * 200.0
            img = np.clip(img + noise[(i * 7 + seed) % len(noise)], 0, 255)  # sensor noise
            stats = drift_statistics(measure(img.astype(np.uint8)).metrics)
            fired += [
                i
                for e in mon.update(stats, frame_id=str(i), at=T + i / fps)
                if e.status == "firing"
            ]
        assert mon.frame_rate == pytest.approx(fps)
        found[name] = (onset, fired)
    for name, limit in (("dusk", 700), ("fog", 150)):
        onset, fired = found[name]
        assert fired and onset <= fired[0] < onset + limit, (name, fired)
    assert found["steady"][1] == []


# -- the gate's wiring ---------------------------------------------------------------------
def test_the_gate_rebaselines_its_drift_monitor_and_restores_an_older_drift_layout() -> None:
    from framegate.detectors.gate import CameraGate
    from framegate.detectors.policy import Policy

    policy = Policy().for_camera("cam-1")
    gate = CameraGate("cam-1", policy, GateConfig())
    for i in range(400):
        gate.drift.update({"sharpness": 0.5 + 0.001 * (i % 9)}, frame_id=f"f{i}", at=T + i)
    assert not gate.drift.metrics["sharpness"].warming_up
    assert gate.rebaseline_drift("edge_ratio", at=T + 400) == []  # a report metric's name
    assert gate.drift.metrics["sharpness"].warming_up
    state = json.loads(json.dumps(gate.state()))
    state["drift"]["version"] = 3  # a layout an older version wrote
    again = CameraGate.from_state("cam-1", state, policy, GateConfig())
    assert again.drift.metrics == {}  # self-starting afresh
