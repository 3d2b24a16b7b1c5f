"""Real street footage for the drift benchmark (issue 14): a camera's days and nights, and
three cameras with no drift setting at all.

Frames are OpenCV's ``vtest.avi`` (a fixed street camera, Debian ``opencv-doc``), walked
forwards and backwards without jumps, each with fresh sensor noise (sigma 2 grey levels),
measured by the gate's own code: :func:`framegate.detectors.image_metrics.measure` and
:func:`framegate.detectors.gate.drift_statistics` (``brightness`` and contrast-free
``sharpness``), fed to a :class:`~framegate.detectors.drift.CameraDriftMonitor` with the
gate's default configuration (``GateConfig().drift``: no drift setting) and each frame's
``captured_at``. Statistics are cached in ``bench/.cache`` (seeded).

Days and nights: a day is :data:`DAY_FRAMES` frames (one every 30 s); the light follows
the sun (sunrise 06:00, sunset 18:00, twilight about 45 minutes), from full daylight
(an auto-exposed camera: flat) down to :data:`NIGHT_GAIN` of it at night; the camera
starts at 07:00 on day 1. A fog (20 % towards grey 200) comes on day 3 at 13:00 and stays;
the same fog on a steady camera (no light cycle, same frames and noise) is the comparison.

The defaults: 2,400 frames at 10 frames/s; one camera darkens from frame 1,200 (to half
the light at 2,400: a dusk of two minutes), one is fogged at frame 1,500, one stays steady.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from framegate.detectors.drift import CameraDriftMonitor, DriftEvent
from framegate.detectors.gate import GateConfig, drift_statistics
from framegate.detectors.image_metrics import measure
from framegate.streams.cli.simulator import VTEST
from framegate.streams.media import video_frames

CACHE = Path(__file__).resolve().parent / ".cache"
T0 = 1_790_000_000.0  # a Sunday, 00:00 UTC minus nothing in particular: any epoch works
DAY_S = 86_400.0
DAY_FRAMES = 2880
START_S = 7 * 3600.0  # the camera starts at 07:00
DAYS = 3
NIGHT_GAIN = 0.25
TWILIGHT = 0.1  # sun elevation (sine) over which the light goes from night to day
FOG_AT = 2 * DAY_FRAMES + 6 * DAY_FRAMES // 24  # day 3, 13:00
FOG = 0.2
DEFAULT_FRAMES, DEFAULT_RATE = 2400, 10.0
DUSK_FROM, FOG_FROM = 1200, 1500


@cache
def street(size: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """vtest.avi's frames as float32 BGR at ``size`` (width, height)."""
    if not VTEST.exists():
        raise SystemExit(f"{VTEST} missing: apt-get install -y opencv-doc")
    return tuple(
        cv2.resize(f, size, interpolation=cv2.INTER_AREA).astype(np.float32)
        for f in video_frames(VTEST)
    )


def walk(rng: np.random.Generator, n: int, frames: int) -> np.ndarray:
    """Indices of a forwards-and-backwards walk through ``frames`` frames (no jumps)."""
    period = 2 * frames - 2
    t = (rng.integers(period) + np.arange(n)) % period
    return np.where(t < frames, t, period - t)


def light(seconds: np.ndarray) -> np.ndarray:
    """Light (gain) at camera time ``seconds``: 1 by day, :data:`NIGHT_GAIN` at night."""
    elevation = np.sin(2 * math.pi * ((seconds % DAY_S) - 6 * 3600.0) / DAY_S)
    u = np.clip((elevation + TWILIGHT) / (2 * TWILIGHT), 0.0, 1.0)
    return NIGHT_GAIN + (1.0 - NIGHT_GAIN) * u * u * (3.0 - 2.0 * u)


def measured(
    key: str, size: tuple[int, int], idx: np.ndarray, gain: np.ndarray, fog: np.ndarray, seed: int
) -> np.ndarray:
    """(frames, 2) brightness and sharpness of the walked frames under ``gain`` and
    ``fog`` with fresh noise, as the gate measures them (cached under ``key``)."""
    path = CACHE / f"drift_{key}.npy"
    if path.exists():
        return np.load(path)
    frames, rng = street(size), np.random.default_rng(seed)
    out = np.empty((len(idx), 2))
    for i, (j, g, f) in enumerate(zip(idx.tolist(), gain.tolist(), fog.tolist(), strict=True)):
        img = frames[j] * g
        if f:
            img = (1.0 - f) * img + f * 200.0
        img = img + rng.normal(0.0, 2.0, img.shape).astype(np.float32)
        stats = drift_statistics(measure(np.clip(img, 0, 255).astype(np.uint8)).metrics)
        out[i] = stats["brightness"], stats["sharpness"]
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


