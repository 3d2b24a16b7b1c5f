"""The views a camera has shown, and how each frame moves among them.

A fixed camera has one view; a patrol camera one per preset (up to ``kinds.max_views``, the
least recently seen forgotten first); a moving or snapshot camera's view is only ever the
recent past. Each frame is placed against the previous frame and the active view
(:meth:`SceneViews.observe`) and that gives the evidence for the camera's kind
(:class:`~framegate.detectors.camera_kind.Step`):

- it follows the previous frame (edge match >= 0.5, once aligned on the phase-correlation
  shift) and sits at the active view: ``SAME``; it follows but the whole view slid by
  ``drift_shift`` or more (aligning on the shift brings the edge match to 0.65 and up by 0.2
  at least; a passer-by close to the camera does not): ``DRIFT`` (the view follows it);
  it follows but is neither: no evidence, and after 12 such clean frames in a row (48 flagged
  ones; 3 and 12 on a moving camera or one whose kind is not known yet) the view is taken to
  have gone stale and the frame becomes a new view (on a moving camera, the view: the stale
  view is then evidence of a moving camera, as a ``DRIFT`` is: zoom and rotation defeat the
  translation test);
- it does not follow (a cut): ``CUT_KNOWN`` when it matches another stored view at its place
  (response >= 0.3, edge match >= 0.35, shift under ``drift_shift``; that view becomes the
  active one at once, so the frame is judged against it), else ``CUT_NEW``. A stored view
  seen again but shifted by ``camera_moved.shift`` or more (response >= 0.5, edge match
  >= 0.65 once aligned) is a preset that moved.

:meth:`SceneViews.settle` then updates the views with the frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import numpy as np

from framegate.detectors import sequence as seq
from framegate.detectors.camera_kind import Step
from framegate.detectors.policy import CameraPolicy
from framegate.detectors.reference_view import Placement, ReferenceView
from framegate.detectors.sequence_baseline import RobustBaseline

FOLLOW_RESPONSE = 0.4  # phase-correlation response of a frame that follows the previous one
FOLLOW_MATCH = 0.5  # ... or edge correlation
KNOWN_RESPONSE = 0.3  # a stored view recognised after a cut
KNOWN_MATCH = 0.35
MAX_PRESET_SHIFT = 0.3  # beyond this, phase correlation of 48x36 thumbnails is not trusted
SLID_MATCH = 0.65  # a view that slid matches at least this well once aligned ...
SLID_GAIN = 0.2  # ... and this much better than unaligned
SLID_RESPONSE = 0.5  # a stored view seen shifted correlates at least this well
SAME_MATCH = 0.3  # a frame at its view matches it this well (edges) or ...
SAME_RESPONSE = 0.3  # ... correlates this well
REANCHOR = 12  # clean frames in a row that follow each other but not the view: a new view
REANCHOR_MOVING = 3  # ... on a camera that moves (or is not known yet)
REANCHOR_FLAGGED = 4  # ... a flagged one counts for 1/4 of a clean one


@dataclass(frozen=True, slots=True)
class Motion:
    """How one frame moved: its step, its placement against the active view and the previous
    frame, and for a cut the stored view it returned to (``known``, maybe ``shifted``)."""

    step: Step
    place: Placement | None  # against the active view
    prev: Placement | None  # against the previous frame
    known: int | None = None
    shifted: bool = False
    adrift: bool = False  # follows the previous frame, but neither at nor slid from the view

    @property
    def cut(self) -> bool:
        return self.step in (Step.CUT_NEW, Step.CUT_KNOWN)

    def abrupt(self, drift_shift: float) -> bool:
        """The frame jumped from the previous one (a cut, or a shift of ``drift_shift``)."""
        return self.cut or self.prev is None or self.prev.shift >= drift_shift


class SceneViews:
    """A camera's stored views and the active one (see the module docstring)."""

    def __init__(self, policy: CameraPolicy) -> None:
        self.policy = policy
        self.views: list[ReferenceView] = []
        self.active = 0
        self._adrift = 0  # clean frames in a row that were adrift

    @property
    def view(self) -> ReferenceView | None:
        """The active view, or None before the first frame."""
        return self.views[self.active] if self.views else None

    def norm(self) -> RobustBaseline | None:
        """The active view's normal; while it is still warming up (a camera that just
        moved, a preset seen for the first time), that of the view seen most recently
        whose normal is known: the same camera, most likely alike."""
        view = self.view
        if view is None or view.base.ready:
            return None if view is None else view.base
        ready = [v for v in self.views if v.base.ready and v is not view]
        if not ready:
            return view.base
        return max(ready, key=lambda v: v.last_seen).base

    def observe(
        self, thumb: np.ndarray, previous: np.ndarray | None, *, locate: bool = True
    ) -> Motion:
        """Place a frame; with ``locate``, a cut is compared with every stored view."""
        view = self.view
        if view is None:
            return Motion(Step.NONE, None, None)
        drift = self.policy.kinds.drift_shift
        place = Placement.of(thumb, view.thumb)
        if previous is None:
            return Motion(Step.NONE, place, None)
        if (
            place.shift < drift
            and place.match >= FOLLOW_MATCH
            and place.response >= FOLLOW_RESPONSE
        ):
            # plainly at its view: it follows whatever the previous frame showed there, and
            # did not jump from it (the previous frame is only placed when it matters)
            return Motion(Step.SAME, place, Placement(0.0, 1.0, 1.0))
        prev = Placement.of(thumb, previous)
        if self._follows(thumb, previous, prev):
            if place.shift < drift and (
                place.match >= SAME_MATCH or place.response >= SAME_RESPONSE
            ):
                return Motion(Step.SAME, place, prev)
            if place.response >= KNOWN_RESPONSE and self._slid(thumb, view.thumb, place):
                return Motion(Step.DRIFT, place, prev)
            return Motion(Step.NONE, place, prev, adrift=True)
        known, shifted = self._locate(thumb, drift) if locate else (None, False)
        if known is not None and not shifted:  # back at a stored view: judge against it
            self.active = known
            return Motion(Step.CUT_KNOWN, Placement.of(thumb, self.views[known].thumb), prev, known)
        return Motion(Step.CUT_NEW, place, prev, known, shifted)

    @staticmethod
    def _follows(thumb: np.ndarray, previous: np.ndarray, prev: Placement) -> bool:
        """The frame shows what the previous one showed, maybe moved a little."""
        if prev.match >= FOLLOW_MATCH:
            return True
        return prev.response >= FOLLOW_RESPONSE and (
            seq.aligned_match(thumb, previous, prev.dx, prev.dy) >= FOLLOW_MATCH
        )

    @staticmethod
    def _slid(thumb: np.ndarray, reference: np.ndarray, place: Placement) -> bool:
        """The whole view slid (aligning on the shift restores the match), rather than
        something large moving in front of it."""
        aligned = seq.aligned_match(thumb, reference, place.dx, place.dy)
        return aligned >= max(SLID_MATCH, place.match + SLID_GAIN)

    def _locate(self, thumb: np.ndarray, drift: float) -> tuple[int | None, bool]:
        best, best_match, shifted = None, KNOWN_MATCH, False
        moved_at = self.policy.camera_moved.shift
        for i, view in enumerate(self.views):
            if i == self.active:
                continue
            p = Placement.of(thumb, view.thumb)
            if p.response < KNOWN_RESPONSE:
                continue
            if p.shift < drift and p.match >= best_match:
                best, best_match, shifted = i, p.match, False
            elif (
                best is None
                and moved_at <= p.shift <= MAX_PRESET_SHIFT
                and p.response >= SLID_RESPONSE
                and view.age > 0
                and seq.aligned_match(thumb, view.thumb, p.dx, p.dy) >= SLID_MATCH
            ):
                best, shifted = i, True
        return best, shifted

    def settle(
        self,
        motion: Motion,
        thumb: np.ndarray,
        cells: np.ndarray,
        *,
        clean: bool,
        moved: bool,
        keep_views: bool,
        frame_no: int,
        moving: bool = False,
    ) -> bool:
        """Update the views with a frame; True when the view went stale and was replaced
        (evidence of a moving camera, as a ``DRIFT`` is).

        ``moved``: camera_moved was reported; the frame becomes a view (a new one on a fixed
        camera, so a return is recognised; the preset it belongs to on a patrol camera).
        ``keep_views``: store views across cuts (off for moving and snapshot cameras, whose
        only view is the recent past). ``moving``: the camera moves or its kind is not known
        yet: a stale view is replaced after 3 frames rather than 12.
        """
        if not self.views:
            self._add(thumb, cells, frame_no)
            return False
        if not keep_views and len(self.views) > 1:  # only the recent past is a view here
            self.views, self.active = [self.views[self.active]], 0
        view = self.views[self.active]
        if moved:
            if motion.known is not None:
                self.active = motion.known
                self.views[self.active].replace(thumb, cells, frame_no)
            elif keep_views:
                self._add(thumb, cells, frame_no)
            else:
                view.replace(thumb, cells, frame_no)
            self.views[self.active].last_seen = frame_no
            return False
        self._adrift = self._adrift + (REANCHOR_FLAGGED if clean else 1) if motion.adrift else 0
        stale = REANCHOR_FLAGGED * (REANCHOR_MOVING if moving else REANCHOR)
        if not clean and self._adrift < stale:
            return False
        reanchored = self._adrift >= stale
        if reanchored:  # the view went stale unnoticed
            self._adrift = 0
            motion = Motion(Step.DRIFT if moving else Step.CUT_NEW, motion.place, motion.prev)
        step = motion.step
        if step == Step.SAME:
            view.fold(thumb, cells)
        elif step == Step.DRIFT or (motion.cut and not keep_views):
            view.replace(thumb, cells, frame_no)
        elif step == Step.CUT_KNOWN:  # already made active by observe()
            self.views[self.active].fold(thumb, cells)
        elif step == Step.CUT_NEW:
            self._add(thumb, cells, frame_no)
        self.views[self.active].last_seen = frame_no
        return reanchored

    def _add(self, thumb: np.ndarray, cells: np.ndarray, frame_no: int) -> None:
        new = ReferenceView(thumb, cells, self.policy, last_seen=frame_no)
        if len(self.views) < self.policy.kinds.max_views:
            self.views.append(new)
            self.active = len(self.views) - 1
            return
        oldest = min(range(len(self.views)), key=lambda i: self.views[i].last_seen)
        self.views[oldest] = new
        self.active = oldest

    def restart(self) -> None:
        """Forget every view (an operator's re-baseline): the next frame is the reference."""
        self.views, self.active = [], 0

    def state(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "adrift": self._adrift,
            "views": [v.state() for v in self.views],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], policy: CameraPolicy) -> Self:
        new = cls(policy)
        new.views = [ReferenceView.from_state(v, policy) for v in state["views"]]
        new.views = new.views[: policy.kinds.max_views]
        new.active = min(int(state["active"]), max(0, len(new.views) - 1))
        new._adrift = int(state["adrift"])
        return new
