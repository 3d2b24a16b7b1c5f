"""`framegate.alerts`: drift and camera-health alerts for operators."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from framegate.schemas.base import Identifier, Message, Timestamp
from framegate.schemas.checks import Severity


class Alert(Message):
    """A change an operator should know about; ``camera_id`` is null for a fleet-wide one.

    ``status`` is ``firing`` when the change is detected and ``resolved`` when the statistic
    is back at its reference; both carry the same ``alert_id``.
    """

    alert_id: Identifier
    kind: Literal["drift", "camera_health"]
    status: Literal["firing", "resolved"] = "firing"
    camera_id: str | None
    metric: str
    detector: str
    at: Timestamp
    frame_id: str | None = None
    change_point: str | None = None
    before: dict[str, float] = Field(default_factory=dict)
    after: dict[str, float] = Field(default_factory=dict)
    example_frame_ids: list[str] = Field(default_factory=list)
    severity: Severity = "warning"
    detail: str = ""
