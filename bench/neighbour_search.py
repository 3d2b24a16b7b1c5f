"""Near-duplicate search across the fleet: brute force (what framegate does) vs libraries.

Run: ``.venv/bin/python -m bench.neighbour_search [--sizes 4096 65536 1000000]``

The fleet index holds, per recent frame, a 64-bit perceptual hash and a 63-value descriptor
(:mod:`framegate.detectors.hashing`). A lookup finds the frames within ``max_bits`` of the
query's hash, then checks their descriptors. Measured per query, one thread, with a ring of
N frames of which the query's copy is one (recall: the copy was found):

- framegate: ``FleetHashIndex.query`` (numpy XOR + popcount over the ring, then the
  candidates' descriptors);
- faiss ``IndexBinaryFlat`` (exhaustive Hamming search, k = 16) and ``IndexBinaryHNSW``
  (approximate), then the same descriptor check;
- hnswlib on the descriptors (cosine, M = 16, ef = 64), which skips the hash.

The libraries are optional (``pip install faiss-cpu hnswlib``); missing ones are skipped.
Besides speed, what the index must do: forget the oldest frame on every insert (a ring) and
be saved as JSON in a table (no pickle). faiss binary indexes and hnswlib can remove or
replace items only awkwardly (hnswlib ``mark_deleted`` + ``replace_deleted``; faiss
``remove_ids`` is O(N) on flat indexes and unsupported on HNSW), and they serialise to opaque
bytes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from framegate.detectors.hashing import FleetHashIndex, FrameKey
from framegate.detectors.image_metrics import DESCRIPTOR_LEN


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64)
    desc = rng.normal(0, 1, (n, DESCRIPTOR_LEN)).astype(np.float32)
    return hashes, desc / np.linalg.norm(desc, axis=1, keepdims=True)


def _queries(hashes, desc, m: int, seed: int = 1):
    """Copies of m random frames: 4 hash bits flipped, descriptor moved by 0.06."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(hashes), m, replace=False)
    flips = np.uint64(0b1001_0000_0100_0001)
    noise = rng.normal(0, 0.06 / np.sqrt(DESCRIPTOR_LEN), (m, DESCRIPTOR_LEN)).astype(np.float32)
    q = desc[idx] + noise
    return idx, hashes[idx] ^ flips, q / np.linalg.norm(q, axis=1, keepdims=True)


def _time(fn, m: int) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) / m * 1e6


def framegate(hashes, desc, idx, qh, qd) -> tuple[float, float]:
    fleet = FleetHashIndex(size=len(hashes))
    for i in range(len(hashes)):
        fleet.add(
            FrameKey(np.uint64(i), hashes[i], desc[i]),
            camera_id=f"c{i % 50}",
            frame_id=str(i),
            at=0.0,
        )
    found = []

    def run():
        for h, d in zip(qh, qd, strict=True):
            m = fleet.query(FrameKey(np.uint64(2**63), h, d), camera_id="asker", at=1.0)
            found.append(m.frame_id if m else None)

    us = _time(run, len(qh))
    return us, float(np.mean([f == str(i) for f, i in zip(found, idx, strict=True)]))


def _to_bytes(h: np.ndarray) -> np.ndarray:
    return h.astype(">u8").view(np.uint8).reshape(-1, 8)


def faiss_binary(hashes, desc, idx, qh, qd, *, hnsw: bool) -> tuple[float, float]:
    import faiss

    faiss.omp_set_num_threads(1)
    index = faiss.IndexBinaryHNSW(64, 16) if hnsw else faiss.IndexBinaryFlat(64)
    index.add(_to_bytes(hashes))
    found = []

    def run():
        for h, d in zip(qh, qd, strict=True):
            dist, ids = index.search(_to_bytes(np.array([h])), 16)
            ok = ids[0][(dist[0] <= 12) & (ids[0] >= 0)]
            best = None
            if len(ok):
                dd = np.linalg.norm(desc[ok] - d, axis=1)
                j = int(np.argmin(dd))
                best = int(ok[j]) if dd[j] <= 0.12 else None
            found.append(best)

    us = _time(run, len(qh))
    return us, float(np.mean([f == i for f, i in zip(found, idx, strict=True)]))


def hnsw_descriptors(hashes, desc, idx, qh, qd) -> tuple[float, float]:
    import hnswlib

    index = hnswlib.Index(space="cosine", dim=DESCRIPTOR_LEN)
    index.init_index(max_elements=len(desc), M=16, ef_construction=100, allow_replace_deleted=True)
    index.set_num_threads(1)
    index.add_items(desc, np.arange(len(desc)))
    index.set_ef(64)
    found = []

    def run():
        for d in qd:
            labels, _ = index.knn_query(d[None, :], k=1)
            found.append(int(labels[0][0]))

    us = _time(run, len(qd))
    return us, float(np.mean([f == i for f, i in zip(found, idx, strict=True)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4096, 65536, 1_000_000])
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    print(f"{'frames':>9}  {'method':<32}{'us/query':>10}{'recall':>8}")
    for n in args.sizes:
        hashes, desc = _data(n)
        idx, qh, qd = _queries(hashes, desc, args.queries)
        data = (hashes, desc, idx, qh, qd)
        rows = [("framegate brute force (numpy)", framegate, {})]
        if _has("faiss"):
            rows.append(("faiss IndexBinaryFlat + check", faiss_binary, {"hnsw": False}))
            rows.append(("faiss IndexBinaryHNSW + check", faiss_binary, {"hnsw": True}))
        if _has("hnswlib"):
            rows.append(("hnswlib on descriptors", hnsw_descriptors, {}))
        for name, fn, kwargs in rows:
            us, recall = fn(*data, **kwargs)
            print(f"{n:>9}  {name:<32}{us:>10.1f}{recall:>8.3f}", flush=True)


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
