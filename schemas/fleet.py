"""The internal ``fleet`` topic: each camera's drift summary, for the one fleet monitor.

A summary carries the camera's drift transitions and, separately, its camera-health
transitions: the fleet monitor's camera vote counts both (many cameras frozen at once is a
fleet event), its pooled chart only the standardised drift values.

Every gate batch sends one :class:`FleetSummary` per camera under a single key, so one
worker sees the whole fleet whatever the number of workers. Internal, but still a message
on a topic: typed and validated like every other.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from framegate.schemas.base import Identifier, Message, Part
from framegate.schemas.checks import Check, Severity


class DriftTransition(Part):
    """One camera's drift statistic firing or resolving (``DriftEvent`` in the detectors)."""

    metric: str
    detector: str
    status: Literal["firing", "resolved"]
    frame_id: str
    at: float
    change_point: str | None
    before: dict[str, float]
    after: dict[str, float]
    example_frame_ids: list[str] = Field(default_factory=list)
    severity: Severity = "warning"
    direction: Literal["up", "down"] = "up"
    camera_ids: tuple[str, ...] = ()
    fired_frame_id: str = ""


class HealthTransition(Part):
    """One camera-health episode firing or resolving (``HealthEvent`` in the detectors)."""

    check: Check
    status: Literal["firing", "resolved"]
    frame_id: str
    at: float
    severity: Severity
    fired_frame_id: str
    score: float | None = None


class FleetSummary(Message):
    """A camera's standardised drift values since its last summary, and its transitions."""

    camera_id: Identifier
    at: float = Field(description="capture time (epoch s) of the newest frame summarised")
    zscores: dict[str, tuple[float, int]] = Field(
        description="statistic -> (sum of standardised values, count)"
    )
    events: list[DriftTransition] = Field(default_factory=list)
    health: list[HealthTransition] = Field(
        default_factory=list, description="camera-health transitions, for the camera vote"
    )
