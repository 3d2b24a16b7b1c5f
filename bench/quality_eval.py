"""The held-out evaluation: framegate vs cleanvision 0.3.7, per camera kind and per fault.

Run: ``.venv/bin/python -m bench.quality_eval [--part tuning|heldout|both]
[--cleanvision-per-cell 6] [--save]``

Two parts that share no source and no fault implementation (:mod:`bench.corpus`,
:mod:`bench.faults`, :mod:`bench.episodes`): thresholds are tuned on the *tuning* part only;
the *held-out* part says how they generalise. Each part: two or three fixed cameras (one
grey, night/IR), a patrol camera, moving cameras and snapshot cameras, all inspected in
capture order as one fleet (:mod:`bench.quality_run`), with every fault injected alone at
three severities; then cleanvision on a subsample of the same frames
(:mod:`bench.quality_cleanvision`). Targets, on the held-out part: recall >= 0.95 for each
fault at moderate severity; <= 0.2 % of clean frames flagged for each camera kind.
"""

from __future__ import annotations

import argparse
import pickle
import time

from bench.frames import CACHE
from bench.quality_report import print_part
from bench.quality_run import run_part


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("tuning", "heldout", "both"), default="both")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--cleanvision-per-cell",
        type=int,
        default=6,
        help="episodes per (fault, severity, camera kind) given to cleanvision; 0 = skip",
    )
    ap.add_argument("--save", action="store_true", help="keep the results in bench/.cache/")
    args = ap.parse_args()
    parts = ("tuning", "heldout") if args.part == "both" else (args.part,)
    for part in parts:
        t0 = time.perf_counter()
        result = run_part(part, seed=args.seed)
        cv = None
        if args.cleanvision_per_cell > 0:
            from bench.quality_cleanvision import run_cleanvision

            cv = run_cleanvision(result, per_cell=args.cleanvision_per_cell)
        if args.save:
            with (CACHE / f"quality-{part}-{args.seed}.pkl").open("wb") as fh:
                pickle.dump((result, cv), fh)
        print_part(result, cv)
        print(f"\n({part}: {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
