"""A camera's reference view, and the checks against it: ``obstructed``, ``camera_moved``.

The reference is a slow average of the camera's clean frames (its 48x36 thumbnail and its
cell textures): the background, with passers-by averaged out. It is replaced outright when
the camera moved, so the new view becomes the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from framegate.detectors import sequence as seq
from framegate.detectors.image_metrics import FrameMeasures
from framegate.detectors.policy import CameraPolicy
from framegate.detectors.sequence_baseline import RobustBaseline
from framegate.schemas.reports import Issue

_EMA = 0.1  # weight of a clean frame in the reference view


@dataclass(frozen=True, slots=True)
class ViewCheck:
    """What a frame showed against the reference view."""

    issues: list[Issue]  # obstructed, then camera_moved
    moved: bool  # camera_moved fired: the frame becomes the reference


class ReferenceView:
    """One camera's reference view (see the module docstring).

    Attributes
    ----------
    thumb
        ``uint8`` grey thumbnail of the view, or ``None`` before the first frame.
    cells
        ``float32`` texture (edge energy) per grid cell, or ``None``.
    age
        Clean frames averaged in since the reference was last replaced.
    """

    def __init__(
        self,
        thumb: np.ndarray | None = None,
        cells: np.ndarray | None = None,
        age: int = 0,
    ) -> None:
        self.thumb = thumb
        self.cells = cells
        self.age = age

    @property
    def ready(self) -> bool:
        """Whether there is a reference to compare with."""
        return self.thumb is not None and self.cells is not None

    def check(
        self,
        measures: FrameMeasures,
        metrics: dict[str, float],
        *,
        scene_bad: bool,
        content_lost: bool,
        still: bool,
        base: RobustBaseline,
        policy: CameraPolicy,
    ) -> ViewCheck:
        """Obstruction, then camera movement, of one frame; no update.

        Adds ``obstructed_fraction`` (when measurable), ``view_shift``, ``view_match`` and
        ``view_response`` to ``metrics``. A frame whose scene checks failed is not called
        obstructed when nearly all of it lost texture (it is dark or blurred, not covered);
        a still or obstructed frame is not judged for movement.
        """
        if self.thumb is None or self.cells is None:
            return ViewCheck([], moved=False)
        issues: list[Issue] = []
        fraction = seq.obstructed_fraction(measures.cells, self.cells, policy)
        if fraction == fraction:
            metrics["obstructed_fraction"] = fraction
        obstructed = None
        if not (scene_bad and fraction > 0.9):
            obstructed = seq.check_obstructed(fraction, policy)
        if obstructed is not None:
            issues.append(obstructed)
        shift, match, response = seq.view_match(measures.thumb, self.thumb)
        metrics["view_shift"] = shift
        metrics["view_match"] = match
        metrics["view_response"] = response
        if obstructed is not None or still:
            return ViewCheck(issues, moved=False)
        moved = seq.check_moved(shift, match, response, scene_bad, content_lost, base, policy)
        if moved is not None:
            issues.append(moved)
        return ViewCheck(issues, moved=moved is not None)

    def update(self, thumb: np.ndarray, cells: np.ndarray, *, reset: bool, clean: bool) -> None:
        """Replace the reference with this frame (``reset``), or average a clean frame in."""
        if reset:
            self.thumb, self.cells, self.age = thumb, cells.copy(), 0
            return
        if not clean or self.thumb is None or self.cells is None:
            return
        ref = self.thumb.astype(np.float32)
        self.thumb = np.rint((1 - _EMA) * ref + _EMA * thumb).astype(np.uint8)
        self.cells = ((1 - _EMA) * self.cells + _EMA * cells).astype(np.float32)
        self.age += 1
