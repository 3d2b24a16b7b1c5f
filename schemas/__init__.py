"""The contract: pydantic models of every message framegate reads or writes, and its settings.

Producers and consumers can import this package alone; it depends on pydantic only.
"""

from framegate.schemas.alerts import Alert
from framegate.schemas.checks import Check, Severity
from framegate.schemas.deadletter import DeadLetter, DeadLetterReason
from framegate.schemas.errors import FramegateError, InvalidMessage
from framegate.schemas.frames import Annotation, Frame, FrameImage
from framegate.schemas.predictions import Detection, Prediction
from framegate.schemas.reports import Issue, QualityReport, RelabelRequest

SCHEMA_VERSION = 1

__all__ = [
    "SCHEMA_VERSION",
    "Alert",
    "Annotation",
    "Check",
    "DeadLetter",
    "DeadLetterReason",
    "Detection",
    "Frame",
    "FrameImage",
    "FramegateError",
    "InvalidMessage",
    "Issue",
    "Prediction",
    "QualityReport",
    "RelabelRequest",
    "Severity",
]
