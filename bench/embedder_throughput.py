"""Embedder throughput: images per second by batch size, preprocessing and model separately.

Inputs are built once, outside the timed region: seeded 1280x720 BGR frames (a real photo
from scikit-image, tiled and jittered, so the resize does real work). For each batch size:

* ``preprocess``: :meth:`Embedder.preprocess` (crop + resize + stack), CPU;
* ``model``: :meth:`Embedder.__call__` on the pre-processed batch (device transfer,
  normalisation, forward, softmax, back to numpy), synchronised on CUDA;
* ``end to end``: both, one after the other.

On the CPU the figures are also given per core (``torch.set_num_threads(--threads)``).

Run: ``.venv/bin/python -m bench.embedder_throughput [--device cpu|cuda] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from framegate.detectors.embedding import Embedder, lite0_weights_path

CPU_SIZES = (1, 4, 16, 64)
GPU_SIZES = (1, 4, 16, 64, 128, 256)


def frames(n: int, seed: int) -> list[np.ndarray]:
    import cv2
    from skimage import data

    photo = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    tile = cv2.resize(photo, (1280, 720))
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        dx, dy = rng.integers(0, 64, 2)
        noise = rng.integers(-8, 9, tile.shape, dtype=np.int16)
        out.append(np.clip(np.roll(tile, (dy, dx), (0, 1)) + noise, 0, 255).astype(np.uint8))
    return out


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str, min_time: float, min_reps: int) -> float:
    """Median seconds of one call, over at least ``min_reps`` calls and ``min_time`` seconds."""
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
        if len(times) >= 50:
            break
    return float(np.median(times))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default=None, help="cpu, cuda, cuda:1...; default: auto")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument(
        "--sizes",
        type=int,
        nargs="*",
        default=None,
        help=f"batch sizes (default CPU {CPU_SIZES}, GPU {GPU_SIZES})",
    )
    ap.add_argument("--min-time", type=float, default=2.0, help="seconds per measurement")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    emb = Embedder.default(lite0_weights_path().read_bytes(), device=args.device)
    gpu = emb.device.startswith("cuda")
    sizes = args.sizes or (GPU_SIZES if gpu else CPU_SIZES)
    images = frames(max(sizes), args.seed)
    where = torch.cuda.get_device_name(emb.device) if gpu else f"CPU, {args.threads} thread(s)"
    print(
        f"EfficientNet-Lite0 embedder on {emb.device} ({where}); torch {torch.__version__}; "
        f"frames 1280x720 BGR; {'float16 autocast' if gpu else 'float32'}"
    )
    emb(emb.preprocess(images[:2]))  # warm-up (and cuDNN autotune)
    _sync(emb.device)
    per = " per core" if not gpu else ""
    print(
        f"{'batch':>6}{'preprocess img/s':>18}{'model img/s':>14}{'end-to-end img/s':>18}"
        f"{'model ms/batch':>16}" + (f"{'e2e img/s' + per:>20}" if not gpu else "")
    )
    for n in sizes:
        batch_imgs = images[:n]
        pre = emb.preprocess(batch_imgs)
        emb(pre)
        _sync(emb.device)
        t_pre = timed(lambda b=batch_imgs: emb.preprocess(b), emb.device, args.min_time / 2, 2)
        t_model = timed(lambda p=pre: emb(p), emb.device, args.min_time, 2)
        e2e = n / (t_pre + t_model)
        row = f"{n:>6}{n / t_pre:>18.1f}{n / t_model:>14.1f}{e2e:>18.1f}{1000 * t_model:>16.1f}"
        if not gpu:
            row += f"{e2e / args.threads:>20.1f}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
