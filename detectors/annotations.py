"""Checks on a frame's ground-truth boxes: near the border, tiny, duplicated.

Boxes are pixel ``[x1, y1, x2, y2]`` in the size the camera sent; an annotation without a
box labels the whole image and is not checked here. One issue per check per frame, naming
every offending box.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from framegate.detectors.policy import CameraPolicy
from framegate.schemas.checks import Check
from framegate.schemas.deadletter import DeadLetterReason
from framegate.schemas.errors import InvalidMessage
from framegate.schemas.frames import Annotation
from framegate.schemas.reports import Issue


def box_iou(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """IoU of every box in ``a`` ``(N, 4)`` with every box in ``b`` ``(M, 4)``: ``(N, M)``.

    Boxes are ``[x1, y1, x2, y2]``; a pair that does not overlap, or whose union is empty,
    has IoU 0.

    Examples
    --------
    >>> box_iou([[0, 0, 10, 10]], [[5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 10, 5]])
    array([[0.33333333, 0.        , 0.5       ]])
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


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
    overlaps = box_iou([b for _, _, b in boxes], [b for _, _, b in boxes])
    for j in range(len(boxes)):
        for k in range(j + 1, len(boxes)):
            if boxes[j][1] == boxes[k][1]:
                o = float(overlaps[j, k])
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


#: How far (a fraction of the side) a box may reach past the image: boxes drawn to the
#: border are often rounded a pixel or two beyond it.
BOX_TOLERANCE = 0.02


def check_boxes(annotations: Sequence[Annotation], width: int, height: int) -> None:
    """Every annotation box lies inside the ``width`` x ``height`` image (within
    :data:`BOX_TOLERANCE`), or the frame is refused: its labels cannot be about this image.

    Raises
    ------
    InvalidMessage
        ``box_outside_image``, naming the first box that lies outside.
    """
    dx, dy = BOX_TOLERANCE * width + 1, BOX_TOLERANCE * height + 1
    for index, annotation in enumerate(annotations):
        if annotation.box is None:
            continue
        x1, y1, x2, y2 = annotation.box
        if x1 < -dx or y1 < -dy or x2 > width + dx or y2 > height + dy:
            raise InvalidMessage(
                DeadLetterReason.BOX_OUTSIDE_IMAGE,
                f"annotations[{index}] box {list(annotation.box)} lies outside the "
                f"{width}x{height} image",
            )
