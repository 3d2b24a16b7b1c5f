"""Camera streams of every kind, in two parts that share no source: tuning and held-out.

Each part has fixed cameras (real street footage or a photographed scene with passers-by,
flicker and sensor noise), a grey night/IR camera, a patrol camera cycling between presets of
one scene, moving cameras (a pan-and-zoom path through a video or over a large picture, and a
real tilting shot), and snapshot cameras (unrelated photographs; Fashion-MNIST products).
See :mod:`bench.corpus_sources` for which material goes where.

Built once per part (seeded) and cached in ``bench/.cache/corpus-<part>.pkl``. Every camera
records its kind as designed, so the evaluation can say how well the kind was recognised.
"""

from __future__ import annotations

import pickle  # only our own cache files, never anything read from a topic
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from bench.corpus_sources import PARTS, fashion, is_grey, photos, tiles, video
from bench.frames import CACHE, encode

VERSION = 3


@dataclass
class Camera:
    """One clean camera stream: JPEG frames in order and their capture times (seconds)."""

    name: str
    part: str
    kind: str  # fixed, patrol, moving, snapshot
    grey: bool  # a monochrome (night/IR) camera: grayscale faults are not injected
    frames: list[bytes]
    times: list[float]
    grey_frames: set[int] = field(default_factory=set)  # snapshots of a grey photograph


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0, 255).astype(np.uint8)


def _times(n: int, dt: float, rng: np.random.Generator, jitter: float = 0.05) -> list[float]:
    return list(np.cumsum(dt * (1 + rng.uniform(-jitter, jitter, n))))


