"""Fault episodes: what replaces a camera's next frame(s), for every fault and camera kind.

Image faults (:mod:`bench.faults`) change one frame. The others are made here: sizes and
aspect ratios, copies (exact and near, of the camera's own older frames or of another
camera's), freezes, moves and gaps. Implementation A is the tuning part's, B the held-out
part's (see :mod:`bench.faults`).

A copy is only injected where it is a fault someone could see: its source must differ
visibly from the frame it replaces (on a still scene an old frame *is* the present one; that
is ``frozen``'s business). :func:`episode` returns None when no such source exists.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from bench.corpus import Camera
from bench.faults import IMAGE_FAULTS, Context, Injected, Source, _u8
from bench.frames import encode

SCENE_ONLY = {"camera_moved", "obstructed"}  # a fixed view is needed for these to mean anything
NOT_SNAPSHOT = {"frozen"}  # a snapshot camera repeating a picture sends a duplicate


def applies(fault: str, camera: Camera) -> bool:
    """Whether ``fault`` means something on ``camera``'s kind."""
    if fault in SCENE_ONLY and camera.kind not in ("fixed", "patrol"):
        return False
    if fault in NOT_SNAPSHOT and camera.kind == "snapshot":
        return False
    return not (fault == "grayscale" and camera.grey)


def _image(name: str) -> Callable[[Context, int], list[Injected] | None]:
    def make(c: Context, lv: int) -> list[Injected]:
        f = IMAGE_FAULTS[name](c.frame(), lv, c.rng, c.impl)
        return [Injected(encode(f, 90), c.gap)]

    return make


