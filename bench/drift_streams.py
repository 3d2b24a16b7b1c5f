"""Streams for the drift benchmark: synthetic statistics, real footage's, river, the oracle.

Real footage is OpenCV's ``vtest.avi`` (a static camera, Debian ``opencv-doc``) at 384x288
grey: per frame, brightness (mean) and sharpness (Laplacian variance) under fresh sensor
noise (sigma 2), for the clean frames and three changes (gain x0.9, 20 % fog, blur sigma
1), four noise variants each, cached in ``bench/.cache``. Long streams walk the 795 frames
forwards and backwards (no jumps).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from scipy.signal import lfilter
from scipy.stats import chi2

from framegate.detectors.drift import cusum_threshold
from framegate.streams.cli.simulator import VTEST
from framegate.streams.media import video_frames

CACHE = Path(__file__).resolve().parent / ".cache"
PHI = 0.9


def iid(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.normal(size=n)


def ar1(rng: np.random.Generator, n: int) -> np.ndarray:
    e = rng.normal(scale=math.sqrt(1 - PHI**2), size=n + 200)
    return lfilter([1.0], [1.0, -PHI], e)[200:]


def bernoulli(p: float) -> Callable[[np.random.Generator, int], np.ndarray]:
    return lambda rng, n: (rng.random(n) < p).astype(float)


def real_stats() -> dict[str, np.ndarray]:
    """Per condition, (variants, frames, 2) brightness/sharpness of real vtest.avi frames."""
    path = CACHE / "drift_vtest.npz"
    if path.exists():
        return dict(np.load(path))
    if not VTEST.exists():
        raise SystemExit(f"{VTEST} missing: apt-get install -y opencv-doc")
    frames = [
        cv2.resize(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), (384, 288)).astype(np.float32)
        for f in video_frames(VTEST)
    ]
    rng = np.random.default_rng(7)
    conditions = {
        "clean": lambda g: g,
        "darken": lambda g: g * 0.9,
        "fog": lambda g: 0.8 * g + 0.2 * 200.0,
        "blur": lambda g: cv2.GaussianBlur(g, (0, 0), 1.0),
    }
    out = {}
    for name, fn in conditions.items():
        vals = np.empty((4, len(frames), 2))
        for v in range(4):
            for i, g in enumerate(frames):
                noisy = np.clip(fn(g) + rng.normal(0, 2.0, g.shape).astype(np.float32), 0, 255)
                img = noisy.astype(np.uint8)
                vals[v, i] = img.mean(), cv2.Laplacian(img, cv2.CV_64F).var()
        out[name] = vals
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    return out


def real_walk(rng: np.random.Generator, n: int, n_frames: int, n_var: int) -> tuple:
    """Frame and noise-variant indices of a forwards-and-backwards walk through the video."""
    period = 2 * n_frames - 2
    t = (rng.integers(period) + np.arange(n)) % period
    idx = np.where(t < n_frames, t, period - t)
    return idx, rng.integers(n_var, size=n)


def river_alarms(factory: Callable, streams: dict) -> list[int]:
    """Frames at which a river detector (one per statistic, defaults) fired."""
    fires = set()
    for x in streams.values():
        d = factory()
        for t, v in enumerate(x.tolist()):
            d.update(v)
            if d.drift_detected:
                fires.add(t)
    return sorted(fires)


def oracle_delay(x: np.ndarray, start: int, shift: float, phi: float = 0.0) -> float:
    """Known-model CUSUM (ARL 1e5) on the AR(phi) residuals, from ``start``; delay or inf."""
    r = x[start:] - phi * x[start - 1 : -1] if phi else x[start:]
    sd = math.sqrt(1 - phi**2) if phi else 1.0
    mu = shift * (1 - phi) / sd
    k = mu / 2
    h = cusum_threshold(1e5, k)
    s = 0.0
    sign = 1 if shift > 0 else -1
    for i, v in enumerate((r / sd).tolist(), start=1):
        s = max(0.0, s + sign * v - abs(k))
        if s > h:
            return float(i)
    return math.inf


def per_1e5(alarms: int, frames: int) -> str:
    """Rate per 100,000 frames with its exact 95 % Poisson interval."""
    if not frames:
        return "-"
    lo = chi2.ppf(0.025, 2 * alarms) / 2 if alarms else 0.0
    hi = chi2.ppf(0.975, 2 * alarms + 2) / 2
    return f"{alarms * 1e5 / frames:.2f} [{lo * 1e5 / frames:.2f}-{hi * 1e5 / frames:.2f}]"
