"""Camera-health episodes: a broken camera (frozen, obstructed, moved) is one alert, not one
per frame, and its resolution follows a run of clean frames."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from framegate.schemas import Check, Issue
from framegate.schemas.checks import Severity

#: Checks that say the camera itself is broken; they raise ``camera_health`` alerts.
HEALTH_CHECKS = (Check.FROZEN, Check.OBSTRUCTED, Check.CAMERA_MOVED)
#: A moved camera is one event (its new view becomes the reference); nothing to resolve.
ONE_OFF = (Check.CAMERA_MOVED,)
#: The ``detector`` a camera-health alert names: the frame checks themselves.
HEALTH_DETECTOR = "check"


@dataclass(frozen=True)
class HealthEvent:
    """One camera-health transition: a broken-camera check firing, or resolved.

    ``frame_id``/``at`` are those of the frame at which the transition was decided;
    ``fired_frame_id`` names the frame that opened the episode (the same frame on a
    firing), so a firing and its resolution share one alert id.
    """

    check: Check
    status: Literal["firing", "resolved"]
    frame_id: str
    at: float
    severity: Severity
    fired_frame_id: str
    score: float | None = None  # the firing issue's score; None on a resolution

    @property
    def alert_key(self) -> str:
        """Deterministic key shared by a firing and its resolution: hashed into ``alert_id``."""
        return f"{self.check.value}|{HEALTH_DETECTOR}|{self.fired_frame_id or self.frame_id}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document; :meth:`from_dict` reads it back."""
        return {
            "check": self.check.value,
            "status": self.status,
            "frame_id": self.frame_id,
            "at": self.at,
            "severity": self.severity,
            "fired_frame_id": self.fired_frame_id,
            "score": self.score,
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> HealthEvent:
        return cls(**{**document, "check": Check(document["check"])})


class HealthEpisodes:
    """Open episodes of one camera and the clean frames seen since each last fired.

    Parameters
    ----------
    clear_frames
        Clean frames in a row that resolve an episode.

    Examples
    --------
    >>> from framegate.detectors.issues import build_issue
    >>> h = HealthEpisodes(clear_frames=2)
    >>> frozen = [build_issue(Check.FROZEN, 0.9, 0.5, "still", critical_at=0.8)]
    >>> [(e.status, e.frame_id) for i, issues in enumerate([frozen, frozen, [], []])
    ...  for e in h.update(issues, frame_id=f"f{i}", at=float(i))]
    [('firing', 'f0'), ('resolved', 'f3')]
    """

    def __init__(self, clear_frames: int = 10) -> None:
        if clear_frames < 1:
            raise ValueError(f"clear_frames must be at least 1, got {clear_frames}")
        self.clear_frames = clear_frames
        self._clean_frames: dict[str, int] = {}  # open check -> clean frames since it fired
        self._opened_by: dict[str, str] = {}  # open check -> frame that opened the episode

    def update(self, issues: Iterable[Issue], *, frame_id: str, at: float) -> list[HealthEvent]:
        """The transitions this frame causes: firing on the first frame with a health issue,
        resolved after ``clear_frames`` clean frames in a row."""
        found = {issue.check: issue for issue in issues if issue.check in HEALTH_CHECKS}
        events = []
        for check in HEALTH_CHECKS:
            name = check.value
            if check in found:
                if name not in self._clean_frames:
                    issue = found[check]
                    events.append(
                        HealthEvent(
                            check,
                            "firing",
                            frame_id,
                            at,
                            issue.severity,
                            fired_frame_id=frame_id,
                            score=issue.score,
                        )
                    )
                    if check not in ONE_OFF:
                        self._opened_by[name] = frame_id
                if check not in ONE_OFF:
                    self._clean_frames[name] = 0
            elif name in self._clean_frames:
                self._clean_frames[name] += 1
                if self._clean_frames[name] >= self.clear_frames:
                    del self._clean_frames[name]
                    fired = self._opened_by.pop(name, frame_id)
                    events.append(
                        HealthEvent(check, "resolved", frame_id, at, "info", fired_frame_id=fired)
                    )
        return events

    def state(self) -> dict[str, dict[str, Any]]:
        """JSON-serialisable state; restore with :meth:`from_state`."""
        return {"clean_frames": dict(self._clean_frames), "opened_by": dict(self._opened_by)}

    @classmethod
    def from_state(cls, state: Mapping[str, Any], clear_frames: int = 10) -> HealthEpisodes:
        episodes = cls(clear_frames)
        episodes._clean_frames = {str(k): int(n) for k, n in state["clean_frames"].items()}
        episodes._opened_by = {str(k): str(frame) for k, frame in state["opened_by"].items()}
        return episodes
