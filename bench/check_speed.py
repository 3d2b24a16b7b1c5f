"""Frames/s per core: decode + every image and sequence check, vs cleanvision 0.3.7.

Run: ``.venv/bin/python -m bench.check_speed [--frames 300]``

The same 640x480 JPEGs (vtest.avi, or the bundled photos when it is missing) go through
framegate (``decode_for_checks`` + ``CameraInspector.inspect``, one thread) and through
cleanvision's ``Imagelab.find_issues`` with ``n_jobs=1``; the bare full-size JPEG decode
rate is the ceiling. Inputs are built and cached before anything is timed.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import warnings
from pathlib import Path

import cv2
import numpy as np

from bench.frames import cameras
from framegate.detectors.inspector import CameraInspector, decode_for_checks
from framegate.detectors.policy import Policy


def _frames(n: int) -> list[bytes]:
    cams = cameras(0)
    out: list[bytes] = []
    for _, frames in cams.values():
        out.extend(frames)
    return out[:n]


def _rate(fn, frames: list[bytes], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(frames)
        best = min(best, time.perf_counter() - t0)
    return len(frames) / best


def framegate(frames: list[bytes]) -> None:
    insp = CameraInspector(Policy().defaults, camera_id="bench")
    for i, data in enumerate(frames):
        insp.inspect(
            decode_for_checks(data, max_pixels=50_000_000), frame_id=str(i), captured_at=i * 0.1
        )


def bare_decode(frames: list[bytes]) -> None:
    for data in frames:
        cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def cleanvision(frames: list[bytes]) -> float:
    from cleanvision import Imagelab

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        for i, data in enumerate(frames):
            (Path(tmp) / f"{i:05d}.jpg").write_bytes(data)
        lab = Imagelab(data_path=tmp)
        t0 = time.perf_counter()
        lab.find_issues(n_jobs=1, verbose=False)
        return len(frames) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--skip-cleanvision", action="store_true")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    frames = _frames(args.frames)
    fg = _rate(framegate, frames)
    dec = _rate(bare_decode, frames)
    print(f"{len(frames)} JPEGs of 640x480, one core")
    print(f"bare JPEG decode (full size)      {dec:8.1f} frames/s")
    print(f"framegate decode + all checks      {fg:8.1f} frames/s (target >= 300)")
    if not args.skip_cleanvision:
        cv = cleanvision(frames)
        print(f"cleanvision find_issues, n_jobs=1  {cv:8.1f} frames/s")
        print(f"framegate / cleanvision            {fg / cv:8.1f}x")


if __name__ == "__main__":
    main()
