"""`framegate.quality` and `framegate.relabel`: what framegate finds per frame."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from framegate.schemas.base import Identifier, Message, Part, Timestamp
from framegate.schemas.checks import CameraKind, Check, Severity
from framegate.schemas.frames import Annotation, FrameImage
from framegate.schemas.predictions import Prediction


class Issue(Part):
    """One check that fired: ``score`` in [0, 1] (1 = certainly bad) against ``threshold``."""

    check: Check
    score: Annotated[float, Field(ge=0.0, le=1.0)]
    threshold: float
    severity: Severity
    detail: str


class QualityReport(Message):
    """One report per frame: every metric measured and every issue found.

    ``camera_kind`` is the kind the camera was judged as (None until it is recognised, and
    in reports written before it existed).
    """

    frame_id: Identifier
    camera_id: Identifier
    captured_at: Timestamp
    processed_at: datetime
    width: int
    height: int
    metrics: dict[str, float]
    issues: list[Issue] = Field(default_factory=list)
    camera_kind: CameraKind | None = None


class RelabelRequest(Message):
    """A frame a person (or a relabeling service) should look at, and why.

    ``request_id`` is derived from the frame alone, so a redelivered frame yields the same id
    and consumers can de-duplicate.
    """

    request_id: Identifier
    frame_id: Identifier
    camera_id: Identifier
    captured_at: Timestamp
    image: FrameImage
    reasons: list[Issue]
    priority: Annotated[float, Field(ge=0.0, le=1.0)]
    prediction: Prediction | None = None
    annotations: list[Annotation] = Field(
        default_factory=list, description="the labels the camera sent with the frame"
    )
