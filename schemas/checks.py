"""One vocabulary of checks: the stable names that appear in reports, metrics and policies."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Severity = Literal["info", "warning", "critical"]
#: What kind of camera a stream comes from (recognised from the stream, or pinned by policy):
#: a fixed view, a patrol camera touring presets, a moving camera (vehicle, body, drone), or
#: a snapshot camera sending unrelated pictures.
CameraKind = Literal["fixed", "patrol", "moving", "snapshot"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}


class Check(StrEnum):
    """Every check framegate can report. The values are part of the public contract."""

    # image
    DARK = "dark"
    BRIGHT = "bright"
    LOW_CONTRAST = "low_contrast"
    BLURRY = "blurry"
    NOISY = "noisy"
    LOW_INFORMATION = "low_information"
    GRAYSCALE = "grayscale"
    ODD_SIZE = "odd_size"
    ODD_ASPECT_RATIO = "odd_aspect_ratio"
    EXPOSURE_CLIPPED = "exposure_clipped"
    # sequence, per camera
    EXACT_DUPLICATE = "exact_duplicate"
    NEAR_DUPLICATE = "near_duplicate"
    FROZEN = "frozen"
    CAMERA_MOVED = "camera_moved"
    OBSTRUCTED = "obstructed"
    DROPPED_FRAMES = "dropped_frames"
    # labels and predictions
    ANNOTATION_NEAR_BORDER = "annotation_near_border"
    TINY_BOX = "tiny_box"
    DUPLICATE_BOX = "duplicate_box"
    LOW_CONFIDENCE = "low_confidence"
    HIGH_ENTROPY = "high_entropy"
    LABEL_DISAGREEMENT = "label_disagreement"
    MISSED_OBJECT = "missed_object"
    CLASS_SWAP = "class_swap"
    OUTLIER = "outlier"