def replay(stats: np.ndarray, times: np.ndarray, camera: str) -> list[tuple[int, DriftEvent]]:
    """Every event of a default-configured monitor fed ``stats`` at ``times``."""
    mon = CameraDriftMonitor(GateConfig().drift)
    out = []
    for i, ((b, s), at) in enumerate(zip(stats.tolist(), times.tolist(), strict=True)):
        for e in mon.update({"brightness": b, "sharpness": s}, frame_id=f"{camera}:{i}", at=at):
            out.append((i, e))
    return out


def first_firing(events: list[tuple[int, DriftEvent]], start: int) -> float:
    """Delay (frames, 1 = the first changed frame) of the first firing at or after
    ``start``; inf when none."""
    after = [i for i, e in events if e.status == "firing" and i >= start]
    return after[0] - start + 1 if after else math.inf


@dataclass
class DayNight:
    """One seed of the day/night scenario."""

    cycle_alerts: list[list[str]]  # per day: the statistics that fired (light cycle, no fog)
    fog_delay: float  # frames, light cycle
    steady_fog_delay: float  # frames, no light cycle
    silent_days: int  # days after which the cycle was recognised


def day_night(seed: int, size: tuple[int, int] = (160, 120)) -> DayNight:
    n = DAYS * DAY_FRAMES
    rng = np.random.default_rng(seed)
    idx = walk(rng, n, len(street(size)))
    seconds = START_S + np.arange(n) * (DAY_S / DAY_FRAMES)
    times = T0 + seconds
    gain, none = light(seconds), np.zeros(n)
    fog = np.where(np.arange(n) >= FOG_AT, FOG, 0.0)
    key = f"daynight_{size[0]}_{seed}"
    cycle = measured(f"{key}_cycle", size, idx, gain, none, seed)
    foggy = measured(f"{key}_fog", size, idx, gain, fog, seed)
    steady = measured(f"{key}_steady_fog", size, idx, np.ones(n), fog, seed)
    events = replay(cycle, times, "cycle")
    per_day: list[list[str]] = [[] for _ in range(DAYS)]
    for i, e in events:
        if e.status == "firing":
            per_day[i // DAY_FRAMES].append(e.metric)
    return DayNight(
        cycle_alerts=per_day,
        fog_delay=first_firing(replay(foggy, times, "fog"), FOG_AT),
        steady_fog_delay=first_firing(replay(steady, times, "steady"), FOG_AT),
        silent_days=sum(1 for d in per_day[1:] if not d),
    )


@dataclass
class Defaults:
    """One seed of the issue's three cameras, no drift setting."""

    dusk_delay: float
    fog_delay: float
    steady_alerts: int
    early_alerts: int  # on the dusk and fog cameras before their change


def defaults(seed: int, size: tuple[int, int] = (320, 240)) -> Defaults:
    n = DEFAULT_FRAMES
    rng = np.random.default_rng(seed)
    times = T0 + 12 * 3600.0 + np.arange(n) / DEFAULT_RATE
    ramp = np.clip((np.arange(n) - DUSK_FROM) / (n - DUSK_FROM), 0.0, 1.0)
    cams: dict[str, tuple[np.ndarray, np.ndarray, int]] = {
        "dusk": (1.0 - 0.5 * ramp, np.zeros(n), DUSK_FROM),
        "fog": (np.ones(n), np.where(np.arange(n) >= FOG_FROM, FOG, 0.0), FOG_FROM),
        "steady": (np.ones(n), np.zeros(n), n),
    }
    delays, early = {}, {}
    for c, (gain, fog, onset) in cams.items():
        idx = walk(rng, n, len(street(size)))
        stats = measured(f"defaults_{c}_{seed}", size, idx, gain, fog, seed * 10 + len(c))
        events = replay(stats, times, c)
        early[c] = sum(1 for i, e in events if e.status == "firing" and i < onset)
        delays[c] = first_firing(events, onset)
    return Defaults(
        dusk_delay=delays["dusk"],
        fog_delay=delays["fog"],
        steady_alerts=early["steady"],
        early_alerts=early["dusk"] + early["fog"],
    )
