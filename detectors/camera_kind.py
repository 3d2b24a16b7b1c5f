"""Which kind of camera a stream comes from, recognised from the stream itself.

Every frame is one *step* of evidence, judged on 48x36 thumbnails against the previous frame
and the camera's current reference view (see :func:`framegate.detectors.views.classify_step`):

- ``SAME``: the reference view again (people may walk through it);
- ``DRIFT``: the whole view slid away from the reference while each frame still follows the
  previous one: the camera itself is moving (a vehicle, a drone, a slow pan);
- ``CUT_NEW`` / ``CUT_KNOWN``: a frame unrelated to the previous one, showing a view never seen
  before, or a view the camera showed earlier (a patrol preset, again);
- ``NONE``: no evidence (a faulty frame, or a change that is neither).

From the last ``window`` steps: mostly cuts is a **snapshot** camera (unrelated pictures);
frequent drifts a **moving** camera; cuts that keep landing on known views a **patrol**
camera; anything else a **fixed** camera. A kind is recognised once ``min_evidence`` steps
were seen, and replaced only when another kind wins ``switch_after`` steps in a row, so one
odd frame never flips it. A policy can pin the kind instead (``CameraPolicy.kind``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any, Self

import numpy as np

from framegate.detectors.packing import pack, unpack
from framegate.schemas.checks import CameraKind

KINDS: tuple[CameraKind, ...] = ("fixed", "patrol", "moving", "snapshot")
#: Kinds whose view is meant to stay put: scene-reference checks run only on these.
SCENE_KINDS = frozenset({"fixed", "patrol"})


class Step(IntEnum):
    """What one frame showed about the camera's motion (see the module docstring)."""

    NONE = 0
    SAME = 1
    DRIFT = 2
    CUT_NEW = 3
    CUT_KNOWN = 4


class KindTracker:
    """Recognises a camera's kind from its recent steps.

    Parameters
    ----------
    window
        Steps remembered (frames).
    min_evidence
        Evidence steps (not ``NONE``) needed before any kind is recognised.
    switch_after
        Consecutive steps another kind must win before it replaces the current one.
    snapshot_cuts
        Fraction of cuts among the evidence steps from which the camera sends snapshots.
    moving_drifts
        Fraction of drifts from which the camera is moving.
    patrol_returns
        Returns to a known view, among the last ``cut_memory`` cuts, that make a patrol
        camera (forgotten after ``4 x window`` frames without a cut).
    cut_memory
        Cuts remembered for the patrol rule.

    Examples
    --------
    >>> t = KindTracker(min_evidence=4, switch_after=2)
    >>> for step in [Step.SAME] * 4:
    ...     t.update(step)
    >>> t.kind, t.settled
    ('fixed', True)
    >>> for step in [Step.CUT_NEW] * 8:
    ...     t.update(step)
    >>> t.kind
    'snapshot'
    """

    def __init__(
        self,
        *,
        window: int = 64,
        min_evidence: int = 16,
        switch_after: int = 8,
        snapshot_cuts: float = 0.5,
        moving_drifts: float = 0.06,
        patrol_returns: int = 2,
        cut_memory: int = 8,
    ) -> None:
        if window < 1 or min_evidence < 1 or switch_after < 1 or cut_memory < 1:
            raise ValueError("window, min_evidence, switch_after and cut_memory must be >= 1")
        if min_evidence > window:
            raise ValueError(f"min_evidence ({min_evidence}) cannot exceed window ({window})")
        self.window = window
        self.min_evidence = min_evidence
        self.switch_after = switch_after
        self.snapshot_cuts = snapshot_cuts
        self.moving_drifts = moving_drifts
        self.patrol_returns = patrol_returns
        self.cut_memory = cut_memory
        self._reset()

    def _reset(self) -> None:
        self._steps = np.zeros(self.window, dtype=np.uint8)
        self._count = 0
        self._cuts = np.zeros(self.cut_memory, dtype=np.uint8)  # Step values of recent cuts
        self._cut_count = 0
        self._since_cut = 0
        self._kind: CameraKind | None = None
        self._challenger: CameraKind | None = None
        self._wins = 0

    @property
    def kind(self) -> CameraKind | None:
        """The recognised kind, or None before ``min_evidence`` steps."""
        return self._kind

    @property
    def settled(self) -> bool:
        return self._kind is not None

    def counts(self) -> dict[str, int]:
        """Steps of each kind in the window (for reports and tests)."""
        n = min(self._count, self.window)
        values = np.bincount(self._steps[:n], minlength=len(Step))
        return {step.name.lower(): int(values[step]) for step in Step}

    def update(self, step: Step) -> None:
        """Add one frame's step and re-decide the kind."""
        self._steps[self._count % self.window] = step
        self._count += 1
        if step in (Step.CUT_NEW, Step.CUT_KNOWN):
            self._cuts[self._cut_count % self.cut_memory] = step
            self._cut_count += 1
            self._since_cut = 0
        else:
            self._since_cut += 1
        if self._since_cut > 4 * self.window:  # a tour that stopped long ago
            self._cuts[:] = 0
            self._cut_count = 0
        candidate = self._candidate()
        if candidate is None:
            return
        if self._kind is None or candidate == self._kind:
            self._kind, self._challenger, self._wins = candidate, None, 0
            return
        self._wins = self._wins + 1 if candidate == self._challenger else 1
        self._challenger = candidate
        if self._wins >= self.switch_after:
            self._kind, self._challenger, self._wins = candidate, None, 0

    def _candidate(self) -> CameraKind | None:
        c = self.counts()
        evidence = min(self._count, self.window) - c["none"]
        if evidence < self.min_evidence:
            return None
        cuts = c["cut_new"] + c["cut_known"]
        if cuts >= self.snapshot_cuts * evidence:
            return "snapshot"
        if c["drift"] >= self.moving_drifts * evidence:
            return "moving"
        n = min(self._cut_count, self.cut_memory)
        if int((self._cuts[:n] == Step.CUT_KNOWN).sum()) >= self.patrol_returns:
            return "patrol"
        return "fixed"

    def state(self) -> dict[str, Any]:
        """JSON-serialisable state; :meth:`from_state` restores it."""
        return {
            "steps": pack(self._steps, "u1"),
            "count": self._count,
            "cuts": pack(self._cuts, "u1"),
            "cut_count": self._cut_count,
            "since_cut": self._since_cut,
            "kind": self._kind,
            "challenger": self._challenger,
            "wins": self._wins,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], **params: Any) -> Self:
        """Restore :meth:`state` into a tracker built with ``params``; a window of another
        size starts afresh."""
        new = cls(**params)
        steps = unpack(state["steps"], "u1")
        cuts = unpack(state["cuts"], "u1")
        if len(steps) != new.window or len(cuts) != new.cut_memory:
            return new
        new._steps, new._cuts = steps, cuts
        new._count, new._cut_count = int(state["count"]), int(state["cut_count"])
        new._since_cut = int(state["since_cut"])
        new._kind, new._challenger = state["kind"], state["challenger"]
        new._wins = int(state["wins"])
        return new
