"""Camera-health episodes: a broken camera (frozen, obstructed, moved) is one alert, not one
per frame, and its resolution follows a run of clean frames."""

from __future__ import annotations

from collections.abc import Iterable

from detectors.drift import DriftEvent
from schemas import Check, Issue

#: Checks that say the camera itself is broken; they raise ``camera_health`` alerts.
HEALTH_CHECKS = (Check.FROZEN, Check.OBSTRUCTED, Check.CAMERA_MOVED)
#: A moved camera is one event (its new view becomes the reference); nothing to resolve.
ONE_OFF = (Check.CAMERA_MOVED,)
HEALTH_DETECTOR = "check"


class HealthEpisodes:
    """Open episodes of one camera and the clean frames seen since each last fired.

    Parameters
    ----------
    clear_frames
        Clean frames in a row that resolve an episode.

    Examples
    --------
    >>> from detectors.prediction_checks import make_issue
    >>> h = HealthEpisodes(clear_frames=2)
    >>> frozen = [make_issue(Check.FROZEN, 0.9, 0.5, "still")]
    >>> [e.status for i, issues in enumerate([frozen, frozen, [], []])
    ...  for e in h.update(issues, frame_id=f"f{i}", at=float(i))]
    ['firing', 'resolved']
    """

    def __init__(self, clear_frames: int = 10) -> None:
        if clear_frames < 1:
            raise ValueError(f"clear_frames must be at least 1, got {clear_frames}")
        self.clear_frames = clear_frames
        self._clean: dict[str, int] = {}  # check -> clean frames since it last fired
        self._fired: dict[str, str] = {}  # check -> frame that opened the episode

    def update(self, issues: Iterable[Issue], *, frame_id: str, at: float) -> list[DriftEvent]:
        """The transitions this frame causes: firing on the first frame with a health issue,
        resolved after ``clear_frames`` clean frames in a row."""
        found = {issue.check: issue for issue in issues if issue.check in HEALTH_CHECKS}
        events = []
        for check in HEALTH_CHECKS:
            name = check.value
            if check in found:
                if name not in self._clean:
                    issue = found[check]
                    events.append(
                        _event(
                            name,
                            "firing",
                            frame_id,
                            at,
                            issue.severity,
                            fired=frame_id,
                            after={"score": issue.score},
                        )
                    )
                    if check not in ONE_OFF:
                        self._fired[name] = frame_id
                if check not in ONE_OFF:
                    self._clean[name] = 0
            elif name in self._clean:
                self._clean[name] += 1
                if self._clean[name] >= self.clear_frames:
                    del self._clean[name]
                    fired = self._fired.pop(name, frame_id)
                    events.append(_event(name, "resolved", frame_id, at, "info", fired=fired))
        return events

    def state(self) -> dict[str, list[int | str]]:
        return {name: [n, self._fired.get(name, "")] for name, n in self._clean.items()}

    @classmethod
    def from_state(cls, state: dict[str, list], clear_frames: int = 10) -> HealthEpisodes:
        episodes = cls(clear_frames)
        episodes._clean = {name: int(n) for name, (n, _) in state.items()}
        episodes._fired = {name: str(fired) for name, (_, fired) in state.items() if fired}
        return episodes


def _event(
    name: str,
    status: str,
    frame_id: str,
    at: float,
    severity: str,
    *,
    fired: str,
    after: dict[str, float] | None = None,
) -> DriftEvent:
    firing = status == "firing"
    # fired_frame_id ties a resolution to its firing: both get the same alert id.
    return DriftEvent(
        metric=name,
        detector=HEALTH_DETECTOR,
        status=status,
        frame_id=frame_id,
        at=at,
        change_point=frame_id if firing else None,
        before={},
        after=after or {},
        example_frame_ids=[frame_id] if firing else [],
        severity=severity,
        fired_frame_id=fired,
    )
