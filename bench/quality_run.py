"""framegate over one part of the corpus: clean frames, injected faults, moves that stay.

Every camera of the part is inspected in capture-time order, all cameras interleaved and
sharing one :class:`~framegate.detectors.hashing.FleetHashIndex`, as one worker would see a
fleet. Before frame ``i`` at each injection point, every fault that applies to the camera's
kind is injected at each severity into a *copy* of the camera's inspector (and of the fleet
index), so each fault is judged alone against the camera's real history; the clean stream
goes on untouched. Each :class:`Trial` records the one fault it injected, how, into which
frames, every check each frame raised, the cause named for it and how many issues nothing
explains.

"Moves that stay" shift a fixed or patrol camera's view for good (40 frames): the first
frame should raise ``camera_moved`` and the 39 after it nothing at all, the references
having followed the camera.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import cv2
import numpy as np

from bench.corpus import Camera, corpus
from bench.episodes import EPISODES, applies, episode
from bench.faults import Context, Injected, Source
from bench.frames import encode
from framegate.detectors.causes import name_cause
from framegate.detectors.hashing import FleetHashIndex
from framegate.detectors.inspector import CameraInspector, decode_for_checks
from framegate.detectors.policy import Policy
from framegate.schemas.reports import Issue, unexplained

MAX_PIXELS = 50_000_000
MOVE_FRAMES = 40


@dataclass
class Trial:
    """One injected fault episode and what framegate said about each of its frames."""

    part: str
    camera: str
    kind: str
    index: int
    fault: str
    level: int
    impl: str
    source: Source | None
    frames: list[Injected]
    found: list[list[str]] = field(default_factory=list)
    #: per frame: the named cause, the check of the highest score, and the issues nothing
    #: explains (see :mod:`framegate.detectors.causes`)
    causes: list[str | None] = field(default_factory=list)
    tops: list[str | None] = field(default_factory=list)
    unexplained: list[int] = field(default_factory=list)

    @property
    def hit(self) -> bool:
        """The fault's own check fired on a frame that carries the fault."""
        return any(
            self.fault in checks
            for f, checks in zip(self.frames, self.found, strict=True)
            if f.faulty
        )


@dataclass
class Clean:
    """One clean frame: the checks it raised, and the kind the camera was recognised as."""

    camera: str
    kind: str
    index: int
    checks: list[str]
    recognised: str | None
    grey_source: bool


@dataclass
class Stay:
    """A move that stays: did the first frame raise camera_moved, and what came after."""

    camera: str
    kind: str
    index: int
    first: list[str]
    after: list[list[str]]


@dataclass
class PartResult:
    part: str
    cameras: list[Camera]
    clean: list[Clean] = field(default_factory=list)
    trials: list[Trial] = field(default_factory=list)
    stays: list[Stay] = field(default_factory=list)