class _Life:
    """Passers-by: small textured blobs crossing the view at their own speed."""

    def __init__(self, pool: list[np.ndarray], rng: np.random.Generator, size: tuple[int, int]):
        self.pool, self.rng, (self.w, self.h) = pool, rng, size
        self.walkers: list[list] = []

    def _spawn(self) -> None:
        r = self.rng
        src = self.pool[int(r.integers(len(self.pool)))]
        bw = int(r.uniform(0.06, 0.16) * self.w)
        bh = int(bw * r.uniform(1.2, 2.2))
        sh, sw = src.shape[:2]
        y0, x0 = int(r.integers(0, max(1, sh - bh))), int(r.integers(0, max(1, sw - bw)))
        patch = src[y0 : y0 + bh, x0 : x0 + bw]
        patch = cv2.resize(patch, (bw, bh), interpolation=cv2.INTER_AREA).astype(np.float32)
        alpha = np.zeros((bh, bw), np.float32)
        cv2.ellipse(alpha, (bw // 2, bh // 2), (bw // 2 - 1, bh // 2 - 1), 0, 0, 360, 1.0, -1)
        alpha = cv2.GaussianBlur(alpha, (0, 0), 2)[..., None]
        left = r.random() < 0.5
        x = -bw if left else self.w
        y = r.uniform(0.3, 0.95) * self.h - bh
        speed = r.uniform(0.004, 0.02) * self.w * (1 if left else -1)
        self.walkers.append([x, y, speed, r.uniform(-0.3, 0.3), patch, alpha])

    def draw(self, frame: np.ndarray) -> np.ndarray:
        if len(self.walkers) < 3 and self.rng.random() < 0.06:
            self._spawn()
        out = frame.astype(np.float32)
        alive = []
        for wk in self.walkers:
            x, y, vx, vy, patch, alpha = wk
            wk[0], wk[1] = x + vx, y + vy
            bh, bw = patch.shape[:2]
            xi, yi = int(round(x)), int(round(y))
            x0, y0 = max(xi, 0), max(yi, 0)
            x1, y1 = min(xi + bw, self.w), min(yi + bh, self.h)
            if x1 > x0 and y1 > y0:
                p = patch[y0 - yi : y1 - yi, x0 - xi : x1 - xi]
                a = alpha[y0 - yi : y1 - yi, x0 - xi : x1 - xi]
                out[y0:y1, x0:x1] = out[y0:y1, x0:x1] * (1 - a) + p * a
            if -bw - 5 <= wk[0] <= self.w + 5:
                alive.append(wk)
        self.walkers = alive
        return out


def _sensor(f: np.ndarray, rng: np.random.Generator, sigma: float, gain: float) -> np.ndarray:
    return _u8(f * gain + rng.normal(0, sigma, f.shape))


def _quality(rng: np.random.Generator, base: int) -> int:
    return int(np.clip(base + rng.integers(-2, 3), 60, 98))


def _photo_camera(name, part, scene, pool, rng, n, *, grey=False, size=(640, 480)) -> Camera:
    """A fixed camera watching a photographed scene: passers-by, tripod shake, slow light
    changes, flicker and sensor noise."""
    base = cv2.resize(scene, size, interpolation=cv2.INTER_AREA)
    life = _Life(pool, rng, size)
    q = int(rng.integers(86, 94))
    light = 1.0
    frames = []
    for _ in range(n):
        light = float(np.clip(light + rng.normal(0, 0.004), 0.9, 1.1))
        m = np.float32([[1, 0, rng.uniform(-0.6, 0.6)], [0, 1, rng.uniform(-0.6, 0.6)]])
        f = cv2.warpAffine(base, m, size, borderMode=cv2.BORDER_REFLECT)
        f = life.draw(f)
        if grey:
            f = cv2.cvtColor(_u8(f), cv2.COLOR_BGR2GRAY)[..., None].repeat(3, 2).astype(np.float32)
            f = cv2.GaussianBlur(f, (0, 0), 0.6)
            f = _sensor(f, rng, 0.0, light * rng.uniform(0.99, 1.01))
            g = _u8(f[..., 0] + rng.normal(0, 3.0, f.shape[:2]))
            f = np.repeat(g[..., None], 3, axis=2)
        else:
            f = _sensor(f, rng, 1.8, light * rng.uniform(0.99, 1.01))
        frames.append(encode(f, _quality(rng, q)))
    return Camera(name, part, "fixed", grey, frames, _times(n, 0.2, rng))


def _video_camera(name, part, clip, rng, *, kind="fixed", size=(640, 480), dt=0.1) -> Camera:
    q = int(rng.integers(86, 94))
    frames = [
        encode(cv2.resize(f, size, interpolation=cv2.INTER_AREA), _quality(rng, q)) for f in clip
    ]
    return Camera(name, part, kind, False, frames, _times(len(frames), dt, rng, 0.02))


def _window(src: np.ndarray, cx, cy, scale, angle, size) -> np.ndarray:
    """The view of a camera centred at (cx, cy) of ``src`` showing ``scale`` of its width."""
    h, w = src.shape[:2]
    out_w, out_h = size
    zoom = out_w / (scale * w)
    m = cv2.getRotationMatrix2D((cx, cy), angle, zoom)
    m[0, 2] += out_w / 2 - cx
    m[1, 2] += out_h / 2 - cy
    return cv2.warpAffine(src, m, size, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)


def _path(n: int, rng: np.random.Generator, speed: float, stops: bool = True) -> np.ndarray:
    """A smooth random path (x, y, scale, angle) in [0, 1] units with momentum and stops."""
    pos = np.array([0.5, 0.5])
    vel = rng.normal(0, 1, 2)
    vel *= speed / np.linalg.norm(vel)
    scale, angle, out, pause = 0.7, 0.0, [], 0
    for _ in range(n):
        if stops and pause == 0 and rng.random() < 0.01:
            pause = int(rng.integers(8, 20))
        if pause:
            pause -= 1
        else:
            vel = vel + rng.normal(0, 0.15 * speed, 2)
            vel *= speed / max(np.linalg.norm(vel), 1e-9)
            pos = pos + vel
            for k in range(2):  # bounce off the edges of the reachable area
                if not 0.3 <= pos[k] <= 0.7:
                    vel[k] = -vel[k]
                    pos[k] = np.clip(pos[k], 0.3, 0.7)
            scale = float(np.clip(scale + rng.normal(0, 0.004), 0.5, 0.85))
            angle = float(np.clip(angle + rng.normal(0, 0.08), -3, 3))
        out.append((pos[0], pos[1], scale, angle))
    return np.array(out)


def _moving_over(name, part, src_at, n, rng, *, size, speed, pool=None) -> Camera:
    """A moving camera: a pan-and-zoom path through ``src_at(i)`` (a video or a still; over
    a still, ``pool`` gives the scene some life: things moving on the ground)."""
    path = _path(n, rng, speed)
    q = int(rng.integers(85, 93))
    frames = []
    life = _Life(pool, rng, size) if pool else None
    for i, (x, y, scale, angle) in enumerate(path):
        src = src_at(i)
        h, w = src.shape[:2]
        f = _window(src, x * w, y * h, scale, angle, size).astype(np.float32)
        if life is not None:
            f = life.draw(f)
        frames.append(encode(_sensor(f, rng, 1.5, rng.uniform(0.98, 1.02)), _quality(rng, q)))
    return Camera(name, part, "moving", False, frames, _times(n, 0.1, rng))


def _patrol(name, part, src_at, presets, n, pool, rng, *, size=(640, 480)) -> Camera:
    """A PTZ camera touring ``presets`` (cx, cy, scale in [0, 1] units of ``src_at(i)``),
    dwelling 20-60 frames at each; a return lands within about 1 % of the preset."""
    life = _Life(pool, rng, size)
    q = int(rng.integers(86, 94))
    frames, k, left = [], 0, int(rng.integers(20, 60))
    off = rng.normal(0, 0.004, 2)
    for i in range(n):
        if left == 0:
            k = (k + 1) % len(presets)
            left = int(rng.integers(20, 60))
            off = rng.normal(0, 0.004, 2)
            life.walkers.clear()
        left -= 1
        src = src_at(i)
        h, w = src.shape[:2]
        cx, cy, scale = presets[k]
        f = _window(src, (cx + off[0]) * w, (cy + off[1]) * h, scale, 0.0, size)
        f = life.draw(f)
        frames.append(encode(_sensor(f, rng, 1.8, rng.uniform(0.98, 1.02)), _quality(rng, q)))
    return Camera(name, part, "patrol", False, frames, _times(n, 0.2, rng))


def _snapshots(name, part, pictures, rng, *, dt=2.0) -> Camera:
    """Unrelated photographs, each sent once, at their own size (long side 320-800)."""
    frames, grey = [], set()
    order = rng.permutation(len(pictures))
    for j, i in enumerate(order):
        pic = pictures[int(i)]
        h, w = pic.shape[:2]
        long = rng.uniform(320, 800)
        s = min(1.0, long / max(h, w))
        pic = cv2.resize(
            pic, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA
        )
        if is_grey(pic):
            grey.add(j)
        frames.append(encode(pic, int(rng.integers(80, 96))))
    cam = Camera(name, part, "snapshot", False, frames, _times(len(frames), dt, rng, 0.2))
    cam.grey_frames = grey
    return cam


def _products(name, part, items: np.ndarray, n: int, rng, *, dt=1.0) -> Camera:
    """A product-photo camera: Fashion-MNIST items, 4x enlarged (112 px), one each."""
    chosen = rng.choice(len(items), size=min(n, len(items)), replace=False)
    frames = []
    for i in chosen:
        img = cv2.resize(items[int(i)], (112, 112), interpolation=cv2.INTER_CUBIC)
        frames.append(encode(np.repeat(img[..., None], 3, axis=2), int(rng.integers(85, 96))))
    cam = Camera(name, part, "snapshot", True, frames, _times(len(frames), dt, rng, 0.2))
    cam.grey_frames = set(range(len(frames)))
    return cam


def _looped(clip: list[np.ndarray]) -> Callable[[int], np.ndarray]:
    return lambda i: clip[i % len(clip)]


def _width(img: np.ndarray, width: int) -> np.ndarray:
    h, w = img.shape[:2]
    return cv2.resize(img, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)


def _build(part: str, seed: int) -> list[Camera]:
    rng = np.random.default_rng(seed)
    pics = photos(part)
    colour = [p for _, p in pics if not is_grey(p)]
    cams: list[Camera] = []
    if part == "tuning":
        street = video("vtest.avi")
        named = dict(pics)
        if street:
            cams.append(_video_camera("t-street", part, street, rng))
            clip = street
        else:
            clip = [cv2.resize(named["china"], (768, 576))] * 795
        cams.append(_photo_camera("t-temple", part, named["china"], colour, rng, 400))
        cams.append(_photo_camera("t-ir", part, named["camera"], colour, rng, 400, grey=True))
        presets = [(0.3, 0.35, 0.55), (0.68, 0.4, 0.5), (0.5, 0.68, 0.6)]
        cams.append(_patrol("t-patrol", part, _looped(clip), presets, 600, colour, rng))
        cams.append(
            _moving_over("t-pan", part, _looped(clip), 500, rng, size=(640, 480), speed=0.006)
        )
        moto = _width(named["stereo_motorcycle"], 460)
        cams.append(
            _moving_over(
                "t-drone", part, lambda i: moto, 500, rng, size=(320, 240), speed=0.008, pool=colour
            )
        )
        items = fashion(part)
    else:
        named = dict(pics)
        cams.append(_photo_camera("h-leuven", part, named["leuvenA"], colour, rng, 400))
        cams.append(_photo_camera("h-building", part, named["building"], colour, rng, 400))
        cams.append(_photo_camera("h-ir", part, named["basketball1"], colour, rng, 400, grey=True))
        aloe = named["aloeL"]
        presets = [(0.3, 0.3, 0.5), (0.7, 0.3, 0.5), (0.3, 0.7, 0.5), (0.7, 0.7, 0.45)]
        cams.append(_patrol("h-patrol", part, lambda i: aloe, presets, 600, colour, rng))
        aero = _width(named["aero1"], 460)
        cams.append(
            _moving_over(
                "h-drone", part, lambda i: aero, 500, rng, size=(320, 240), speed=0.008, pool=colour
            )
        )
        mega = video("Megamind.avi")[12:]
        if mega:
            cams.append(_video_camera("h-tilt", part, mega, rng, kind="moving", dt=1 / 24))
        items = fashion(part)
    # The snapshot camera sends none of the pictures the other cameras watch: a fixed camera
    # on the scene of a photograph another camera sent would rightly be a copy of it.
    watched = {
        "china",
        "camera",
        "stereo_motorcycle",
        "leuvenA",
        "building",
        "basketball1",
        "aloeL",
        "aero1",
    }
    pictures = [t for n, p in pics if n not in watched for t in tiles(p)]
    cams.append(_snapshots(f"{part[0]}-photos", part, pictures, rng))
    if len(items):
        cams.append(_products(f"{part[0]}-products", part, items, 500, rng))
    return cams


def corpus(part: str, seed: int | None = None) -> list[Camera]:
    """Every camera of ``part`` ("tuning" or "heldout"), built once and cached."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    seed = (11 if part == "tuning" else 23) if seed is None else seed
    path = CACHE / f"corpus-{part}-{seed}-v{VERSION}.pkl"
    if path.exists():
        with path.open("rb") as fh:
            return pickle.load(fh)  # noqa: S301 - our own cache file
    cams = _build(part, seed)
    CACHE.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        pickle.dump(cams, fh)
    return cams
