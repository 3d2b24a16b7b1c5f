"""Drift detection: false alarms and delays of self-starting monitors, river, the oracle.

Run ``.venv/bin/python -m bench.drift_bench --quick`` (about a minute once the real footage is
measured and cached, three the first time) or without ``--quick`` (about 18 minutes).
Seeded. framegate is :class:`~framegate.detectors.drift.CameraDriftMonitor` as a new camera
gets it: no reference, fed from the camera's first frame, watched from frame
300 (``warmup_frames``) against a reference that grows to 3,000 frames; ``calibrated`` is the
same monitor given a reference learnt beforehand from a clean period of the stream (20,000
frames synthetic, 8,000 real), as issue 5 measured it. ``river ADWIN`` / ``river PH`` are
``ADWIN()`` and ``PageHinkley()`` with defaults on the raw statistic; the oracle is a
one-sided CUSUM that knows the distribution before and after (the AR(1) model too), at one
false alarm per 100,000 frames.

No-change streams are independent N(0, 1), AR(1) 0.9 (four statistics of each, plus two
class frequencies, 10 % and 30 %) and real static footage: OpenCV's ``vtest.avi`` at
384x288, fresh sensor noise per frame, brightness and sharpness, walked forwards and
backwards (no jumps). Delay counts the frames from the first changed one up to and
including the one that fired (1 = fired on the first changed frame). The day/night and
default-settings scenarios on real footage are in :mod:`bench.drift_scenes`.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numpy as np
from river.drift import ADWIN, PageHinkley

from bench import drift_scenes
from bench.drift_streams import (
    ar1,
    bernoulli,
    iid,
    oracle_delay,
    per_1e5,
    real_stats,
    real_walk,
    river_alarms,
)
from framegate.detectors.drift import CameraDriftMonitor, DriftConfig, FleetDriftMonitor, calibrate

PHI = 0.9
N_REF, N_REF_REAL = 20_000, 8_000
WATCHED_FROM = 300
# The target, 1 false alarm per 100,000 frames per camera with all (6) statistics:
# 2 fps -> 172,800 frames a day -> 1.728 alarms a day.
CONFIG = DriftConfig(target_false_alarms_per_day=1.728, frame_rate=2.0, expected_metrics=6)


# -- detectors under test ----------------------------------------------------------------
def framegate_alarms(streams: dict, reference: dict | None = None) -> list[int]:
    """Frame indices at which a CameraDriftMonitor fired (any statistic): self-starting,
    or calibrated on ``reference`` first."""
    ref = None if reference is None else calibrate(reference, CONFIG, replay=False)
    mon = CameraDriftMonitor(CONFIG, ref)
    names = list(streams)
    cols = [streams[k].tolist() for k in names]
    fires = []
    update = mon.update
    for t, row in enumerate(zip(*cols, strict=True)):
        events = update(dict(zip(names, row, strict=True)), frame_id=str(t), at=t / 2.0)
        if any(e.status == "firing" for e in events):  # a resolve is not another alarm
            fires.append(t)
    return fires


def no_change(kind: str, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    if kind == "real":
        rs = real_stats()["clean"]
        idx, var = real_walk(rng, n, rs.shape[1], rs.shape[0])
        both = rs[var, idx]
        return {"brightness": both[:, 0], "sharpness": both[:, 1]}
    gen = iid if kind == "iid" else ar1
    out = {m: gen(rng, n) for m in ("brightness", "sharpness", "embedding_distance", "confidence")}
    out["class_freq:person"] = bernoulli(0.1)(rng, n)
    out["class_freq:car"] = bernoulli(0.3)(rng, n)
    return out


def false_alarms(kind: str, cams: int, n: int, seed: int, river: bool) -> dict[str, tuple]:
    """(alarms, frames watched) of self-starting cameras fed ``n`` frames each, watched
    from frame 300; river on the first camera."""
    rng = np.random.default_rng(seed)
    counts = {k: [0, 0] for k in ("framegate", "river ADWIN", "river PH")}
    early = 0
    for cam in range(cams):
        full = no_change(kind, rng, n)
        fires = framegate_alarms(full)
        assert not any(t < WATCHED_FROM for t in fires)
        counts["framegate"][0] += len(fires)
        counts["framegate"][1] += n - WATCHED_FROM
        early += sum(1 for t in fires if t < 3000)
        if cam == 0 and river:
            for name, factory in (("river ADWIN", ADWIN), ("river PH", PageHinkley)):
                counts[name][0] += len(river_alarms(factory, full))
                counts[name][1] += n
    out = {k: (a, f) for k, (a, f) in counts.items()}
    return out | {"metrics": (len(full), 1), "early": (early, 1)}


# -- delays ------------------------------------------------------------------------------
def delays(make: Callable, reps: int, seed: int, horizon: int) -> dict[str, list[float]]:
    """``make(rng, onset)`` -> (reference, live from frame 0, oracle delay or None); the
    change starts at ``onset`` in the live stream."""
    rng = np.random.default_rng(seed)
    res: dict[str, list[float]] = {k: [] for k in ("@300", "@3000", "calibrated", "oracle")}
    for _ in range(reps):
        for key, onset in (("@300", WATCHED_FROM), ("@3000", 3000), ("calibrated", 500)):
            ref, live, oracle = make(rng, onset)
            fires = framegate_alarms(live, ref if key == "calibrated" else None)
            after = [f - onset + 1 for f in fires if f >= onset]
            res[key].append(after[0] if after and after[0] <= horizon else math.inf)
            if key == "calibrated" and oracle is not None:
                res["oracle"].append(oracle)
    return res


def step(gen: Callable, shift: float, post: int, phi: float = 0.0) -> Callable:
    def make(rng: np.random.Generator, onset: int):
        x = gen(rng, N_REF + onset + post)
        x[N_REF + onset :] += shift
        live = x[N_REF:]
        return {"m": x[:N_REF]}, {"m": live}, oracle_delay(live, onset, shift, phi)

    return make


def ramp(length: int, post: int) -> Callable:
    def make(rng: np.random.Generator, onset: int):
        x = iid(rng, N_REF + onset + length + post)
        x[N_REF + onset :] += np.minimum(np.arange(length + post) / length, 1.0) * 2.0
        return {"m": x[:N_REF]}, {"m": x[N_REF:]}, None

    return make


def class_shift(post: int) -> Callable:
    def make(rng: np.random.Generator, onset: int):
        x = np.r_[bernoulli(0.1)(rng, N_REF + onset), bernoulli(0.2)(rng, post)]
        return {"class_freq:person": x[:N_REF]}, {"class_freq:person": x[N_REF:]}, None

    return make


def real_change(condition: str, post: int) -> Callable:
    def make(rng: np.random.Generator, onset: int):
        stats = real_stats()
        clean, changed = stats["clean"], stats[condition]
        n = N_REF_REAL + onset + post
        idx, var = real_walk(rng, n, clean.shape[1], clean.shape[0])
        vals = clean[var, idx].copy()
        vals[N_REF_REAL + onset :] = changed[var, idx][N_REF_REAL + onset :]
        s = {"brightness": vals[:, 0], "sharpness": vals[:, 1]}
        return (
            {k: v[:N_REF_REAL] for k, v in s.items()},
            {k: v[N_REF_REAL:] for k, v in s.items()},
            None,
        )

    return make


DELAY_CASES = [
    ("iid step 0.5 sigma", step(iid, 0.5, 4000), 4000),
    ("iid step 1 sigma", step(iid, 1.0, 2000), 2000),
    ("iid step 2 sigma", step(iid, 2.0, 1000), 1000),
    ("AR(1) step 0.5 sigma", step(ar1, 0.5, 6000, PHI), 6000),
    ("AR(1) step 1 sigma", step(ar1, 1.0, 4000, PHI), 4000),
    ("AR(1) step 2 sigma", step(ar1, 2.0, 2000, PHI), 2000),
    ("iid ramp 0->2 sigma/2000", ramp(2000, 1000), 3000),
    ("class freq 10% -> 20%", class_shift(5000), 5000),
    ("real: darken x0.9", real_change("darken", 2000), 2000),
    ("real: fog 20%", real_change("fog", 2000), 2000),
    ("real: blur sigma=1", real_change("blur", 2000), 2000),
]


def fmt(v: list[float]) -> str:
    fin = [x for x in v if math.isfinite(x)]
    miss = len(v) - len(fin)
    if not v:
        return f"{'-':>19}"
    if not fin:
        return f"{'-':>5} {'-':>5} {'-':>5} {miss:>3}"
    a = np.asarray(fin)
    return f"{a.mean():5.0f} {np.median(a):5.0f} {np.percentile(a, 90):5.0f} {miss:>3}"


# -- fleet, throughput -------------------------------------------------------------------
FLEET_CAMERAS, FLEET_REPORT_EVERY = 12, 10


def fleet_run(rng: np.random.Generator, frames: int, shifts: list[float], change: int) -> tuple:
    """Frames at which the fleet's pooled chart, its vote and any camera fired."""
    cams = []
    for c in range(FLEET_CAMERAS):
        ref = calibrate({"brightness": ar1(rng, N_REF)}, CONFIG, replay=False)
        x = ar1(rng, frames)
        x[change:] += shifts[c] if c < len(shifts) else 0.0
        cams.append((f"cam-{c}", CameraDriftMonitor(CONFIG, ref), x.tolist()))
    fleet = FleetDriftMonitor()
    pooled, vote, camera = [], [], []
    for t in range(frames):
        at = t / 2.0
        for cid, mon, x in cams:
            events = mon.update({"brightness": x[t]}, frame_id=f"{cid}:{t}", at=at)
            camera += [t for e in events if e.status == "firing"]
            if events or t % FLEET_REPORT_EVERY == FLEET_REPORT_EVERY - 1:
                for e in fleet.update(cid, at=at, zscores=mon.drain_z(), events=events):
                    if e.status == "firing":
                        (vote if e.detector == "camera_vote" else pooled).append(t)
    return pooled, vote, camera


