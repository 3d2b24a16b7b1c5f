"""Quality of framegate's checks vs cleanvision 0.3.7 on real frames with injected faults.

Run: ``.venv/bin/python -m bench.quality_eval [--cleanvision-per-cell 20]``

Every camera stream (bench.frames) goes through one CameraInspector in order; those clean
frames give the false-positive rate. Every 16th frame after warm-up, each fault is injected at
three severities into a copy of the inspector (restored from ``state()``), so faults are
judged independently, against the camera's real history. Recall = injected episodes in
which the fault's own check fired. cleanvision gets the same clean and faulty frames as one
data set (a subsample, it is slow); checks it does not have are shown as "-".
"""

from __future__ import annotations

import argparse
import collections
import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from bench.frames import SIZE, cameras, encode
from framegate.detectors.inspector import CameraInspector, decode_for_checks
from framegate.detectors.policy import Policy

MAX_PIXELS = 50_000_000
LEVELS = ("mild", "moderate", "strong")
WARMUP = 24
EVERY = 16

Episode = list[tuple[bytes, float]]  # (jpeg, seconds after the previous frame)


def _dec(b: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR)


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0, 255).astype(np.uint8)


def _obstruct(f: np.ndarray, area: float, rng: np.random.Generator) -> np.ndarray:
    h, w = f.shape[:2]
    mask = np.zeros((h, w), np.float32)
    rx, ry = int(w * np.sqrt(area) * 0.75), int(h * np.sqrt(area) * 0.75)
    cx = int(rng.choice([0, w]))
    cy = int(rng.choice([0, h]))
    cv2.ellipse(mask, (cx, cy), (int(rx * 1.6), int(ry * 1.6)), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 8)[..., None]
    colour = rng.uniform(20, 90, 3).astype(np.float32)
    return _u8(f * (1 - mask) + colour * mask)


def _shift(f: np.ndarray, frac: float, rng: np.random.Generator) -> np.ndarray:
    a = rng.uniform(0, 2 * np.pi)
    m = np.float32([[1, 0, frac * SIZE[0] * np.cos(a)], [0, 1, frac * SIZE[0] * np.sin(a)]])
    return cv2.warpAffine(f, m, SIZE, borderMode=cv2.BORDER_REFLECT)


def _resize_copy(f: np.ndarray, s: float, q: int) -> bytes:
    small = cv2.resize(f, (int(SIZE[0] * s), int(SIZE[1] * s)), interpolation=cv2.INTER_AREA)
    return encode(cv2.resize(small, SIZE, interpolation=cv2.INTER_LINEAR), q)


def _crop_copy(f: np.ndarray, c: float, q: int) -> bytes:
    h, w = f.shape[:2]
    y, x = int(c * h), int(c * w)
    return encode(cv2.resize(f[y : h - y, x : w - x], SIZE, interpolation=cv2.INTER_AREA), q)


def _image(fn: Callable[[np.ndarray, int, np.random.Generator], np.ndarray]) -> Callable:
    def make(frames: list[bytes], i: int, dt: float, lv: int, rng) -> Episode:
        return [(encode(fn(_dec(frames[i]), lv, rng)), dt)]

    return make


