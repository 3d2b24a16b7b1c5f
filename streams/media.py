"""Images and video as frames: JPEG encoding, video reading, frame messages from files.

Shared by the CLI (replay, calibrate), the demo, the dashboard and the benchmarks; knows no
Kafka, so anything that only needs pixels and messages can use it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from framegate.schemas import SCHEMA_VERSION

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg"}
ENCODINGS = {
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".png": "png",
    ".bmp": "bmp",
    ".webp": "webp",
    ".tif": "tiff",
    ".tiff": "tiff",
}


def encode_jpeg(bgr: np.ndarray, quality: int = 90) -> bytes:
    ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("OpenCV could not encode the frame as JPEG")
    return buffer.tobytes()


def frame_message(
    camera_id: str,
    index: int,
    data: bytes,
    *,
    encoding: str = "jpeg",
    captured_at: datetime,
    annotations: list[dict] | None = None,
    metadata: dict | None = None,
) -> bytes:
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "frame_id": f"{camera_id}:{index:06d}",
        "camera_id": camera_id,
        "captured_at": captured_at.isoformat().replace("+00:00", "Z"),
        "image": {"encoding": encoding, "data": base64.b64encode(data).decode("ascii")},
    }
    if annotations:
        document["annotations"] = annotations
    if metadata:
        document["metadata"] = metadata
    return json.dumps(document).encode()


def video_frames(path: Path, limit: int | None = None) -> Iterator[np.ndarray]:
    """BGR frames of a video file, in order (at most ``limit``); nothing if unreadable."""
    if not path.exists():
        return
    capture = cv2.VideoCapture(str(path))
    try:
        count = 0
        while limit is None or count < limit:
            ok, bgr = capture.read()
            if not ok:
                return
            yield bgr
            count += 1
    finally:
        capture.release()


def count_frames(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        if path.suffix.lower() in VIDEO_SUFFIXES:
            capture = cv2.VideoCapture(str(path))
            total += max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
            capture.release()
        else:
            total += 1
    return total


def expand(paths: list[Path]) -> list[Path]:
    """Files as given; folders become their images and videos in name order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES
            )
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path} does not exist")
    return found


def encoded_frames(paths: list[Path]) -> Iterator[tuple[bytes, str]]:
    """(encoded bytes, encoding) for every image file and every frame of every video."""
    for path in paths:
        suffix = path.suffix.lower()
        if suffix in VIDEO_SUFFIXES:
            for bgr in video_frames(path):
                yield encode_jpeg(bgr), "jpeg"
        else:
            yield path.read_bytes(), ENCODINGS.get(suffix, "jpeg")