def _odd_size(c: Context, lv: int) -> list[Injected]:
    f = c.frame()
    h, w = f.shape[:2]
    if c.impl == "A":
        short = (90, 64, 24)[lv]
        s = short / min(h, w)
        small = cv2.resize(f, (max(1, round(w * s)), max(1, round(h * s))), cv2.INTER_AREA)
    else:  # a small crop, sent as it is
        short = (88, 56, 20)[lv]
        side = int(min(h, w) * c.rng.uniform(0.3, 0.6))
        y, x = int(c.rng.integers(0, h - side)), int(c.rng.integers(0, w - side))
        small = cv2.resize(f[y : y + side, x : x + side], (short * 4 // 3, short), cv2.INTER_AREA)
    return [Injected(encode(small, 90), c.gap)]


def _aspect(c: Context, lv: int) -> list[Injected]:
    f = c.frame()
    h, w = f.shape[:2]
    ratio = (2.7, 3.5, 6.0)[lv]
    if c.impl == "A":  # a horizontal strip
        sh = max(8, int(w / ratio))
        y = (h - sh) // 2 if sh < h else 0
        out = f[y : y + sh]
    else:  # squeezed into a tall frame
        out = cv2.resize(f, (max(8, int(h / ratio)), h), interpolation=cv2.INTER_AREA)
    return [Injected(encode(out, 90), c.gap)]


def _earlier(
    c: Context, lo: int, hi: int, own: bool, *, visible: bool = True
) -> tuple[Camera, int] | None:
    """A frame of this camera ``lo``-``hi`` frames back (``own``), or another camera's
    frame sent in the last ``hi`` of this camera's intervals, that differs visibly from the
    frame being replaced; None if there is none."""
    r, cam, i = c.rng, c.camera, c.index
    now = cam.times[i]
    here = _thumb(c.frame())
    if own:
        pool = [(cam, k) for k in range(max(0, i - hi), i - lo + 1)]
    else:
        span = now - cam.times[max(0, i - hi)]
        pool = []
        for other in c.others:
            ks = [k for k, t in enumerate(other.times) if now - span <= t < now]
            pool += [(other, k) for k in ks]
    order = r.permutation(len(pool))
    for j in order[:40]:
        src, k = pool[int(j)]
        img = cv2.imdecode(np.frombuffer(src.frames[k], np.uint8), cv2.IMREAD_COLOR)
        if not visible or _visibly_different(here, _thumb(img)):
            return src, k
    return None


def _thumb(f: np.ndarray) -> np.ndarray:
    g = cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)
    return cv2.resize(g, (32, 24), interpolation=cv2.INTER_AREA).astype(np.float32)


def _visibly_different(a: np.ndarray, b: np.ndarray) -> bool:
    """Some part of the picture (a 1/64 block) changed by 12 grey levels or more."""
    da = cv2.resize(np.abs(a - b), (8, 6), interpolation=cv2.INTER_AREA)
    return float(da.max()) >= 12.0


def _exact(c: Context, lv: int) -> list[Injected] | None:
    own = c.impl == "A"  # B: another camera's frame, byte for byte
    lo, hi = ((1, 3), (4, 20), (21, 60))[lv]
    found = _earlier(c, lo, hi, own, visible=False) or _earlier(c, lo, hi, not own, visible=False)
    if found is None:
        return None
    src, k = found
    c.source = Source(src.name, k)
    return [Injected(src.frames[k], c.gap)]


def _copy(f: np.ndarray, lv: int, r: np.random.Generator, impl: str) -> np.ndarray:
    """A copy as a re-sender makes it: re-scaled, cropped, colour-jittered."""
    h, w = f.shape[:2]
    scale = (r.uniform(0.15, 0.2), r.uniform(0.08, 0.12), 0.0)[lv] * r.choice([-1, 1])
    crop = (r.uniform(0.04, 0.05), r.uniform(0.02, 0.03), 0.0)[lv]
    jitter = (0.1, 0.05, 0.0)[lv]
    if impl == "A":  # symmetric crop, area resampling, gain and offset
        y, x = int(crop * h / 2), int(crop * w / 2)
        f = f[y : h - y, x : w - x]
        interp = cv2.INTER_AREA
        f = _u8(f * (1 + r.uniform(-jitter, jitter)) + r.uniform(-jitter, jitter) * 100)
    else:  # crop from one or two sides, cubic resampling, gamma and saturation
        y, x = int(crop * h), int(crop * w)
        top, left = r.random() < 0.5, r.random() < 0.5
        f = f[y if top else 0 : h if top else h - y, x if left else 0 : w if left else w - x]
        interp = cv2.INTER_CUBIC
        g = 1 + r.uniform(-jitter, jitter) * 1.5
        f = _u8(255.0 * (f / 255.0) ** g)
        hsv = cv2.cvtColor(f, cv2.COLOR_BGR2HSV).astype(np.float32)
        hsv[..., 1] *= 1 + r.uniform(-jitter, jitter) * 3
        f = cv2.cvtColor(_u8(hsv), cv2.COLOR_HSV2BGR)
    size = (max(8, round(w * (1 + scale))), max(8, round(h * (1 + scale))))
    return cv2.resize(f, size, interpolation=interp)


def _near(c: Context, lv: int) -> list[Injected] | None:
    own = c.camera.kind == "snapshot" or c.rng.random() < 0.7
    found = _earlier(c, 4, 60, own) or _earlier(c, 4, 60, not own)
    if found is None:
        return None
    src, k = found
    c.source = Source(src.name, k)
    img = cv2.imdecode(np.frombuffer(src.frames[k], np.uint8), cv2.IMREAD_COLOR)
    quality = int(c.rng.integers(70, 90))
    return [Injected(encode(_copy(img, lv, c.rng, c.impl), quality), c.gap)]


def _clock(f: np.ndarray, t: float) -> np.ndarray:
    out = f.copy()
    h, w = f.shape[:2]
    text = f"2026-12-02 06:{int(t) // 60 % 60:02d}:{int(t) % 60:02d}.{int(t * 10) % 10}"
    cv2.putText(out, text, (8, h - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.45 * w / 640, (255,) * 3, 1)
    return out


def _frozen(c: Context, lv: int) -> list[Injected]:
    still = c.frame(c.index - 1)
    out, t = [], c.camera.times[c.index - 1]
    for _ in range(4):
        t += c.gap
        f = _clock(still, t) if c.impl == "B" else still
        if lv == 0:
            f = _u8(f + c.rng.normal(0, 1.0, f.shape))
        q = int(c.rng.integers(80, 96)) if lv == 1 else 90
        out.append(Injected(encode(f, q), c.gap))
    return out


def _moved(c: Context, lv: int) -> list[Injected] | None:
    cam = c.camera
    if c.index + 3 > len(cam.frames):
        return None
    r = c.rng
    f0 = c.frame()
    h, w = f0.shape[:2]
    if c.impl == "A":
        frac = (0.04, 0.08, 0.15)[lv]
        a = r.uniform(0, 2 * np.pi)
        m = np.float32([[1, 0, frac * w * np.cos(a)], [0, 1, frac * w * np.sin(a)]])
    else:  # knocked: turned and tilted about a point near the mount
        angle = (3.0, 6.0, 12.0)[lv] * r.choice([-1, 1])
        zoom = (1.03, 1.06, 1.12)[lv]
        m = cv2.getRotationMatrix2D((r.uniform(0, w), r.uniform(0, h)), angle, zoom)
    out = []
    for k in range(3):
        f = c.frame(c.index + k)
        moved = cv2.warpAffine(f, m, (w, h), borderMode=cv2.BORDER_REFLECT)
        gap = cam.times[c.index + k] - cam.times[c.index + k - 1]
        out.append(Injected(encode(moved, 90), gap))
    return out


def _dropped(c: Context, lv: int) -> list[Injected] | None:
    missing = (2, 5, 30)[lv]
    gap = c.gap * (1 + missing)
    if c.impl == "A":  # only the clock shows the gap
        return [Injected(c.camera.frames[c.index], gap)]
    k = c.index + missing  # the frames in between never arrived
    if k >= len(c.camera.frames):
        return None
    return [Injected(c.camera.frames[k], gap)]


EPISODES: dict[str, Callable[[Context, int], list[Injected] | None]] = {
    **{name: _image(name) for name in IMAGE_FAULTS},
    "odd_size": _odd_size,
    "odd_aspect_ratio": _aspect,
    "exact_duplicate": _exact,
    "near_duplicate": _near,
    "frozen": _frozen,
    "camera_moved": _moved,
    "dropped_frames": _dropped,
}


def episode(fault: str, c: Context, level: int) -> list[Injected] | None:
    """The frames that replace ``c.camera``'s frame ``c.index`` for ``fault`` at ``level``
    (0 mild, 1 moderate, 2 strong), or None where the fault cannot be made there."""
    return EPISODES[fault](c, level)
