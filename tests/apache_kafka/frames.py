"""Frames for the Apache Kafka tests: dark (so every one is flagged and gets a relabel
request), each with its own sensor noise (so none is an exact duplicate of another)."""

from __future__ import annotations

import collections
import json
from functools import cache

import numpy as np

from tests.factories import frame_bytes, jittered, jpeg, photo


@cache
def _dark() -> np.ndarray:
    return (photo("astronaut") * 0.06).astype(np.uint8)


@cache
def dark_jpeg(seed: int) -> bytes:
    return jpeg(jittered(_dark(), seed))


def dark_frames(cameras: list[str], indices: range, *, seed: int = 0) -> list[tuple[bytes, bytes]]:
    """``(key, value)`` messages: every camera's frames ``indices``, interleaved."""
    return [
        (camera.encode(), frame_bytes(camera, i, data=dark_jpeg(seed + 1000 * n + i)))
        for i in indices
        for n, camera in enumerate(cameras)
    ]


def frame_ids(messages: list[tuple[bytes, bytes]]) -> set[str]:
    return {json.loads(value)["frame_id"] for _, value in messages}


def request_ids_by_frame(requests: list[dict]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = collections.defaultdict(set)
    for request in requests:
        found[request["frame_id"]].add(request["request_id"])
    return found