def fleet_table(reps: int, frames_no_change: int) -> None:
    print(f"\nfleet ({FLEET_CAMERAS} calibrated AR(1) cameras, 2 fps, pooled chart over 60 s, ")
    print(f"vote of >= 3 cameras): alerts and first delays in frames, mean over {reps} runs")
    print(f"{'scenario':<34}{'pooled':>8}{'vote':>8}{'cameras':>9}   first pooled / vote / camera")
    rng = np.random.default_rng(21)
    p, v, c = fleet_run(rng, frames_no_change, [], frames_no_change)
    hours = frames_no_change / 2.0 / 3600
    print(f"{f'no change, {hours:.0f} h':<34}{len(p):>8}{len(v):>8}{len(c):>9}   (alerts)")
    change = 2000
    for label, shifts, post in (
        ("all cameras +0.1 sd", [0.1] * FLEET_CAMERAS, 12000),
        ("all cameras +0.25 sd", [0.25] * FLEET_CAMERAS, 6000),
        ("half the cameras +1 sd", [1.0] * (FLEET_CAMERAS // 2), 3000),
        ("one camera +2 sd", [2.0], 3000),
    ):
        counts, firsts = np.zeros(3), [[], [], []]
        for _ in range(reps):
            for i, fires in enumerate(fleet_run(rng, change + post, shifts, change)):
                after = [t - change + 1 for t in fires if t >= change]
                counts[i] += len(after)
                firsts[i].append(after[0] if after else math.inf)
        first = " / ".join(
            f"{np.mean([d for d in f if math.isfinite(d)]):.0f}"
            if any(math.isfinite(d) for d in f)
            else "-"
            for f in firsts
        )
        per_run = counts / reps
        print(f"{label:<34}{per_run[0]:>8.2f}{per_run[1]:>8.2f}{per_run[2]:>9.2f}   {first}")


def throughput(seconds: float) -> float:
    """Statistic updates/s of a self-starting monitor past its growth (AR(1) statistics)."""
    rng = np.random.default_rng(3)
    names = ("brightness", "sharpness", "embedding_distance", "confidence")
    mon = CameraDriftMonitor(CONFIG)
    rows = [dict(zip(names, r, strict=True)) for r in np.c_[[ar1(rng, 60_000) for _ in names]].T]
    for i, row in enumerate(rows[:10_000]):  # the reference grows to its full size
        mon.update(row, frame_id=str(i), at=i / 2.0)
    rows = rows[10_000:]
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for i, row in enumerate(rows):
            mon.update(row, frame_id="f", at=(done + i) / 2.0)
        done += len(rows)
    return done * len(names) / (time.perf_counter() - t0)


# -- tables ------------------------------------------------------------------------------
def false_alarm_table(quick: bool, seed: int) -> None:
    plans = [
        ("from the start", (10, 10_000) if quick else (100, 10_000), False),
        ("long run", (1, 100_000) if quick else (4, 1_000_000), True),
    ]
    print(
        "\nfalse alarms per 100,000 frames per camera, all statistics, watched from frame "
        f"{WATCHED_FROM} (self-starting), [95 % Poisson interval]"
    )
    print(
        f"{'stream':<26}{'stats':>6}{'cameras x frames':>20}{'framegate':>22}{'ADWIN':>9}{'PH':>9}"
    )
    for kind, label in (
        ("iid", "independent N(0,1)"),
        ("ar1", f"AR(1) phi={PHI}"),
        ("real", "real vtest.avi (static)"),
    ):
        for plan, (cams, n), river in plans:
            if kind == "real" and plan == "from the start" and not quick:
                cams = 300  # two statistics: cheap, and the start is what is in question
            r = false_alarms(kind, cams, n, seed, river=river)
            rv = [
                f"{r[k][0] * 1e5 / r[k][1]:.1f}" if r[k][1] else "-"
                for k in ("river ADWIN", "river PH")
            ]
            print(
                f"{label:<26}{r['metrics'][0]:>6}{f'{cams} x {n:,}':>20}"
                f"{per_1e5(*r['framegate']):>22}{rv[0]:>9}{rv[1]:>9}"
                f"   ({plan}; {r['early'][0]} in frames 300-3,000)"
            )


def delay_table(reps: int) -> None:
    print(
        "\ndetection delay in frames (mean median p90 misses), a new camera changing at frame "
        f"300 or at frame 3,000, and calibrated (issue 5's setting); {reps} runs, 2x on steps"
    )
    keys = ("@300", "@3000", "calibrated", "oracle")
    print(f"{'change':<26}" + "".join(f"{k:>22}" for k in keys) + "  @3000/oracle")
    for i, (label, make, horizon) in enumerate(DELAY_CASES):
        d = delays(make, reps * (2 if "step" in label else 1), seed=100 + i, horizon=horizon)
        ratio = ""
        fin = [x for x in d["@3000"] if math.isfinite(x)]
        if d["oracle"] and fin:
            ratio = f"  x{np.mean(fin) / np.mean(d['oracle']):.2f}"
        print(f"{label:<26}" + "".join(f"{fmt(d[k]):>22}" for k in keys) + ratio)


def scenes_tables(seeds: int) -> None:
    print(
        f"\nday and night (real footage, {drift_scenes.DAYS} days of {drift_scenes.DAY_FRAMES} "
        "frames, default configuration): alerts from the light cycle per day, fog on day 3 "
        "at 13:00 (delay in frames) vs the same fog on a steady camera"
    )
    for seed in range(seeds):
        r = drift_scenes.day_night(seed)
        per_day = " / ".join(",".join(a) or "none" for a in r.cycle_alerts)
        print(
            f"  seed {seed}: cycle alerts {per_day}; "
            f"fog {r.fog_delay} vs steady {r.steady_fog_delay}"
        )
    print(
        "\nno drift setting (GateConfig().drift), three street cameras at 10 frames/s, 2,400 "
        "frames: dusk from 1,200 (target <= 700 frames), fog at 1,500 (<= 150), steady (0)"
    )
    for seed in range(seeds):
        r = drift_scenes.defaults(seed)
        print(
            f"  seed {seed}: dusk {r.dusk_delay}, fog {r.fog_delay}, steady alerts "
            f"{r.steady_alerts}, alerts before a change {r.early_alerts}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer frames and repetitions")
    ap.add_argument("--seed", type=int, default=11, help="seed of the no-change streams")
    args = ap.parse_args()
    t0 = time.perf_counter()
    print(
        f"config: {CONFIG.target_false_alarms_per_day}/camera/day over "
        f"{CONFIG.expected_metrics} statistics at {CONFIG.frame_rate} fps "
        f"= 1 per {CONFIG.frames_per_false_alarm(2.0):,.0f} frames; design shifts "
        f"{CONFIG.design_shifts}; watched from {CONFIG.warmup_frames}, reference grows to "
        f"{CONFIG.reference_size}"
    )
    false_alarm_table(args.quick, args.seed)
    delay_table(5 if args.quick else 50)
    scenes_tables(1 if args.quick else 5)
    fleet_table(3 if args.quick else 20, 30_000 if args.quick else 400_000)
    rate = throughput(3.0 if args.quick else 10.0)
    print(f"\nthroughput: {rate:,.0f} statistic updates/s on one core (4 AR(1) statistics)")
    print(f"total bench time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