def _points(cam: Camera) -> set[int]:
    """Injection points: after a warm-up of min(120, n/4) frames, about 18 per camera."""
    n = len(cam.frames)
    start = min(120, n // 4)
    every = max(6, (n - start - 4) // 18)
    return set(range(start, n - 4, every))


def _stay_points(cam: Camera) -> list[int]:
    n = len(cam.frames)
    if cam.kind not in ("fixed", "patrol") or n < 2 * MOVE_FRAMES + 200:
        return []
    return [n // 2, n - MOVE_FRAMES - 20]


def _issues(insp, data: bytes, *, frame_id: str, at: float, fleet) -> list[Issue]:
    res = insp.inspect(
        decode_for_checks(data, max_pixels=MAX_PIXELS),
        frame_id=frame_id,
        captured_at=at,
        fleet=fleet,
    )
    return list(res.issues)


def _inspect(insp, data: bytes, *, frame_id: str, at: float, fleet) -> list[str]:
    return [i.check.value for i in _issues(insp, data, frame_id=frame_id, at=at, fleet=fleet)]


def _record(trial: Trial, issues: list[Issue]) -> None:
    cause, marked = name_cause(issues)
    top = max(issues, key=lambda i: i.score, default=None)
    trial.found.append([i.check.value for i in issues])
    trial.causes.append(cause.value if cause is not None else None)
    trial.tops.append(top.check.value if top is not None else None)
    trial.unexplained.append(len(unexplained(marked)))


def _trials(cam, i, insp, fleet, others, policy, part, impl, rng, faults, levels) -> list[Trial]:
    state = insp.state()
    out = []
    for fault in EPISODES:
        if not applies(fault, cam) or (faults and fault not in faults):
            continue
        for level in levels:
            ctx = Context(cam, i, others, rng, impl)
            frames = episode(fault, ctx, level)
            if frames is None:
                continue
            trial = Trial(part, cam.name, cam.kind, i, fault, level, impl, ctx.source, frames)
            copy = CameraInspector.from_state(state, policy)
            f = fleet.copy()
            t = cam.times[i - 1]
            for k, inj in enumerate(frames):
                t += inj.gap
                _record(trial, _issues(copy, inj.data, frame_id=f"{cam.name}:x{k}", at=t, fleet=f))
            out.append(trial)
    return out


def _stay(cam, i, insp, fleet, policy) -> Stay:
    """Shift the view by 8 % of the width for good, from frame ``i``."""
    copy = CameraInspector.from_state(insp.state(), policy)
    f = fleet.copy()
    found = []
    for k in range(MOVE_FRAMES):
        img = cv2.imdecode(np.frombuffer(cam.frames[i + k], np.uint8), cv2.IMREAD_COLOR)
        h, w = img.shape[:2]
        m = np.float32([[1, 0, 0.08 * w], [0, 1, 0.02 * w]])
        moved = encode(cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT), 90)
        found.append(
            _inspect(copy, moved, frame_id=f"{cam.name}:m{k}", at=cam.times[i + k], fleet=f)
        )
    return Stay(cam.name, cam.kind, i, found[0], found[1:])


def run_part(
    part: str,
    *,
    seed: int = 0,
    policy: Policy | None = None,
    faults: tuple[str, ...] = (),
    levels: tuple[int, ...] = (0, 1, 2),
    cameras: tuple[str, ...] = (),
) -> PartResult:
    """Inspect every camera of ``part`` (see the module docstring); ``faults``, ``levels``
    and ``cameras`` narrow a quick look (empty: all)."""
    policy = policy or Policy()
    cams = [c for c in corpus(part) if not cameras or c.name in cameras]
    impl = "A" if part == "tuning" else "B"
    rng = np.random.default_rng(seed)
    result = PartResult(part, cams)
    fleet = FleetHashIndex()
    inspectors = {
        c.name: CameraInspector(policy.for_camera(c.name), camera_id=c.name) for c in cams
    }
    points = {c.name: _points(c) for c in cams}
    stays = {c.name: set(_stay_points(c)) for c in cams}
    queue = [(c.times[0], n, 0) for n, c in enumerate(cams)]
    heapq.heapify(queue)
    while queue:
        _, n, i = heapq.heappop(queue)
        cam = cams[n]
        insp = inspectors[cam.name]
        cp = policy.for_camera(cam.name)
        if i in points[cam.name]:
            others = [c for c in cams if c is not cam]
            result.trials += _trials(
                cam, i, insp, fleet, others, cp, part, impl, rng, faults, levels
            )
        if i in stays[cam.name]:
            result.stays.append(_stay(cam, i, insp, fleet, cp))
        checks = _inspect(
            insp, cam.frames[i], frame_id=f"{cam.name}:{i}", at=cam.times[i], fleet=fleet
        )
        if i >= 1:
            result.clean.append(
                Clean(cam.name, cam.kind, i, checks, insp.kind, i in cam.grey_frames)
            )
        if i + 1 < len(cam.frames):
            heapq.heappush(queue, (cam.times[i + 1], n, i + 1))
    return result
