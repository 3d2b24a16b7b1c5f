"""Checks on a frame's ground-truth boxes: near the border, tiny, duplicated.

Boxes are pixel ``[x1, y1, x2, y2]`` in the size the camera sent; an annotation without a
box labels the whole image and is not checked here. One issue per check per frame, naming
every offending box.
"""

from __future__ import annotations

from collections.abc import Sequence

from detectors.policy import CameraPolicy
from schemas.checks import Check
from schemas.frames import Annotation
from schemas.reports import Issue


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two ``[x1, y1, x2, y2]`` boxes.

    Examples
    --------
    >>> iou((0, 0, 10, 10), (0, 0, 10, 5))
    0.5
    """
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def check_annotations(
    annotations: Sequence[Annotation], width: int, height: int, policy: CameraPolicy
) -> list[Issue]:
    """``annotation_near_border``, ``tiny_box`` and ``duplicate_box`` for one frame."""
    boxes = [(i, a.label, a.box) for i, a in enumerate(annotations) if a.box is not None]
    if not boxes:
        return []
    issues: list[Issue] = []

    p = policy.annotation_near_border
    mx, my = p.margin * width, p.margin * height
    near = [
        i for i, _, b in boxes if b[0] < mx or b[1] < my or b[2] > width - mx or b[3] > height - my
    ]
    if near and (
        issue := p.judge(
            Check.ANNOTATION_NEAR_BORDER,
            1.0 + len(near) / len(boxes),
            f"boxes {near} are within {100 * p.margin:.0f}% of the image border (possibly cut off)",
        )
    ):
        issues.append(issue)

    t = policy.tiny_box
    area = float(width * height)
    worst, tiny = 0.0, []
    for i, _, b in boxes:
        w, h = b[2] - b[0], b[3] - b[1]
        r = max(t.min_side / max(min(w, h), 1e-6), t.min_area * area / max(w * h, 1e-6))
        if r >= 1.0:
            tiny.append(i)
            worst = max(worst, r)
    if tiny and (
        issue := t.judge(
            Check.TINY_BOX,
            worst,
            f"boxes {tiny} are smaller than "
            f"{t.min_side:g} px a side or {100 * t.min_area:g}% of the "
            "image",
        )
    ):
        issues.append(issue)

    d = policy.duplicate_box
    pairs, best = [], 0.0
    for j in range(len(boxes)):
        for k in range(j + 1, len(boxes)):
            if boxes[j][1] == boxes[k][1]:
                o = iou(boxes[j][2], boxes[k][2])
                if o > d.iou:
                    pairs.append((boxes[j][0], boxes[k][0]))
                    best = max(best, o)
    if pairs:
        ratio = (1.0 - d.iou) / max(1.0 - best, 1e-6)
        if issue := d.judge(
            Check.DUPLICATE_BOX,
            ratio,
            f"box pairs {pairs} have the same "
            f"label and overlap with IoU up to {best:.2f} (> {d.iou})",
        ):
            issues.append(issue)
    return issues
