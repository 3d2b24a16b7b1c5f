"""The contract: pydantic models of every message framegate reads or writes, and its settings.

Producers and consumers can import this package alone; it depends on pydantic only.
"""

from schemas.alerts import Alert
from schemas.checks import Check, Severity
from schemas.deadletter import DeadLetter, DeadLetterReason
from schemas.errors import FramegateError, InvalidMessage
from schemas.frames import Annotation, Frame, FrameImage
from schemas.predictions import Detection, Prediction
from schemas.reports import Issue, QualityReport, RelabelRequest

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
