"""Tables of the held-out evaluation: recall per fault and kind, clean frames flagged per
kind, kinds recognised, moves that stay; framegate and cleanvision side by side."""

from __future__ import annotations

import collections
from collections.abc import Iterable

from bench.faults import LEVELS
from bench.quality_run import PartResult, Trial

KINDS = ("fixed", "patrol", "moving", "snapshot")


def _rate(hits: int, n: int) -> str:
    return f"{hits / n:.3f} ({hits}/{n})" if n else "-"


def not_a_false_flag(check: str, grey_source: bool) -> bool:
    """A grey photograph reported as grayscale is right, not a false flag."""
    return check == "grayscale" and grey_source


def clean_flags(result: PartResult) -> dict[str, tuple[int, int, collections.Counter]]:
    """kind -> (flagged, total, flags by check) over the clean frames."""
    out: dict[str, list] = {k: [0, 0, collections.Counter()] for k in KINDS}
    for c in result.clean:
        checks = [x for x in c.checks if not not_a_false_flag(x, c.grey_source)]
        row = out[c.kind]
        row[1] += 1
        row[0] += bool(checks)
        row[2].update(set(checks))
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def recall(trials: Iterable[Trial], hit=lambda t: t.hit) -> dict[tuple, tuple[int, int]]:
    """(fault, level, kind) and (fault, level, "all") -> (hits, trials)."""
    out: dict[tuple, list[int]] = collections.defaultdict(lambda: [0, 0])
    for t in trials:
        h = bool(hit(t))
        for key in ((t.fault, t.level, t.kind), (t.fault, t.level, "all")):
            out[key][0] += h
            out[key][1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def kinds_table(result: PartResult) -> list[str]:
    """Per camera: the kind it was built as, and what it was recognised as over its frames."""
    lines = [f"{'camera':<13}{'built as':<10}{'frames':>7}  recognised as (share of frames)"]
    by_cam: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    kind_of = {}
    for c in result.clean:
        by_cam[c.camera][c.recognised or "unknown"] += 1
        kind_of[c.camera] = c.kind
    for cam, counts in by_cam.items():
        n = sum(counts.values())
        shares = ", ".join(f"{k} {v / n:.2f}" for k, v in counts.most_common())
        lines.append(f"{cam:<13}{kind_of[cam]:<10}{n:>7}  {shares}")
    return lines


def stays_table(result: PartResult) -> list[str]:
    lines = []
    for kind in ("fixed", "patrol"):
        stays = [s for s in result.stays if s.kind == kind]
        if not stays:
            continue
        first = sum("camera_moved" in s.first for s in stays)
        after = collections.Counter(x for s in stays for f in s.after for x in set(f))
        flagged = sum(bool(f) for s in stays for f in s.after)
        total = sum(len(s.after) for s in stays)
        lines.append(
            f"{kind:<8} moves {len(stays)}: camera_moved on the first frame {first}; "
            f"frames after it flagged {flagged}/{total} {dict(after) if after else ''}"
        )
    return lines


def causes_table(result: PartResult, level: int = 1) -> list[str]:
    """Per fault, over its faulty frames that raised anything at ``level``: the share whose
    named cause is the fault, the same for the check of the highest score, the mean number
    of issues and of issues nothing explains."""
    rows: dict[str, list] = collections.defaultdict(lambda: [0, 0, 0, 0, 0])
    for t in result.trials:
        if t.level != level:
            continue
        for frame, found, cause, top, loose in zip(
            t.frames, t.found, t.causes, t.tops, t.unexplained, strict=True
        ):
            if not frame.faulty or not found:
                continue
            row = rows[t.fault]
            row[0] += 1
            row[1] += cause == t.fault
            row[2] += top == t.fault
            row[3] += len(found)
            row[4] += loose
    head = ("frames", 7), ("cause", 8), ("top score", 11), ("issues", 8), ("unexplained", 13)
    lines = [f"{'fault':<18}" + "".join(f"{name:>{width}}" for name, width in head)]
    ordered = [(f, rows[f]) for f in sorted(rows, key=lambda f: list(_ORDER).index(f))]
    if rows:
        ordered.append(("all", [sum(column) for column in zip(*rows.values(), strict=True)]))
    for fault, (n, *sums) in ordered:
        shares = "".join(f"{v / n:>{w}.2f}" for v, (_, w) in zip(sums, head[1:], strict=True))
        lines.append(f"{fault:<18}{n:>7}{shares}")
    return lines


def print_part(result: PartResult, cv: dict | None) -> None:
    """Every table of one part; ``cv`` is cleanvision's result (None when skipped)."""
    part = result.part
    print(f"\n=== {part} part ({'implementation A' if part == 'tuning' else 'implementation B'})")
    rec = recall(result.trials)
    cv_rec = cv["recall"] if cv else {}
    faults = sorted({t.fault for t in result.trials}, key=lambda f: list(_ORDER).index(f))
    print("\nrecall per fault, all kinds (framegate | cleanvision on its subsample)")
    print(f"{'fault':<18}" + "".join(f"{lv:>24}" for lv in LEVELS))
    for fault in faults:
        row = f"{fault:<18}"
        for lv in range(3):
            h, n = rec.get((fault, lv, "all"), (0, 0))
            c = cv_rec.get((fault, lv, "all"))
            cv_s = f"{c[0] / c[1]:.2f}" if c and c[1] else "-"
            row += f"{(h / n if n else float('nan')):>16.3f} | {cv_s:>5}"
        print(row)
    print("\nrecall at moderate severity per camera kind (framegate | cleanvision)")
    print(f"{'fault':<18}" + "".join(f"{k:>20}" for k in KINDS))
    for fault in faults:
        row = f"{fault:<18}"
        for kind in KINDS:
            h, n = rec.get((fault, 1, kind), (0, 0))
            c = cv_rec.get((fault, 1, kind))
            cv_s = f"{c[0] / c[1]:.2f}" if c and c[1] else "-"
            fg = f"{h}/{n}" if n else "-"
            row += f"{fg:>12} | {cv_s:>5}"
        print(row)
    print(
        "\none cause per fault, moderate severity, faulty frames that raised anything: the share"
        " whose cause is the fault (target >= 0.95), the same for the highest score, mean"
        " issues, mean issues nothing explains (target <= 1.2)"
    )
    for line in causes_table(result):
        print("  " + line)
    print("\nclean frames flagged per camera kind (target <= 0.2 %)")
    flags = clean_flags(result)
    cv_fp = cv["clean"] if cv else {}
    for kind in KINDS:
        f, n, by = flags[kind]
        c = cv_fp.get(kind)
        cv_s = f"{100 * c[0] / c[1]:.2f}% ({c[0]}/{c[1]})" if c and c[1] else "-"
        share = f"{100 * f / n:.2f}%" if n else "-"
        print(f"  {kind:<9} framegate {share:>7} ({f}/{n})  cleanvision {cv_s}  {dict(by)}")
    print("\ncamera kinds recognised")
    for line in kinds_table(result):
        print("  " + line)
    print("\nmoves that stay (references follow the camera)")
    for line in stays_table(result):
        print("  " + line)


_ORDER = (
    "dark",
    "bright",
    "low_contrast",
    "blurry",
    "noisy",
    "low_information",
    "grayscale",
    "exposure_clipped",
    "obstructed",
    "odd_size",
    "odd_aspect_ratio",
    "exact_duplicate",
    "near_duplicate",
    "frozen",
    "camera_moved",
    "dropped_frames",
)