def _gray(f, lv, rng):
    s = (0.85, 0.95, 1.0)[lv]
    g = cv2.cvtColor(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    return _u8(f * (1 - s) + g.astype(np.float32) * s)


def _noise(f, lv, rng):
    return _u8(f + rng.normal(0, (6, 12, 24)[lv], f.shape))


def _odd_size(frames, i, dt, lv, rng) -> Episode:
    s = (0.8, 0.5, 0.15)[lv]
    f = _dec(frames[i])
    return [
        (
            encode(
                cv2.resize(f, (int(SIZE[0] * s), int(SIZE[1] * s)), interpolation=cv2.INTER_AREA)
            ),
            dt,
        )
    ]


def _aspect(frames, i, dt, lv, rng) -> Episode:
    r = (2.7, 3.5, 6.0)[lv]
    f = _dec(frames[i])
    h = int(SIZE[0] / r)
    return [(encode(f[(SIZE[1] - h) // 2 : (SIZE[1] - h) // 2 + h]), dt)]


def _exact(frames, i, dt, lv, rng) -> Episode:
    return [(frames[i - (30, 10, 5)[lv]], dt)]


def _near(frames, i, dt, lv, rng) -> Episode:
    src = _dec(frames[i - int(rng.integers(5, 20))])
    if lv == 0:
        return [(_crop_copy(src, 0.03, 85), dt)]
    if lv == 1:
        return [(_resize_copy(src, 0.6, 80), dt)]
    return [(encode(src, 70), dt)]


def _frozen(frames, i, dt, lv, rng) -> Episode:
    src = _dec(frames[i - 1])
    out = []
    for _ in range(4):
        if lv == 0:
            out.append((encode(_u8(src + rng.normal(0, 1.0, src.shape)), 90), dt))
        elif lv == 1:
            out.append((encode(src, int(rng.integers(80, 96))), dt))
        else:
            out.append((encode(src, 90), dt))
    return out


def _moved(frames, i, dt, lv, rng) -> Episode:
    frac = (0.04, 0.08, 0.15)[lv]
    a = rng.uniform(0, 2 * np.pi)
    out = []
    for k in range(3):
        f = _dec(frames[i + k])
        m = np.float32([[1, 0, frac * SIZE[0] * np.cos(a)], [0, 1, frac * SIZE[0] * np.sin(a)]])
        out.append((encode(cv2.warpAffine(f, m, SIZE, borderMode=cv2.BORDER_REFLECT)), dt))
    return out


def _dropped(frames, i, dt, lv, rng) -> Episode:
    return [(frames[i], dt * (1 + (2, 5, 30)[lv]))]


FAULTS: dict[str, Callable[..., Episode]] = {
    "dark": _image(lambda f, lv, r: _u8(f * (0.5, 0.3, 0.15)[lv])),
    "bright": _image(
        lambda f, lv, r: _u8(255 - (255 - f.astype(np.float32)) * (0.5, 0.3, 0.15)[lv])
    ),
    "low_contrast": _image(
        lambda f, lv, r: _u8(f * (0.5, 0.3, 0.15)[lv] + 200 * (1 - (0.5, 0.3, 0.15)[lv]))
    ),
    "blurry": _image(lambda f, lv, r: cv2.GaussianBlur(f, (0, 0), (1.0, 2.0, 4.0)[lv])),
    "noisy": _image(_noise),
    "low_information": _image(
        lambda f, lv, r: _u8(
            f * (0.25, 0.1, 0.0)[lv] + 120 * (1 - (0.25, 0.1, 0.0)[lv]) + r.normal(0, 2, f.shape)
        )
    ),
    "grayscale": _image(_gray),
    "exposure_clipped": _image(
        lambda f, lv, r: _u8((f - f.mean()) * (1.6, 2.2, 3.5)[lv] + f.mean())
    ),
    "odd_size": _odd_size,
    "odd_aspect_ratio": _aspect,
    "exact_duplicate": _exact,
    "near_duplicate": _near,
    "frozen": _frozen,
    "camera_moved": _moved,
    "obstructed": _image(lambda f, lv, r: _obstruct(f, (0.3, 0.5, 0.7)[lv], r)),
    "dropped_frames": _dropped,
}
# cleanvision's issue type for each check, where it has one.
CLEANVISION = {
    "dark": "dark",
    "bright": "light",
    "blurry": "blurry",
    "low_information": "low_information",
    "grayscale": "grayscale",
    "odd_size": "odd_size",
    "odd_aspect_ratio": "odd_aspect_ratio",
    "exact_duplicate": "exact_duplicates",
    "near_duplicate": "near_duplicates",
}


VIDEO_CAMERAS = ("vtest", "tree")


def run_framegate(seed: int, cv_per_cell: int):
    rng = np.random.default_rng(seed)
    policy = Policy()
    clean_total = clean_flagged = 0
    clean_by_check: collections.Counter[str] = collections.Counter()
    hits = collections.Counter()
    trials = collections.Counter()
    video_hits = collections.Counter()  # the same, on the cameras whose scene moves (videos)
    video_trials = collections.Counter()
    cv_samples: dict[tuple[str, int], list[bytes]] = collections.defaultdict(list)
    cv_clean: list[bytes] = []
    for cam, (dt, frames) in cameras(seed).items():
        insp = CameraInspector(policy.for_camera(cam), camera_id=cam)
        t = 0.0
        for i, data in enumerate(frames):
            if i >= WARMUP and i % EVERY == 0 and i + 3 < len(frames):
                state = insp.state()
                for name, make in FAULTS.items():
                    for lv in range(3):
                        episode = make(frames, i, dt, lv, rng)
                        trial = CameraInspector.from_state(state, policy.for_camera(cam))
                        tt, found = t, False
                        for blob, gap in episode:
                            tt += gap
                            res = trial.inspect(
                                decode_for_checks(blob, max_pixels=MAX_PIXELS),
                                frame_id=f"{cam}:x",
                                captured_at=tt,
                            )
                            found |= any(x.check == name for x in res.issues)
                        hits[name, lv] += found
                        trials[name, lv] += 1
                        if cam in VIDEO_CAMERAS:
                            video_hits[name, lv] += found
                            video_trials[name, lv] += 1
                        if len(cv_samples[name, lv]) < cv_per_cell and name in CLEANVISION:
                            cv_samples[name, lv].append(episode[-1][0])
            t += dt
            res = insp.inspect(
                decode_for_checks(data, max_pixels=MAX_PIXELS), frame_id=f"{cam}:{i}", captured_at=t
            )
            if i >= 1:
                clean_total += 1
                clean_flagged += bool(res.issues)
                for x in res.issues:
                    clean_by_check[x.check.value] += 1
            if i % 4 == 0:
                cv_clean.append(data)
    return (
        clean_total,
        clean_flagged,
        clean_by_check,
        hits,
        trials,
        cv_samples,
        cv_clean,
        video_hits,
        video_trials,
    )


def run_cleanvision(cv_samples, cv_clean):
    """Per-(check, level) recall and clean false-positive rate of cleanvision."""
    import logging
    import warnings

    from cleanvision import Imagelab

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        names: dict[str, tuple[str, int] | None] = {}
        for k, blob in enumerate(cv_clean):
            p = root / f"clean_{k:05d}.jpg"
            p.write_bytes(blob)
            names[str(p)] = None
        for (name, lv), blobs in cv_samples.items():
            for k, blob in enumerate(blobs):
                p = root / f"{name}_{lv}_{k:04d}.jpg"
                p.write_bytes(blob)
                names[str(p)] = (name, lv)
        lab = Imagelab(data_path=str(root))
        lab.find_issues(verbose=False)
        issues = lab.issues
    cols = [c for c in issues.columns if c.startswith("is_") and c.endswith("_issue")]
    recall = collections.defaultdict(list)
    clean_flags = []
    for path, row in issues.iterrows():
        key = names.get(str(path))
        if key is None:
            clean_flags.append(bool(row[cols].any()))
            continue
        recall[key].append(bool(row.get(f"is_{CLEANVISION[key[0]]}_issue", False)))
    return (
        {k: float(np.mean(v)) for k, v in recall.items()},
        float(np.mean(clean_flags)) if clean_flags else float("nan"),
        len(clean_flags),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--cleanvision-per-cell",
        type=int,
        default=20,
        help="faulty frames per (check, severity) given to cleanvision; 0 = skip",
    )
    args = ap.parse_args()
    (total, flagged, by_check, hits, trials, cv_samples, cv_clean, video_hits, video_trials) = (
        run_framegate(args.seed, args.cleanvision_per_cell)
    )
    cv_recall, cv_fpr, cv_n = ({}, float("nan"), 0)
    if args.cleanvision_per_cell > 0:
        cv_recall, cv_fpr, cv_n = run_cleanvision(cv_samples, cv_clean)
    n = trials[next(iter(FAULTS)), 0]
    print(
        f"\nrecall per check on injected faults ({n} episodes per cell for framegate, "
        f"{args.cleanvision_per_cell} for cleanvision)"
    )
    print(
        f"{'check':<18}"
        + "".join(f"{'fg ' + lv:>12}{'cv ' + lv:>12}" for lv in LEVELS)
        + f"{'fg FP':>8}"
    )
    for name in FAULTS:
        row = f"{name:<18}"
        for lv in range(3):
            fg = hits[name, lv] / max(trials[name, lv], 1)
            cv = cv_recall.get((name, lv))
            row += f"{fg:>12.3f}" + (f"{cv:>12.3f}" if cv is not None else f"{'-':>12}")
        row += f"{by_check.get(name, 0):>8d}"
        print(row)
    print(
        f"\nclean frames: framegate flagged {flagged}/{total} = {100 * flagged / total:.2f}%"
        f" (target <= 0.2%); cleanvision flagged {100 * cv_fpr:.2f}% of {cv_n}"
    )
    if by_check:
        print("framegate false positives by check:", dict(by_check))
    # A photo "camera" is one still picture plus sensor noise: each of its ordinary frames
    # is already a near-copy of older ones, so a re-encoded copy cannot stand out there.
    # Real cameras watch scenes that move; this line is near_duplicate on those.
    name = "near_duplicate"
    print(
        f"{name} on the moving-scene (video) cameras only: "
        + ", ".join(
            f"{LEVELS[lv]} {video_hits[name, lv]}/{video_trials[name, lv]} = "
            f"{video_hits[name, lv] / max(video_trials[name, lv], 1):.3f}"
            for lv in range(3)
        )
    )


if __name__ == "__main__":
    main()
