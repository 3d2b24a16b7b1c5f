"""Frames/s per core: decode + every image and sequence check, vs cleanvision 0.3.7.

Run: ``.venv/bin/python -m bench.check_speed [--frames 600]``

The frames are the tuning corpus's 640x480 JPEGs (:mod:`bench.corpus`: street footage, a
photographed scene, a patrol and a moving camera), several cameras interleaved as a worker
sees them. framegate runs ``decode_for_checks`` + ``CameraInspector.inspect`` on one thread,
each camera with its own inspector and all of them sharing one
:class:`~framegate.detectors.hashing.FleetHashIndex` filled to its 4,096 frames beforehand,
so the hashing, the camera's history search and the fleet search are all in the timed
region. cleanvision runs ``Imagelab.find_issues`` with ``n_jobs=1`` on the same files. The
bare full-size JPEG decode rate is the ceiling. Inputs are built and cached before anything
is timed; each rate is the best of three runs (the machine is shared).
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

from bench.corpus import corpus
from framegate.detectors.hashing import FleetHashIndex, FrameKey
from framegate.detectors.image_metrics import DESCRIPTOR_LEN
from framegate.detectors.inspector import CameraInspector, decode_for_checks
from framegate.detectors.policy import Policy

_CAMERAS = ("t-street", "t-temple", "t-patrol", "t-pan")


def _frames(n: int) -> list[tuple[str, bytes, float]]:
    """(camera, JPEG, captured_at): the first frames of each 640x480 camera, interleaved."""
    cams = [c for c in corpus("tuning") if c.name in _CAMERAS]
    out = []
    for i in range(max(len(c.frames) for c in cams)):
        for c in cams:
            if i < len(c.frames):
                out.append((c.name, c.frames[i], c.times[i]))
    return out[:n]


def _full_fleet() -> FleetHashIndex:
    rng = np.random.default_rng(0)
    fleet = FleetHashIndex()
    for k in range(fleet.size):
        d = rng.normal(0, 1, DESCRIPTOR_LEN).astype(np.float32)
        key = FrameKey(np.uint64(k), np.uint64(rng.integers(0, 2**63)), d / np.linalg.norm(d))
        fleet.add(key, camera_id=f"other-{k % 50}", frame_id=f"f{k}", at=0.0)
    return fleet


def _rate(fn, frames, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(frames)
        best = min(best, time.perf_counter() - t0)
    return len(frames) / best


def framegate(frames: list[tuple[str, bytes, float]], fleet: FleetHashIndex | None = None) -> None:
    policy = Policy()
    fleet = fleet.copy() if fleet is not None else None
    inspectors: dict[str, CameraInspector] = {}
    for i, (cam, data, at) in enumerate(frames):
        insp = inspectors.get(cam)
        if insp is None:
            insp = inspectors[cam] = CameraInspector(policy.for_camera(cam), camera_id=cam)
        insp.inspect(
            decode_for_checks(data, max_pixels=50_000_000),
            frame_id=f"{cam}:{i}",
            captured_at=at + 700.0,
            fleet=fleet,
        )


def bare_decode(frames: list[tuple[str, bytes, float]]) -> None:
    for _, data, _ in frames:
        cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def cleanvision(frames: list[tuple[str, bytes, float]]) -> float:
    from cleanvision import Imagelab

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        for i, (_, data, _) in enumerate(frames):
            (Path(tmp) / f"{i:05d}.jpg").write_bytes(data)
        lab = Imagelab(data_path=tmp)
        t0 = time.perf_counter()
        lab.find_issues(n_jobs=1, verbose=False)
        return len(frames) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--skip-cleanvision", action="store_true")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    frames = _frames(args.frames)
    fleet = _full_fleet()
    fg = _rate(lambda f: framegate(f, fleet), frames)
    no_fleet = _rate(framegate, frames)
    dec = _rate(bare_decode, frames)
    print(f"{len(frames)} JPEGs of 640x480 from {len(_CAMERAS)} cameras, one core")
    print(f"bare JPEG decode (full size)              {dec:8.1f} frames/s")
    print(f"framegate decode + all checks + fleet     {fg:8.1f} frames/s (target >= 300)")
    print(f"framegate without a fleet index           {no_fleet:8.1f} frames/s")
    if not args.skip_cleanvision:
        cv = cleanvision(frames)
        print(f"cleanvision find_issues, n_jobs=1         {cv:8.1f} frames/s")
        print(f"framegate / cleanvision                   {fg / cv:8.1f}x")


if __name__ == "__main__":
    main()
