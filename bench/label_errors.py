"""Label-error detection: framegate's streaming confident learning next to cleanlab.

A real labelled set (Fashion-MNIST from Debian's ``dataset-fashion-mnist`` when installed,
else scikit-learn's digits) gets 10 % of its labels flipped to another class at random
(seeded). A model trained in the benchmark gives out-of-sample probabilities (k-fold
``cross_val_predict``). Then, on the same probabilities:

* cleanlab: ``cleanlab.filter.find_label_issues`` over the whole set at once;
* framegate: :class:`framegate.detectors.label_errors.ConfidentLearning`, one frame at a time, in a
  random order, each frame judged when it arrives (``observe``) — no second pass.

Precision, recall and F1 against the flips are printed side by side.

Run: ``.venv/bin/python -m bench.label_errors [--dataset fashion|digits] [--n 10000]``.
"""

from __future__ import annotations

import argparse
import gzip
import time
from pathlib import Path

import numpy as np

FASHION = Path("/usr/share/datasets/fashion-mnist")


def load(dataset: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    if dataset == "auto":
        dataset = "fashion" if (FASHION / "train-images-idx3-ubyte.gz").exists() else "digits"
    if dataset == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        return d.data.astype(np.float32) / 16.0, d.target.astype(np.int64), "sklearn digits"
    with gzip.open(FASHION / "train-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(FASHION / "train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    idx = np.random.default_rng(seed).permutation(len(y))[:n]
    return x[idx].astype(np.float32) / 255.0, y[idx], "Fashion-MNIST (train split)"


def flip(y: np.ndarray, rate: float, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    noisy = y.copy()
    idx = rng.choice(len(y), size=int(round(rate * len(y))), replace=False)
    noisy[idx] = (y[idx] + rng.integers(1, n_classes, size=idx.size)) % n_classes
    is_error = np.zeros(len(y), bool)
    is_error[idx] = True
    return noisy, is_error


def out_of_sample_probabilities(x: np.ndarray, y: np.ndarray, seed: int, folds: int) -> np.ndarray:
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        PCA(n_components=min(64, x.shape[1]), random_state=seed),
        LogisticRegression(max_iter=300, C=1.0),
    )
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return cross_val_predict(model, x, y, cv=cv, method="predict_proba")


def prf(flagged: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    tp = int((flagged & truth).sum())
    p = tp / max(1, int(flagged.sum()))
    r = tp / max(1, int(truth.sum()))
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def framegate_streaming(
    probs: np.ndarray, labels: np.ndarray, order: np.ndarray, min_count: int
) -> np.ndarray:
    from framegate.detectors.label_errors import ConfidentLearning

    names = [str(k) for k in range(probs.shape[1])]
    cl = ConfidentLearning(min_count=min_count)
    flagged = np.zeros(len(labels), bool)
    for i in order:  # one frame at a time, judged on arrival
        p = dict(zip(names, probs[i].tolist(), strict=True))
        flagged[i] = cl.observe(names[labels[i]], p) is not None
    return flagged


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", choices=["auto", "fashion", "digits"], default="auto")
    ap.add_argument("--n", type=int, default=10_000, help="frames used (Fashion-MNIST)")
    ap.add_argument("--noise", type=float, default=0.10)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--min-count", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from cleanlab.filter import find_label_issues

    x, y, name = load(args.dataset, args.n, args.seed)
    n_classes = int(y.max()) + 1
    noisy, truth = flip(y, args.noise, n_classes, args.seed)
    t0 = time.perf_counter()
    probs = out_of_sample_probabilities(x, noisy, args.seed, args.folds)
    t_model = time.perf_counter() - t0
    acc = float((probs.argmax(1) == y).mean())

    t0 = time.perf_counter()
    cl_flags = find_label_issues(noisy, probs)
    t_cl = time.perf_counter() - t0
    order = np.random.default_rng(args.seed + 1).permutation(len(y))
    t0 = time.perf_counter()
    fg_flags = framegate_streaming(probs, noisy, order, args.min_count)
    t_fg = time.perf_counter() - t0

    print(
        f"dataset: {name}, {len(y)} frames, {n_classes} classes, "
        f"{truth.sum()} labels flipped ({args.noise:.0%}), seed {args.seed}"
    )
    print(
        f"model: PCA(64) + logistic regression, {args.folds}-fold out-of-sample "
        f"probabilities, accuracy vs true labels {acc:.3f} ({t_model:.1f} s)"
    )
    print(f"{'method':<44}{'flagged':>8}{'precision':>11}{'recall':>8}{'F1':>7}{'time s':>8}")
    rows = [
        ("cleanlab find_label_issues (batch)", cl_flags, t_cl),
        ("framegate ConfidentLearning (streaming)", fg_flags, t_fg),
    ]
    f1s = []
    for label, flags, t in rows:
        p, r, f = prf(flags, truth)
        f1s.append(f)
        print(f"{label:<44}{int(flags.sum()):>8}{p:>11.3f}{r:>8.3f}{f:>7.3f}{t:>8.2f}")
    print(f"F1 difference framegate - cleanlab: {f1s[1] - f1s[0]:+.3f} (target: within 0.03)")
    print(
        f"agreement: {(cl_flags == fg_flags).mean():.3f} of frames get the same decision; "
        f"streaming cost {1e6 * t_fg / len(y):.1f} us per frame"
    )


if __name__ == "__main__":
    main()
