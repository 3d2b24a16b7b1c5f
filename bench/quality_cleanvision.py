"""cleanvision 0.3.7 on the same frames as framegate, for the side-by-side tables.

cleanvision judges a data set, not a stream, and it is slow, so it gets a subsample of each
part as one data set: up to ``clean_per_camera`` clean frames of every camera (evenly
spread), and up to ``per_cell`` episodes of every (fault, severity, camera kind), each with
its faulty frames and, for a copy, its source frame (a duplicate can only be found next to
what it duplicates). An episode counts as found when cleanvision gave one of its faulty frames
the issue type matching the fault; faults it has no issue type for are shown as "-". Its
clean frames flagged are counted as framegate's are (a grey photograph called grayscale is not
a false flag, nor is the source of an injected copy).
"""

from __future__ import annotations

import collections
import logging
import tempfile
import warnings
from pathlib import Path

from bench.quality_report import KINDS, not_a_false_flag
from bench.quality_run import PartResult

# cleanvision's issue type for each fault, where it has one.
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


def run_cleanvision(result: PartResult, *, per_cell: int = 6, clean_per_camera: int = 40) -> dict:
    """{"recall": {(fault, level, kind|"all"): (hits, n)}, "clean": {kind: (flagged, n)}}."""
    from cleanvision import Imagelab

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    cams = {c.name: c for c in result.cameras}
    files: dict[str, tuple] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)

        def put(name: str, data: bytes, role: tuple) -> None:
            path = root / f"{name}.jpg"
            path.write_bytes(data)
            files[str(path)] = role

        by_camera = collections.defaultdict(list)
        for c in result.clean:
            by_camera[c.camera].append(c)
        for cam, frames in by_camera.items():
            step = max(1, len(frames) // clean_per_camera)
            for c in frames[::step][:clean_per_camera]:
                put(f"clean_{cam}_{c.index:05d}", cams[cam].frames[c.index], ("clean", c))
        taken: collections.Counter = collections.Counter()
        for n, t in enumerate(result.trials):
            cell = (t.fault, t.level, t.kind)
            if t.fault not in CLEANVISION or taken[cell] >= per_cell:
                continue
            taken[cell] += 1
            for k, frame in enumerate(t.frames):
                if frame.faulty:
                    put(f"fault_{n:05d}_{k}", frame.data, ("fault", t))
            if t.source is not None:
                src = cams[t.source.camera].frames[t.source.index]
                put(f"source_{n:05d}", src, ("source", t))
        lab = Imagelab(data_path=str(root))
        lab.find_issues(verbose=False)
        issues = lab.issues
    flags = [c for c in issues.columns if c.startswith("is_") and c.endswith("_issue")]
    hit: dict[int, bool] = {}
    trials: dict[int, object] = {}
    clean: dict[str, list[int]] = {k: [0, 0] for k in KINDS}
    for path, row in issues.iterrows():
        role = files.get(str(path))
        if role is None:
            continue
        what, item = role
        if what == "clean":
            raised = [f[3:-6] for f in flags if bool(row[f])]
            raised = [x for x in raised if not not_a_false_flag(x, item.grey_source)]
            clean[item.kind][0] += bool(raised)
            clean[item.kind][1] += 1
        elif what == "fault":
            key = id(item)
            trials[key] = item
            hit[key] = hit.get(key, False) or bool(row.get(f"is_{CLEANVISION[item.fault]}_issue"))
    recall: dict[tuple, list[int]] = collections.defaultdict(lambda: [0, 0])
    for key, t in trials.items():
        for cell in ((t.fault, t.level, t.kind), (t.fault, t.level, "all")):
            recall[cell][0] += hit[key]
            recall[cell][1] += 1
    return {
        "recall": {k: (v[0], v[1]) for k, v in recall.items()},
        "clean": {k: (v[0], v[1]) for k, v in clean.items()},
    }
