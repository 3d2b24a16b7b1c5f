"""Factories for real test images and frame messages."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import cv2
import numpy as np

T0 = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


@cache
def photo(name: str = "astronaut", size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """A real photo shipped with scikit-image or scikit-learn, as BGR at ``size``."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_images

        rgb = dict(zip(("china", "flower"), load_sample_images().images, strict=True))[name]
    else:
        from skimage import data

        rgb = getattr(data, name)()
        if rgb.ndim == 2:
            rgb = np.stack([rgb] * 3, axis=-1)
    return cv2.resize(
        np.ascontiguousarray(rgb[..., :3][..., ::-1]), size, interpolation=cv2.INTER_AREA
    )


def jpeg(bgr: np.ndarray, quality: int = 90) -> bytes:
    ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buffer.tobytes()


def jittered(bgr: np.ndarray, seed: int) -> np.ndarray:
    """The same scene a moment later: sensor noise and a little flicker."""
    rng = np.random.default_rng(seed)
    noisy = bgr.astype(np.float32) * (1 + rng.normal(0, 0.01)) + rng.normal(0, 2.0, bgr.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def frame_doc(
    camera_id: str = "cam-1", index: int = 0, data: bytes | None = None, **fields: Any
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "schema_version": 1,
        "frame_id": f"{camera_id}:{index:06d}",
        "camera_id": camera_id,
        "captured_at": (T0 + timedelta(seconds=index / 5)).isoformat(),
        "image": {
            "encoding": "jpeg",
            "data": base64.b64encode(data if data is not None else jpeg(photo())).decode(),
        },
    }
    document.update(fields)
    return document


def frame_bytes(*args: Any, **kwargs: Any) -> bytes:
    return json.dumps(frame_doc(*args, **kwargs)).encode()


@cache
def _street_frames() -> tuple[np.ndarray, ...]:
    from framegate.streams.cli.simulator import VTEST
    from framegate.streams.media import video_frames

    # real street footage (Debian's opencv-doc) when installed
    return tuple(
        cv2.resize(frame, (640, 480), interpolation=cv2.INTER_AREA)
        for frame in video_frames(VTEST, 200)
    )


def street(index: int) -> np.ndarray:
    """Frame ``index`` of a fixed camera watching a scene that moves: OpenCV's vtest.avi when
    it is installed, else a shipped photo with a car-sized box driving through it."""
    frames = _street_frames()
    if frames:
        return jittered(frames[index % len(frames)], index)
    scene = photo("astronaut").copy()
    x = (index * 11) % (640 + 120) - 120
    y = 240 + int(60 * np.sin(index / 9))
    cv2.rectangle(scene, (x, y), (x + 120, y + 54), (40, 40, 180), thickness=-1)
    return jittered(scene, index)
