"""When leaving the reference view is ``camera_moved``: the camera's kind and history decide.

:meth:`~framegate.detectors.reference_view.ReferenceView.check` proposes a move when a frame
no longer matches its view; :func:`jump` when the whole picture jumped from the previous
frame. :func:`judge_move` reports it only when it is a move of *this* kind of camera:

- the previous frame still showed the view, and this one jumped away from it (a cut, or a
  shift of ``kinds.drift_shift``): a slow slide is a moving camera, not a move;
- the view was the reference for ``camera_moved.min_age`` clean frames (a fifth of that
  for a patrol preset, visited in turns): a camera that just moved, or a patrol camera
  still learning its tour, is not judged;
- on a patrol camera, a cut to a stored preset is the tour going on, and a cut to an
  unrelated view the next preset; only a view that still looks like the preset (edge match
  >= 0.3) or a stored preset seen shifted is a move.
"""

from __future__ import annotations

from framegate.detectors.camera_kind import Step
from framegate.detectors.policy import CameraPolicy
from framegate.detectors.reference_view import ReferenceView
from framegate.detectors.views import Motion
from framegate.schemas.checks import CameraKind, Check
from framegate.schemas.reports import Issue

PATROL_MIN_AGE_SHARE = 5  # a preset needs camera_moved.min_age / 5 clean frames
RELATED_MATCH = 0.3  # a patrol frame still this like its preset moved with it
JUMP_RESPONSE = 0.3  # a jump from the previous frame is trusted from this response


def jump(motion: Motion, policy: CameraPolicy) -> Issue | None:
    """The whole picture jumped from the previous frame by ``camera_moved.shift`` or more,
    as one (phase-correlation response >= 0.3): a busy view's own spread can hide a move
    from the reference rules, but people walking do not move the whole picture."""
    p = policy.camera_moved
    prev = motion.prev
    if prev is None or motion.cut or prev.response < JUMP_RESPONSE:
        return None
    return p.judge(
        Check.CAMERA_MOVED,
        prev.shift / p.shift,
        f"the whole view jumped {100 * prev.shift:.1f}% from the previous frame (limit "
        f"{100 * p.shift:.1f}%); this view is the new reference",
    )


def judge_move(
    kind: CameraKind | None,
    motion: Motion,
    candidate: Issue | None,
    view: ReferenceView,
    *,
    at_view: bool,
    policy: CameraPolicy,
) -> Issue | None:
    """``candidate`` when leaving ``view`` is a move of a camera of ``kind`` (see the
    module docstring), else None."""
    p = policy
    if candidate is None or not at_view or not motion.abrupt(p.kinds.drift_shift):
        return None
    if kind == "patrol":
        if view.age < p.camera_moved.min_age // PATROL_MIN_AGE_SHARE:
            return None
        if motion.step == Step.CUT_KNOWN:  # back at another preset: the tour goes on
            return None
        place = motion.place
        related = place is not None and place.match >= RELATED_MATCH
        return candidate if related or motion.shifted or not motion.cut else None
    return candidate if view.age >= p.camera_moved.min_age else None
