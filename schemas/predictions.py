"""`framegate.predictions`: the fleet model's output for one frame."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from framegate.schemas.base import Box, Identifier, Message, Part

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class Detection(Part):
    label: Identifier
    score: Probability
    box: Box


class Prediction(Message):
    """Either ``classes`` (label -> probability) or ``detections``, never both."""

    frame_id: Identifier
    camera_id: Identifier
    model: Identifier
    classes: dict[str, Probability] | None = None
    detections: list[Detection] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Prediction:
        if (self.classes is None) == (self.detections is None):
            raise ValueError("a prediction carries exactly one of 'classes' or 'detections'")
        if self.classes is not None and not self.classes:
            raise ValueError("'classes' is empty")
        return self
