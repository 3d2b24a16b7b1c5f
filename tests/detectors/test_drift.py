"""Drift detection: standardisation, alert lifecycle, fleet, state round trip, real frames."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from pydantic import ValidationError
from scipy.signal import lfilter

from framegate.detectors.drift import (
    CLASS_FRAME_KEY,
    CameraDriftMonitor,
    DriftConfig,
    DriftEvent,
    FleetDriftConfig,
    FleetDriftMonitor,
    calibrate,
    class_frequency_stats,
    cusum_arl,
    cusum_threshold,
    estimate_reference,
)
from framegate.detectors.drift.cusum import discrete_cusum_arl, discrete_cusum_threshold
from framegate.detectors.drift.reference import indicator_block_law

CONFIG = DriftConfig()


def ar1(rng: np.random.Generator, n: int, phi: float = 0.9) -> np.ndarray:
    e = rng.normal(scale=math.sqrt(1 - phi**2), size=n + 200)
    return lfilter([1.0], [1.0, -phi], e)[200:]


def run(mon: CameraDriftMonitor, rows: list[dict], start: int = 0) -> list:
    events = []
    for i, row in enumerate(rows, start):
        events += mon.update(row, frame_id=f"f{i}", at=i * 0.5)
    return events


# -- thresholds and standardisation --------------------------------------------------------
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


def test_independent_stream_is_not_blocked() -> None:
    rng = np.random.default_rng(1)
    ref = estimate_reference(rng.normal(100.0, 5.0, 20_000), CONFIG)
    assert ref.mean == pytest.approx(100.0, abs=0.2)
    assert ref.std == pytest.approx(5.0, rel=0.03)
    assert ref.tau < 1.5 and ref.block == 1 and ref.lr_std == ref.std


def _block_z(ref_values: np.ndarray, live: np.ndarray, config: DriftConfig = CONFIG) -> np.ndarray:
    """Every standardised block value of ``live`` against a reference learnt on ``ref_values``."""
    cfg = config.model_copy(update={"history_blocks": len(live)})
    mon = CameraDriftMonitor(cfg, calibrate({"m": ref_values}, cfg, replay=False))
    run(mon, [{"m": v} for v in live.tolist()])
    return np.array([b.z for b in mon.metrics["m"].history])


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
    cfg = DriftConfig(max_ar_order=0)
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
    assert ref.allowances[1] == pytest.approx(0.5 * scale, rel=1e-6)  # the 1-sigma chart


def test_discrete_run_length_matches_siegmund_on_gaussian_increments() -> None:
    v = np.linspace(-6, 6, 241)
    p = np.exp(-v * v / 2)
    p /= p.sum()
    for k in (0.25, 0.5, 1.0):
        h = cusum_threshold(1e4, k)  # one side 1e4, so both sides together 5e3
        assert discrete_cusum_arl(v, p, h, k) == pytest.approx(5e3, rel=0.12)


def test_rare_class_thresholds_hold_their_run_length_on_simulated_blocks() -> None:
    rng = np.random.default_rng(14)
    x = (rng.random(20_000) < 0.05).astype(float)
    ref = estimate_reference(x, CONFIG)
    assert ref.indicator and ref.ar == () and ref.block >= 200
    values, probs = indicator_block_law(0.05, 0.05, ref.std, ref.lr_std, ref.block)
    assert probs.sum() == pytest.approx(1.0)
    k = ref.allowances[0]
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
    assert 120 < np.mean(runs) < 185


def test_class_frequency_convention_fills_absent_classes_with_zero() -> None:
    cfg = DriftConfig(warmup_frames=100)
    mon = CameraDriftMonitor(cfg)
    for i in range(40):
        mon.update(class_frequency_stats(["car"]), frame_id=f"f{i}", at=float(i))
    mon.update(class_frequency_stats(["person"]), frame_id="f40", at=40.0)
    mon.update({"brightness": 3.0}, frame_id="f41", at=41.0)  # no predictions: no class value
    person, car = mon.metrics["class_freq:person"], mon.metrics["class_freq:car"]
    assert person.warmup_values == [0.0] * 40 + [1.0]  # earlier prediction frames back-filled
    assert car.warmup_values == [1.0] * 40 + [0.0]
    assert CLASS_FRAME_KEY not in mon.metrics


# -- alert lifecycle -----------------------------------------------------------------------
def test_one_change_gives_one_alert_then_resolved_then_cooldown() -> None:
    rng = np.random.default_rng(3)
    cfg = DriftConfig(cooldown_frames=800)
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


def test_missing_statistics_are_skipped() -> None:
    rng = np.random.default_rng(4)
    ref = calibrate({"a": rng.normal(size=5000), "b": rng.normal(size=5000)}, CONFIG)
    mon = CameraDriftMonitor(CONFIG, ref)
    run(mon, [{"a": v} for v in rng.normal(size=300).tolist()])
    run(mon, [{"b": float("nan")}] * 10)
    assert mon.metrics["a"].frames_seen == 300 and "b" not in mon.metrics


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValidationError):
        DriftConfig(design_shifts=())
    with pytest.raises(ValidationError):
        DriftConfig(target_false_alarms_per_day=0)
    with pytest.raises(ValidationError):
        CONFIG.frame_rate = 5  # frozen


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


# -- state ---------------------------------------------------------------------------------
def _rows(rng: np.random.Generator, n: int) -> list[dict]:
    b = ar1(rng, n) * 2 + 100
    b[2500:5000] -= 6.0
    s = rng.normal(10, 1, n)
    rows = []
    for i in range(n):
        row = {"brightness": float(b[i]), "sharpness": float(s[i])}
        if i % 3:
            row.update(class_frequency_stats(["person"] if rng.random() < 0.2 else []))
        rows.append(row)
    return rows


@pytest.mark.parametrize("cut", [700, 2517, 2900, 5300, 6100], ids=lambda c: f"cut@{c}")
def test_state_round_trip_gives_identical_decisions(cut: int) -> None:
    rng = np.random.default_rng(6)
    cfg = DriftConfig(warmup_frames=1000, cooldown_frames=300)
    ref = calibrate({"brightness": ar1(rng, 5000) * 2 + 100}, cfg)
    rows = _rows(rng, 8000)
    whole = CameraDriftMonitor(cfg, ref)
    expected = run(whole, rows)
    assert any(e.status == "firing" for e in expected)  # the cut points cross real decisions
    first = CameraDriftMonitor(cfg, ref)
    got = run(first, rows[:cut])
    restored = CameraDriftMonitor.from_state(json.loads(json.dumps(first.state())), cfg)
    got += run(restored, rows[cut:], start=cut)
    assert got == expected
    assert json.dumps(restored.state()) == json.dumps(whole.state())


def test_state_rejects_unknown_version() -> None:
    with pytest.raises(ValueError, match="version"):
        CameraDriftMonitor.from_state({"version": 99}, CONFIG)


# -- fleet ---------------------------------------------------------------------------------
def _fleet_run(shift_cams: int, n_cams: int, shift: float, seed: int, frames: int = 4000):
    rng = np.random.default_rng(seed)
    cfg = DriftConfig()
    cams = {
        f"cam{c}": CameraDriftMonitor(
            cfg, calibrate({"b": rng.normal(size=5000)}, cfg, replay=False)
        )
        for c in range(n_cams)
    }
    fleet = FleetDriftMonitor(FleetDriftConfig(period_s=50.0, min_cameras=3, min_fraction=0.3))
    cam_events, fleet_events = [], []
    for t in range(frames):
        at = t * 0.5
        for c, (cid, mon) in enumerate(cams.items()):
            v = rng.normal() + (shift if (t >= 1000 and c < shift_cams) else 0.0)
            ev = mon.update({"b": v}, frame_id=f"{cid}-{t}", at=at)
            cam_events += ev
            if ev or t % 20 == 19:
                fleet_events += fleet.update(cid, at=at, zscores=mon.drain_z(), events=ev)
    return cam_events, fleet_events, fleet


def test_fleet_vote_fires_once_when_many_cameras_drift_together() -> None:
    cam_events, fleet_events, _ = _fleet_run(shift_cams=5, n_cams=10, shift=-2.0, seed=7)
    assert sum(e.status == "firing" for e in cam_events) == 5
    votes = [e for e in fleet_events if e.detector == "camera_vote"]
    assert [e.status for e in votes] == ["firing"]
    assert votes[0].direction == "down" and len(votes[0].camera_ids) >= 3


@pytest.mark.parametrize("shift", [-2.0, -0.4], ids=["far-off", "slightly-off"])
def test_one_broken_camera_is_not_a_fleet_change(shift: float) -> None:
    cam_events, fleet_events, _ = _fleet_run(shift_cams=1, n_cams=10, shift=shift, seed=8)
    assert sum(e.status == "firing" for e in cam_events) == 1
    assert fleet_events == []  # neither the vote nor the pooled chart: a median ignores it


def test_a_camera_firing_on_its_own_is_left_out_of_the_pooled_chart() -> None:
    # in a fleet of four, one camera far off for hours moves the median of four a lot
    cam_events, fleet_events, _ = _fleet_run(
        shift_cams=1, n_cams=4, shift=3.0, seed=16, frames=12_000
    )
    assert [e.status for e in cam_events] == ["firing"]
    assert fleet_events == []


def test_a_fleet_of_one_camera_never_raises_a_fleet_alert() -> None:
    cam_events, fleet_events, _ = _fleet_run(shift_cams=1, n_cams=1, shift=-2.0, seed=8)
    assert [e.status for e in cam_events] == ["firing"]
    assert fleet_events == []


def test_pooled_fleet_chart_sees_a_shift_too_small_for_each_camera() -> None:
    cam_events, fleet_events, fleet = _fleet_run(
        shift_cams=12, n_cams=12, shift=0.25, seed=9, frames=3000
    )
    pooled = [e for e in fleet_events if e.detector == "page_hinkley"]
    assert [e.status for e in pooled] == ["firing"] and pooled[0].direction == "up"
    assert pooled[0].at >= 500.0  # not before the shift (frame 1000 at 2 fps)
    first_camera = min(e.at for e in cam_events if e.status == "firing")
    assert pooled[0].at < first_camera  # the fleet sees it before any single camera does
    again = FleetDriftMonitor.from_state(json.loads(json.dumps(fleet.state())), fleet.config)
    assert json.dumps(again.state()) == json.dumps(fleet.state())


def _health(check, status: str, frame_id: str, at: float, fired: str):
    from framegate.detectors.health import HealthEvent

    return HealthEvent(check, status, frame_id, at, "critical", fired_frame_id=fired, score=0.9)


def test_many_cameras_frozen_together_is_a_fleet_vote() -> None:
    from framegate.schemas import Check

    fleet = FleetDriftMonitor(FleetDriftConfig(min_cameras=3, min_fraction=0.3))
    for c in range(6):  # six cameras report; three of them freeze, one after another
        fleet.update(f"cam{c}", at=10.0, zscores={"b": (0.1, 1)})
    found = []
    for c in range(3):
        firing = _health(Check.FROZEN, "firing", f"cam{c}-20", 20.0 + c, f"cam{c}-20")
        found += fleet.update(f"cam{c}", at=20.0 + c, health=[firing])
    for c in range(3):
        resolved = _health(Check.FROZEN, "resolved", f"cam{c}-40", 40.0 + c, f"cam{c}-20")
        found += fleet.update(f"cam{c}", at=40.0 + c, health=[resolved])
    assert [(e.metric, e.detector, e.status) for e in found] == [
        ("frozen", "camera_vote", "firing"),
        ("frozen", "camera_vote", "resolved"),
    ]
    assert found[0].camera_ids == ("cam0", "cam1", "cam2") and found[0].change_point == "cam0-20"
    again = FleetDriftMonitor.from_state(json.loads(json.dumps(fleet.state())), fleet.config)
    assert json.dumps(again.state()) == json.dumps(fleet.state())


def test_fleet_state_of_another_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        FleetDriftMonitor.from_state({"version": 2})


# -- real frames ---------------------------------------------------------------------------
def _real_gray_frames() -> list[np.ndarray]:
    """Real static-camera frames (vtest.avi), else a bundled photo with small jitter."""
    import cv2

    from framegate.streams.cli.simulator import VTEST
    from framegate.streams.media import video_frames

    frames = [
        cv2.resize(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), (128, 96)) for f in video_frames(VTEST)
    ]
    if len(frames) < 100:
        from skimage import data

        rng = np.random.default_rng(0)
        img = cv2.resize(data.camera(), (140, 108)).astype(np.float32)
        frames = [
            cv2.warpAffine(img, np.float32([[1, 0, dx], [0, 1, dy]]), (128, 96))
            for dx, dy in rng.uniform(-1.5, 1.5, size=(400, 2))
        ]
    return [f.astype(np.float32) for f in frames]


def test_real_frames_gradual_darkening_gives_exactly_one_alert() -> None:
    frames = _real_gray_frames()
    rng = np.random.default_rng(10)
    period = 2 * len(frames) - 2

    def brightness(t: int, gain: float) -> float:
        i = t % period
        g = frames[i if i < len(frames) else period - i]
        noisy = g * gain + rng.normal(0.0, 2.0, g.shape).astype(np.float32)
        return float(np.clip(noisy, 0, 255).mean())

    n_ref, pre, ramp, post = 4 * len(frames), 1000, 1500, 1500
    cfg = DriftConfig()
    ref = calibrate({"brightness": [brightness(t, 1.0) for t in range(n_ref)]}, cfg)
    mon = CameraDriftMonitor(cfg, ref)
    events = []
    for j in range(pre + ramp + post):
        gain = 1.0 - 0.25 * min(max(j - pre, 0) / ramp, 1.0)  # 25 % darker, gradually
        events += mon.update(
            {"brightness": brightness(n_ref + j, gain)}, frame_id=f"f{j}", at=j * 0.1
        )
    assert [(e.status, e.metric, e.direction) for e in events] == [("firing", "brightness", "down")]
    fired = int(events[0].frame_id[1:])
    assert pre < fired < pre + ramp
    assert events[0].after["mean"] < events[0].before["mean"]


def test_drift_event_survives_json_between_the_gate_and_the_fleet_agent() -> None:
    cam_events, fleet_events, _ = _fleet_run(shift_cams=5, n_cams=10, shift=-2.0, seed=7)
    for event in cam_events + fleet_events:
        assert DriftEvent.from_dict(json.loads(json.dumps(event.to_dict()))) == event
