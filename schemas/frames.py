"""`framegate.frames`: what a camera publishes."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from framegate.schemas.base import Box, Identifier, Message, Part, Timestamp

ImageEncoding = Literal["jpeg", "png", "webp", "bmp", "tiff"]


class FrameImage(Part):
    """The picture: inline base64 ``data`` or a ``uri`` to fetch it from, never both."""

    encoding: ImageEncoding = "jpeg"
    data: str | None = None
    uri: str | None = Field(default=None, max_length=2048)

    @model_validator(mode="after")
    def _one_source(self) -> FrameImage:
        if (self.data is None) == (self.uri is None):
            raise ValueError("image needs exactly one of 'data' (base64) or 'uri'")
        return self

    def inline_bytes(self) -> bytes:
        """The decoded inline bytes; raises ``ValueError`` on malformed base64."""
        if self.data is None:
            raise ValueError("image has no inline data")
        try:
            return base64.b64decode(self.data, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"image.data is not valid base64: {exc}") from exc


class Annotation(Part):
    """A ground-truth label: a pixel box ``[x1, y1, x2, y2]``, or no box for the whole image."""

    label: Identifier
    box: Box | None = None

    @field_validator("box")
    @classmethod
    def _ordered(cls, box: Box | None) -> Box | None:
        if box is not None and not (box[2] > box[0] and box[3] > box[1]):
            raise ValueError(f"box must be [x1, y1, x2, y2] with x2 > x1 and y2 > y1, got {box}")
        return box


class Frame(Message):
    """One frame from one camera, keyed by ``camera_id`` on the topic."""

    frame_id: Identifier
    camera_id: Identifier
    captured_at: Timestamp
    image: FrameImage
    annotations: list[Annotation] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
