"""One reference view of a camera, and the checks against it: ``obstructed``, ``camera_moved``.

A view is a slow average of the camera's clean frames at one place (its 48x36 thumbnail and
its cell textures: the background, with passers-by averaged out), with the camera's normal
*at that view*: a :class:`~framegate.detectors.sequence_baseline.RobustBaseline` of the image
metrics and of how well frames match the view. A fixed camera has one view; a patrol camera
one per preset (see :mod:`framegate.detectors.views`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import numpy as np

from framegate.detectors import sequence as seq
from framegate.detectors.image_checks import BASELINE_METRICS
from framegate.detectors.image_metrics import GRID, THUMB_SIZE, FrameMeasures
from framegate.detectors.packing import pack, unpack
from framegate.detectors.policy import CameraPolicy
from framegate.detectors.sequence_baseline import RobustBaseline
from framegate.schemas.reports import Issue

_EMA = 0.1  # weight of a clean frame in the reference view
VIEW_METRICS = (*BASELINE_METRICS, "view_match", "view_shift")
_THUMB_SHAPE = (THUMB_SIZE[1], THUMB_SIZE[0])
_CELLS_SHAPE = (GRID[1], GRID[0])


@dataclass(frozen=True, slots=True)
class Placement:
    """How a frame sits against a view: ``shift`` (fraction of the width, by phase
    correlation, ``dx``/``dy`` in thumbnail pixels), its ``response``, and ``match`` (edge
    correlation, 1 = the same view)."""

    shift: float
    match: float
    response: float
    dx: float = 0.0
    dy: float = 0.0

    @classmethod
    def of(cls, thumb: np.ndarray, reference: np.ndarray) -> Placement:
        dx, dy, match, response = seq.place(thumb, reference)
        return cls(math.hypot(dx, dy) / thumb.shape[1], match, response, dx, dy)


class ReferenceView:
    """One view (see the module docstring).

    Attributes
    ----------
    thumb
        ``uint8`` grey thumbnail of the view.
    cells
        ``float32`` texture (edge energy) per grid cell.
    age
        Clean frames averaged in since the view was set.
    base
        The camera's normal at this view (image metrics, ``view_match``, ``view_shift``).
    last_seen
        The camera's frame counter when this view was last shown (patrol presets: the least
        recently seen is forgotten first).
    born
        The camera's frame counter when this view was set (or replaced): what else keeps a
        reference per view (the gate's embedding references) restarts when it changes.
    """

    def __init__(
        self, thumb: np.ndarray, cells: np.ndarray, policy: CameraPolicy, *, last_seen: int = 0
    ) -> None:
        self.thumb = thumb
        self.cells = cells.astype(np.float32, copy=True)
        self.age = 0
        b = policy.baseline
        self.base = RobustBaseline(VIEW_METRICS, window=b.window, warmup=b.warmup)
        self.last_seen = last_seen
        self.born = last_seen  # the camera's frame counter when this view was set

    def check(
        self,
        measures: FrameMeasures,
        metrics: dict[str, float],
        placement: Placement,
        *,
        scene_bad: bool,
        content_lost: bool,
        policy: CameraPolicy,
    ) -> tuple[Issue | None, Issue | None]:
        """(obstructed, camera_moved candidate) of one frame against this view; no update.

        Adds ``obstructed_fraction`` (when measurable), ``view_shift``, ``view_match`` and
        ``view_response`` to ``metrics``. A frame is not called obstructed when too few of the
        view's textured cells kept their texture (``texture_kept``): the loss is everywhere,
        a dark, blurred or fogged picture, not a cover;
        a view younger than ``obstructed.min_age`` frames is not judged. Whether the move
        candidate is reported is the caller's decision (the camera's kind and history).
        """
        metrics["view_shift"] = placement.shift
        metrics["view_match"] = placement.match
        metrics["view_response"] = placement.response
        obstructed = None
        if self.age >= policy.obstructed.min_age:
            fraction = seq.obstructed_fraction(measures.cells, self.cells, policy)
            if fraction == fraction:
                metrics["obstructed_fraction"] = fraction
                kept = seq.texture_kept(measures.cells, self.cells, policy)
                metrics["texture_kept"] = kept
                if kept >= policy.obstructed.min_kept:
                    obstructed = seq.check_obstructed(fraction, policy)
        moved = None
        if obstructed is None:
            moved = seq.check_moved(
                placement.shift,
                placement.match,
                placement.response,
                scene_bad,
                content_lost,
                self.base,
                policy,
            )
        return obstructed, moved

    def fold(self, thumb: np.ndarray, cells: np.ndarray) -> None:
        """Average a clean frame into the view."""
        ref = self.thumb.astype(np.float32)
        self.thumb = np.rint((1 - _EMA) * ref + _EMA * thumb).astype(np.uint8)
        self.cells = ((1 - _EMA) * self.cells + _EMA * cells).astype(np.float32)
        self.age += 1

    def replace(self, thumb: np.ndarray, cells: np.ndarray, frame_no: int) -> None:
        """This frame is the view from now on (the camera moved); its normal restarts."""
        self.thumb, self.cells, self.age = thumb, cells.astype(np.float32, copy=True), 0
        self.born = frame_no
        self.base = RobustBaseline(VIEW_METRICS, window=self.base.window, warmup=self.base.warmup)

    def state(self) -> dict[str, Any]:
        return {
            "thumb": pack(self.thumb, "u1"),
            "cells": pack(self.cells, "<f4"),
            "age": self.age,
            "last_seen": self.last_seen,
            "born": self.born,
            "baseline": self.base.state(),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], policy: CameraPolicy) -> Self:
        view = cls(
            unpack(state["thumb"], "u1", _THUMB_SHAPE),
            unpack(state["cells"], "<f4", _CELLS_SHAPE),
            policy,
            last_seen=int(state["last_seen"]),
        )
        view.age = int(state["age"])
        view.born = int(state["born"])
        view.base.load_state(state["baseline"])
        return view
