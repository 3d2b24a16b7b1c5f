"""Real 640x480 camera frames for the benchmarks, built once and cached under bench/.cache/.

Sources (nothing is downloaded): OpenCV's ``vtest.avi`` and ``tree.avi`` from Debian's
``opencv-doc`` package (fixed cameras), and the colour photos bundled with scikit-image and
scikit-learn, each turned into a short "camera" stream with small, seeded, natural
variation (sub-pixel jitter, gain, sensor noise, JPEG quality).
"""

from __future__ import annotations

import gzip
import pickle  # only for our own cache files, never for anything read from a topic
import shutil
from pathlib import Path

import cv2
import numpy as np

from framegate.streams.media import video_frames

CACHE = Path(__file__).resolve().parent / ".cache"
SIZE = (640, 480)
VIDEO_DIRS = (Path("/usr/share/doc/opencv-doc/examples/data"),)
PHOTO_FRAMES = 80


def _video_path(name: str) -> Path | None:
    for d in VIDEO_DIRS:
        if (d / name).exists():
            return d / name
        gz = d / f"{name}.gz"
        if gz.exists():
            out = CACHE / name
            if not out.exists():
                CACHE.mkdir(parents=True, exist_ok=True)
                with gzip.open(gz, "rb") as src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
            return out
    return None


def _video(name: str, limit: int) -> list[np.ndarray]:
    path = _video_path(name)
    if path is None:
        return []
    return [
        cv2.resize(frame, SIZE, interpolation=cv2.INTER_AREA) for frame in video_frames(path, limit)
    ]


def _photos() -> list[tuple[str, np.ndarray]]:
    from skimage import data
    from sklearn.datasets import load_sample_images

    out = []
    for name in (
        "astronaut",
        "coffee",
        "chelsea",
        "rocket",
        "immunohistochemistry",
        "hubble_deep_field",
    ):
        out.append((name, np.ascontiguousarray(getattr(data, name)()[:, :, ::-1])))
    for name, img in zip(("china", "flower"), load_sample_images().images, strict=True):
        out.append((name, np.ascontiguousarray(img[:, :, ::-1])))
    return [(n, cv2.resize(i, SIZE, interpolation=cv2.INTER_AREA)) for n, i in out]


def _photo_stream(photo: np.ndarray, rng: np.random.Generator, n: int) -> list[np.ndarray]:
    frames = []
    for _ in range(n):
        dx, dy = rng.uniform(-1.5, 1.5, 2)
        m = np.float32([[1, 0, dx], [0, 1, dy]])
        f = cv2.warpAffine(photo, m, SIZE, borderMode=cv2.BORDER_REFLECT)
        f = f.astype(np.float32) * rng.uniform(0.97, 1.03) + rng.normal(0, 1.5, f.shape)
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
    return frames


def encode(img: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    assert ok
    return buf.tobytes()


def cameras(seed: int = 0) -> dict[str, tuple[float, list[bytes]]]:
    """camera id -> (frame interval in seconds, JPEG frames in order). Cached."""
    path = CACHE / f"cameras-{seed}.pkl"
    if path.exists():
        with path.open("rb") as fh:
            return pickle.load(fh)  # noqa: S301 - our own cache file
    rng = np.random.default_rng(seed)
    cams: dict[str, tuple[float, list[bytes]]] = {}
    for name, limit, interval in (("vtest", 795, 0.1), ("tree", 444, 1 / 15)):
        frames = _video(f"{name}.avi", limit)
        if frames:
            cams[name] = (interval, [encode(f, 90) for f in frames])
    for name, photo in _photos():
        stream = _photo_stream(photo, rng, PHOTO_FRAMES)
        cams[name] = (0.2, [encode(f, int(rng.integers(88, 95))) for f in stream])
    CACHE.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        pickle.dump(cams, fh)
    return cams
