"""`framegate.quality` and `framegate.relabel`: what framegate finds per frame."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from pydantic import Field

from framegate.schemas.base import Identifier, Message, Part, Timestamp
from framegate.schemas.checks import CameraKind, Check, Severity
from framegate.schemas.frames import Annotation, FrameImage
from framegate.schemas.predictions import Prediction


class Issue(Part):
    """One check that fired: ``score`` in [0, 1] (1 = certainly bad) against ``threshold``.

    ``explained_by`` names another issue of the same frame whose condition makes this check
    fire (a dark frame also has low contrast): evidence, not a second fault.
    """

    check: Check
    score: Annotated[float, Field(ge=0.0, le=1.0)]
    threshold: float
    severity: Severity
    detail: str
    explained_by: Check | None = Field(
        None, description="the check of this frame's issue that explains this one, if any"
    )


def unexplained(issues: Sequence[Issue]) -> list[Issue]:
    """The issues no other issue of their frame explains: what metrics, shares, relabel
    reasons and camera-health episodes count."""
    return [issue for issue in issues if issue.explained_by is None]


class QualityReport(Message):
    """One report per frame: every metric measured and every issue found.

    ``camera_kind`` is the kind the camera was judged as (None until it is recognised, and
    in reports written before it existed). ``cause`` is the check of the issue that names
    what happened to the frame (None without issues, and in reports written before it
    existed); the issues it or another issue explains carry ``explained_by``.
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
    cause: Check | None = Field(None, description="the check of the issue that is the cause")


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
