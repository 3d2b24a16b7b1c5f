"""Faults injected into the corpus: two implementations of each, one per part.

The tuning part gets implementation A, the held-out part implementation B, so thresholds
tuned on A are judged on faults made differently (Gaussian vs motion blur, gain vs gamma
darkening, Gaussian vs photon noise, ellipses vs flat polygons as occluders, symmetric vs
one-sided crops, and so on). Each fault has three severities; "moderate" is the target's.

A fault makes an *episode*: the frames that replace the camera's next frame(s), each a
:class:`Injected` that records the one fault it carries (for the cause-naming follow-up,
every faulty frame says exactly which single fault was injected, and how).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from bench.corpus import Camera

LEVELS = ("mild", "moderate", "strong")


@dataclass(frozen=True)
class Injected:
    """One frame of an episode: the bytes sent, the seconds since the previous frame, and
    whether this frame itself carries the fault (a move's later frames do; so does each
    frame of a freeze)."""

    data: bytes
    gap: float
    faulty: bool = True


@dataclass(frozen=True)
class Source:
    """Where a copy comes from: a camera and a frame index."""

    camera: str
    index: int


@dataclass
class Context:
    """What a fault may use: the camera, the index it replaces, the part's other cameras
    (for copies across the fleet), and the seeded generator."""

    camera: Camera
    index: int
    others: list[Camera]
    rng: np.random.Generator
    impl: str  # "A" (tuning) or "B" (held-out)
    source: Source | None = None  # set by the copy faults

    def frame(self, k: int | None = None) -> np.ndarray:
        data = self.camera.frames[self.index if k is None else k]
        return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)

    @property
    def gap(self) -> float:
        t = self.camera.times
        return t[self.index] - t[self.index - 1]


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0, 255).astype(np.uint8)


def _sc(f: np.ndarray) -> float:
    """Pixels per pixel of a 640-wide frame (sizes of blur kernels scale with the frame)."""
    return f.shape[1] / 640.0


# -- image faults: f (BGR uint8) -> BGR uint8 ------------------------------------------------
def dark(f, lv, r, impl):
    if impl == "A":
        return _u8(f * (0.5, 0.3, 0.15)[lv])
    return _u8(255.0 * (f / 255.0) ** (1.8, 2.6, 4.0)[lv])


def bright(f, lv, r, impl):
    if impl == "A":
        return _u8(255 - (255 - f.astype(np.float32)) * (0.5, 0.3, 0.15)[lv])
    return _u8(255.0 * (f / 255.0) ** (1 / (2.0, 3.5, 6.0)[lv]))


def low_contrast(f, lv, r, impl):
    k = (0.5, 0.3, 0.15)[lv]
    if impl == "A":  # fog: towards light grey
        return _u8(f * k + 200 * (1 - k))
    mean = f.reshape(-1, 3).mean(0)  # flat haze at the picture's own level and tint
    return _u8(f * k + mean * (1 - k))


def blurry(f, lv, r, impl):
    if impl == "A":
        return cv2.GaussianBlur(f, (0, 0), (1.0, 2.0, 4.0)[lv] * _sc(f))
    length = max(3, int(round((5, 9, 17)[lv] * _sc(f))))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), r.uniform(0, 180), 1)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    return cv2.filter2D(f, -1, kernel / kernel.sum())


def noisy(f, lv, r, impl):
    if impl == "A":
        return _u8(f + r.normal(0, (6, 12, 24)[lv], f.shape))
    peak = (260.0, 66.0, 17.0)[lv]  # photons at white: shot noise, then demosaicing blur
    photons = r.poisson(np.maximum(f.astype(np.float32), 0) / 255.0 * peak)
    noise = photons / peak * 255.0 - f
    return _u8(f + cv2.GaussianBlur(noise.astype(np.float32), (0, 0), 0.5))


def low_information(f, lv, r, impl):
    k = (0.25, 0.1, 0.0)[lv]
    if impl == "A":  # a lens cap or a blank wall
        return _u8(f * k + 120 * (1 - k) + r.normal(0, 2, f.shape))
    h, w = f.shape[:2]
    ramp = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    lo, hi = r.uniform(40, 200, 3), r.uniform(40, 200, 3)
    field = lo * (1 - ramp) + hi * ramp  # a smooth, coloured, featureless view
    return _u8(f * k + field * (1 - k) + r.normal(0, 1.5, f.shape))


def grayscale(f, lv, r, impl):
    if impl == "A":
        s = (0.85, 0.95, 1.0)[lv]
        g = cv2.cvtColor(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        return _u8(f * (1 - s) + g.astype(np.float32) * s)
    hsv = cv2.cvtColor(f, cv2.COLOR_BGR2HSV).astype(np.float32)
    hsv[..., 1] *= (0.15, 0.05, 0.0)[lv]
    return cv2.cvtColor(_u8(hsv), cv2.COLOR_HSV2BGR)


def exposure_clipped(f, lv, r, impl):
    if impl == "A":
        return _u8((f - f.mean()) * (1.6, 2.2, 3.5)[lv] + f.mean())
    grey = cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)
    q = (0.12, 0.2, 0.3)[lv]
    lo, hi = np.quantile(grey, q), np.quantile(grey, 1 - q)
    return _u8((f.astype(np.float32) - lo) * 255.0 / max(hi - lo, 1.0))


def obstructed(f, lv, r, impl):
    h, w = f.shape[:2]
    mask = np.zeros((h, w), np.float32)
    if impl == "A":
        area = (0.3, 0.5, 0.7)[lv]
        rx, ry = int(w * np.sqrt(area) * 1.2), int(h * np.sqrt(area) * 1.2)
        cx, cy = int(r.choice([0, w])), int(r.choice([0, h]))
        cv2.ellipse(mask, (cx, cy), (rx, ry), 0, 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), 8 * _sc(f))[..., None]
        colour = r.uniform(20, 90, 3).astype(np.float32)
        return _u8(f * (1 - mask) + colour * mask)
    area = (0.25, 0.45, 0.65)[lv]  # a flat sheet across one side, cut at a slant
    depth = area * w
    slant = r.uniform(-0.15, 0.15) * w
    pts = np.array([[0, 0], [depth + slant, 0], [depth - slant, h], [0, h]], np.int32)
    cv2.fillPoly(mask, [pts], 1.0)
    if r.random() < 0.5:
        mask = mask[:, ::-1].copy()
    mask = cv2.GaussianBlur(mask, (0, 0), 2)[..., None]
    shade = r.uniform(30, 230)
    ramp = np.linspace(-12, 12, h, dtype=np.float32)[:, None, None]
    sheet = shade + ramp + r.normal(0, 2, f.shape) + r.uniform(-10, 10, 3)
    return _u8(f * (1 - mask) + sheet * mask)


IMAGE_FAULTS: dict[str, Callable] = {
    "dark": dark,
    "bright": bright,
    "low_contrast": low_contrast,
    "blurry": blurry,
    "noisy": noisy,
    "low_information": low_information,
    "grayscale": grayscale,
    "exposure_clipped": exposure_clipped,
    "obstructed": obstructed,
}
