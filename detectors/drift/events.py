"""What a drift monitor reports: a change firing, or a statistic back at its reference."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from framegate.schemas.checks import Severity


@dataclass(frozen=True)
class DriftEvent:
    """One firing or resolved transition of one statistic (of one camera, or the fleet).

    ``before``/``after`` are ``{"mean", "std", "n"}`` of the raw statistic: the reference,
    and the frames since the estimated change point. ``frame_id``/``at`` are those of the
    frame at which the transition was decided.
    """

    metric: str
    detector: str
    status: Literal["firing", "resolved"]
    frame_id: str
    at: float
    change_point: str | None
    before: dict[str, float]
    after: dict[str, float]
    example_frame_ids: list[str] = field(default_factory=list)
    severity: Severity = "warning"
    direction: Literal["up", "down"] = "up"
    camera_ids: tuple[str, ...] = ()
    fired_frame_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document; :meth:`from_dict` reads it back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> DriftEvent:
        return cls(**{**document, "camera_ids": tuple(document.get("camera_ids", ()))})

    @property
    def alert_key(self) -> str:
        """Deterministic key shared by a firing and its resolve: hash it into ``alert_id``."""
        return f"{self.metric}|{self.detector}|{self.fired_frame_id or self.frame_id}"


def severity_for(shift_sigma: float, warning: float, critical: float) -> Severity:
    """Severity from the size of the change in reference standard deviations."""
    s = abs(shift_sigma)
    if s >= critical:
        return "critical"
    if s >= warning:
        return "warning"
    return "info"
